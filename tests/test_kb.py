"""The knowledge base as agents meet it: suggested on a new ticket, searched with /ticket kb, put into replies.

The helpdesk runs on the console surface (ThreadSync posting the threads, as on Slack and Discord), with real
mail in and the outbox's rows out, on SQLite and PostgreSQL; Slack and Discord then show the `kb` verb once each
through their fakes. The index and the folder's re-reading are tested on their own first: they touch no store.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.domain.kb_article import parse_article, plain_text
from bot.domain.kb_index import KbIndex, Prepared
from bot.domain.model import MessageKind
from bot.domain.status import Status
from bot.handlers import chat_intake, kb
from bot.handlers.context import Actor
from bot.handlers.kb_library import Library
from tests.support.console_desk import Desk, console_desk
from tests.support.db import Database
from tests.support.discord_bot import ANA as DISCORD_ANA
from tests.support.discord_bot import MIA, running_discord_bot
from tests.support.mails import deliver, messages, outbox, parse_sent, raw_mail, text_body
from tests.support.slack_bot import block_text, eventually, running_bot

ROOT = Path(__file__).resolve().parents[1]

PRINTER = """---
title: Setting up the office printer
tags: [printer, printing, hardware]
language: en
url: https://help.example.com/kb/printer-setup
---
# Setting up the office printer

Connect to the office Wi-Fi first. On **Windows** open *Settings → Printers* and add `PRN-FLOOR2`.

- Check the display for a paper jam.
- See [the driver page](https://help.example.com/drivers) for macOS.
"""
TULOSTIN = """---
title: Toimiston tulostimen käyttöönotto
tags: [tulostin, tulostus]
language: fi
url: https://help.example.com/fi/kb/tulostin
---
Yhdistä toimiston verkkoon ja lisää tulostin PRN-FLOOR2 asetuksista. Tarkista paperitukos.
"""
PASSWORD = """---
title: Resetting your password
tags: password, account, login
language: en
---
Go to https://id.example.com/reset and enter your work email address. The link is valid for 30 minutes.
"""
VPN = """---
title: Connecting to the VPN
tags: [vpn, remote]
language: en
url: https://help.example.com/kb/vpn
---
Install WireGuard and import your configuration. The printer on your floor also needs the VPN from home.
"""

WORKFLOW = """
default_team = "support"

[[teams]]
name = "support"
members = ["U0ANA"]

[roles]
light = ["U0LEE"]
"""

ANA, LEE, EVE = Actor("U0ANA", "Ana"), Actor("U0LEE", "Lee"), Actor("U0EVE", "Eve")


def write_articles(folder: Path, **articles: str) -> Path:
    for name, text in articles.items():
        path = folder / f"{name}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


def index_of(**articles: str) -> KbIndex:
    return KbIndex.build(Prepared.of(parse_article(slug, text)) for slug, text in articles.items())


# --- the articles and the index, without a helpdesk ----------------------------------------------------


def test_an_article_is_read_from_its_front_matter_and_its_text_mailed_plain() -> None:
    article = parse_article("printer-setup", PRINTER)
    assert (article.title, article.tags, article.language) == (
        "Setting up the office printer", ("printer", "printing", "hardware"), "en")
    assert article.url == "https://help.example.com/kb/printer-setup"
    assert parse_article("password-reset", PASSWORD).tags == ("password", "account", "login")
    text = plain_text(article.body)
    assert "---" not in text and "title:" not in text and "**" not in text and "`" not in text
    assert text.startswith("Setting up the office printer\n")
    assert "On Windows open Settings → Printers and add PRN-FLOOR2." in text
    assert "- See the driver page (https://help.example.com/drivers) for macOS." in text


def test_the_shipped_example_articles_are_all_read(tmp_path: Path) -> None:
    index = Library(ROOT / "config" / "kb", rescan_seconds=0).rescan(force=True)
    assert len(index) >= 4
    assert {a.language for a in (index.get(s) for s in index.docs) if a} == {"en", "fi"}


def test_a_word_in_the_title_ranks_above_the_same_word_in_the_text() -> None:
    index = index_of(**{"printer-setup": PRINTER, "vpn": VPN, "password-reset": PASSWORD})
    assert [h.article.slug for h in index.search("printer")] == ["printer-setup", "vpn"]
    assert [h.article.slug for h in index.search("vpn")][0] == "vpn"
    # A longer form of the word finds the article too (its prefix), and nothing matches nothing.
    assert [h.article.slug for h in index.search("printers")][0] == "printer-setup"
    assert index.search("lunch menu") == []
    hit = index.search("paper jam")[0]
    assert hit.article.slug == "printer-setup" and hit.snippet("paper jam") == "- Check the display for a paper jam."


async def test_the_folder_is_read_again_when_a_file_is_added_changed_or_removed(tmp_path: Path) -> None:
    folder = write_articles(tmp_path / "kb", **{"it/printer-setup": PRINTER})
    library = Library(folder, rescan_seconds=0)
    assert [h.article.slug for h in (await library.index()).search("vpn")] == []
    write_articles(folder, **{"net/vpn": VPN})  # added, in a subfolder of its own
    assert [h.article.slug for h in (await library.index()).search("wireguard")] == ["vpn"]
    reads = library.scans
    await library.index()
    assert library.scans == reads, "nothing changed: nothing read again"
    changed = VPN.replace("WireGuard", "OpenVPN")
    (folder / "net" / "vpn.md").write_text(changed, encoding="utf-8")
    os.utime(folder / "net" / "vpn.md", ns=(1, 1))  # a changed time even on a coarse file system clock
    index = await library.index()
    assert index.search("wireguard") == [] and [h.article.slug for h in index.search("openvpn")] == ["vpn"]
    (folder / "it" / "printer-setup.md").unlink()
    assert (await library.index()).get("printer-setup") is None
    (folder / "broken.md").write_text("---\ntitle: [unclosed\n---\ntext\n", encoding="utf-8")
    assert [*(await library.index()).docs] == ["vpn"], "a file that is not an article is left out"


async def test_the_folder_is_not_looked_at_again_before_its_time(tmp_path: Path) -> None:
    now = [100.0]
    folder = write_articles(tmp_path / "kb", **{"vpn": VPN})
    library = Library(folder, rescan_seconds=10, monotonic=lambda: now[0])
    assert len(await library.index()) == 1
    write_articles(folder, **{"printer-setup": PRINTER})
    now[0] += 5
    assert len(await library.index()) == 1
    now[0] += 5
    assert len(await library.index()) == 2


def test_suggestions_need_a_good_fit_and_prefer_the_mails_language() -> None:
    index = index_of(**{"printer-setup": PRINTER, "tulostin": TULOSTIN, "vpn": VPN, "password-reset": PASSWORD})
    english = index.suggest("Printer not printing\nThe printer on floor 2 shows a paper jam.", language="en")
    assert [h.article.slug for h in english] == ["printer-setup"]
    finnish = index.suggest("Tulostin ei tulosta\nHei, tulostin näyttää paperitukosta.", language="fi")
    assert [h.article.slug for h in finnish][0] == "tulostin"
    assert index.suggest("Lunch on Friday\nWhat is on the menu at the office party?", language="en") == []
    # A word of the text alone (the VPN article mentions printers) is no fit.
    assert "vpn" not in [h.article.slug for h in english]


# --- on a helpdesk -------------------------------------------------------------------------------------


@pytest.fixture
async def desk(database: Database, tmp_path: Path) -> AsyncIterator[Desk]:
    folder = write_articles(tmp_path / "kb", **{"it/printer-setup": PRINTER, "it/tulostin": TULOSTIN,
                                                "it/password-reset": PASSWORD, "net/vpn": VPN})
    async with console_desk(database, tmp_path, WORKFLOW) as d:
        d.core.ctx.config = dataclasses.replace(d.core.ctx.config, kb_dir=str(folder), kb_rescan_seconds=0,
                                                kb_suggestions=3)
        yield d


async def mail(desk: Desk, raw: bytes) -> int:
    number = (await deliver(desk.core, raw)).ticket_number
    assert number is not None
    await desk.settled()
    return number


async def test_a_new_ticket_from_mail_shows_the_articles_that_fit_once_and_mails_nothing(desk: Desk) -> None:
    raw = raw_mail(subject="Printer not printing", body="Hi, the printer on floor 2 says paper jam. Thanks, Mia")
    n = await mail(desk, raw)
    thread = desk.surface.thread(n)
    [suggested] = [t for t in thread if kb.SUGGESTION_HEADER in t]
    assert thread.index(suggested) == 1, "right after the customer's mail"
    assert "Setting up the office printer: https://help.example.com/kb/printer-setup" in suggested
    assert ":kb:printer-setup" in suggested and "Resetting your password" not in suggested
    # The same mail delivered again (a retried fetch) opens nothing and notes nothing.
    assert (await deliver(desk.core, raw)).action == "duplicate"
    await desk.sync.sweep()
    await desk.settled()
    assert [t for t in desk.surface.thread(n) if kb.SUGGESTION_HEADER in t] == [suggested]
    stored = await messages(desk.core, n)
    assert [m.kind for m in stored] == [MessageKind.INBOUND, MessageKind.SYSTEM]
    assert stored[1].author_label == "Tiketti" and stored[1].author_agent_id is None
    assert [m.kind for m in await outbox(desk.core, n)] == ["ack"], "a suggestion is never mailed"
    async with desk.core.ctx.uow() as uow:
        ticket = await uow.tickets.get(n)
    assert ticket is not None and ticket.status == Status.NEW and ticket.first_response_at is None


async def test_a_finnish_mail_is_offered_the_finnish_article_first(desk: Desk) -> None:
    n = await mail(desk, raw_mail(subject="Tulostin ei tulosta",
                                  body="Hei, tulostin ei tulosta ja näytössä on paperitukos. Voitteko auttaa?"))
    [suggested] = [t for t in desk.surface.thread(n) if kb.SUGGESTION_HEADER in t]
    assert "Toimiston tulostimen käyttöönotto: https://help.example.com/fi/kb/tulostin" in suggested


async def test_a_mail_no_article_fits_gets_no_suggestion(desk: Desk) -> None:
    n = await mail(desk, raw_mail(subject="Lunch on Friday", body="What is on the menu at the office party?"))
    assert [m.kind for m in await messages(desk.core, n)] == [MessageKind.INBOUND]
    assert not [t for t in desk.surface.thread(n) if kb.SUGGESTION_HEADER in t]


async def test_a_customers_direct_message_that_opens_a_ticket_is_offered_articles_too(desk: Desk) -> None:
    msg = chat_intake.ChatMessageIn(platform="discord", user_id="4242", user_name="Mia", dm_channel="900",
                                    message_id="m1", text="My password expired and I cannot log in")
    opened = await chat_intake.receive_chat_message(desk.core.ctx, msg)
    assert opened.action == "created" and opened.ticket_number is not None
    await desk.settled()
    [suggested] = [t for t in desk.surface.thread(opened.ticket_number) if kb.SUGGESTION_HEADER in t]
    assert "Resetting your password (:kb-text:password-reset)" in suggested, "no url: its text can be inserted"
    # Their next message continues the ticket: nothing suggested again.
    again = await chat_intake.receive_chat_message(desk.core.ctx, dataclasses.replace(msg, message_id="m2",
                                                                                      text="Password still fails"))
    assert again.action == "appended"
    kinds = [m.kind for m in await messages(desk.core, opened.ticket_number)]
    assert kinds == [MessageKind.INBOUND, MessageKind.SYSTEM, MessageKind.INBOUND]


async def test_a_knowledge_base_that_fails_costs_the_suggestion_not_the_mail(
        desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("index broken")
    monkeypatch.setattr(KbIndex, "suggest", broken)  # a fault to inject: nothing real breaks this way on demand
    n = await mail(desk, raw_mail(subject="Printer not printing", body="The printer shows a paper jam."))
    assert [m.kind for m in await messages(desk.core, n)] == [MessageKind.INBOUND]
    assert [m.kind for m in await outbox(desk.core, n)] == ["ack"]


async def test_an_empty_knowledge_base_says_where_articles_go(desk: Desk, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    desk.core.ctx.config = dataclasses.replace(desk.core.ctx.config, kb_dir=str(tmp_path / "empty"))
    said = await desk.type(ANA, "/ticket kb printer")
    assert "the knowledge base has no articles yet: add Markdown files to" in said and "empty" in said


async def test_kb_lists_matches_with_how_to_insert_them_for_agents_and_light_agents(desk: Desk) -> None:
    said = await desk.type(ANA, "/ticket kb printer")
    assert "Knowledge base: printer (2)" in said
    assert said.index("Setting up the office printer") < said.index("Connecting to the VPN"), "title beats text"
    assert "https://help.example.com/kb/printer-setup" in said and ":kb:printer-setup" in said
    assert ":kb-text:printer-setup" in said
    assert "Connecting to the VPN" in await desk.type(LEE, "/ticket kb vpn")
    assert "no article matches" in await desk.type(ANA, "/ticket kb lunch menu")
    refused = await desk.type(EVE, "/ticket kb printer")
    assert "only the helpdesk's agents can search the knowledge base" in refused
    assert "Setting up" not in refused


async def test_a_reply_puts_in_an_articles_link_or_text_and_an_unknown_one_sends_nothing(desk: Desk) -> None:
    n = await mail(desk, raw_mail(subject="Two things", body="My password expired, and the printer?"))
    before = len(await outbox(desk.core, n))
    said = await desk.type(ANA, f"/ticket reply {n} See :kb:nope for that.")
    assert "no knowledge-base article 'nope'" in said
    said = await desk.type(ANA, f"/ticket reply {n} Here: :kb:password-reset")
    assert "no public link" in said and ":kb-text:password-reset" in said
    assert len(await outbox(desk.core, n)) == before, "nothing queued for a refused reply"
    await desk.type(ANA, f"/ticket reply {n} For the printer: :kb:printer-setup\n\n:kb-text:password-reset")
    [sent] = [m for m in await outbox(desk.core, n) if m.kind == "reply"]
    body = text_body(parse_sent(sent.raw))
    assert "For the printer: Setting up the office printer: https://help.example.com/kb/printer-setup" in body
    assert "Go to https://id.example.com/reset and enter your work email address." in body
    assert ":kb" not in body and "title:" not in body


# --- Slack and Discord: the kb verb, and the suggestion in a ticket's thread --------------------------


PRINTER_MAIL = {"subject": "Printer not printing", "body": "The printer on floor 2 shows a paper jam."}


async def test_slack_shows_the_suggestion_in_the_thread_and_answers_kb_to_the_caller_alone(
        database: Database, tmp_path: Path) -> None:
    folder = write_articles(tmp_path / "kb", **{"printer-setup": PRINTER, "vpn": VPN})
    async with running_bot(database, tmp_path, kb_dir=folder, kb_suggestions=3) as bot:
        number = await bot.mail(raw_mail(**PRINTER_MAIL))
        await bot.settled()
        root = await bot.root_of(number)
        shown = [f"{p.text}\n{block_text(p.blocks)}" for p in bot.thread(root)]
        [suggested] = [t for t in shown if kb.SUGGESTION_HEADER in t]
        assert "https://help.example.com/kb/printer-setup" in suggested and "Connecting to the VPN" not in suggested
        await eventually(lambda: bot.sink.received)  # the acknowledgement
        await bot.settled()
        assert len(bot.sink.received) == 1, "the acknowledgement alone: a suggestion is never mailed"

        before = len(bot.slack.responses)
        reply = await bot.send(bot.requests.command("kb printer", user="U0ANA"))
        assert reply.status == 200
        (answer, *_) = await eventually(lambda: bot.slack.responses[before:])
        assert answer["response_type"] == "ephemeral"
        listed = block_text(answer["blocks"])
        assert listed.index("Setting up the office printer") < listed.index("Connecting to the VPN")
        assert "https://help.example.com/kb/printer-setup" in listed and ":kb-text:printer-setup" in listed


async def test_discord_shows_the_suggestion_in_the_thread_and_answers_kb_to_the_caller_alone(
        database: Database, tmp_path: Path) -> None:
    folder = write_articles(tmp_path / "kb", **{"printer-setup": PRINTER, "vpn": VPN})
    async with running_discord_bot(database, tmp_path, kb_dir=folder, kb_suggestions=3) as bot:
        number = await bot.mail(raw_mail(**PRINTER_MAIL))
        await bot.settled()
        thread = await bot.thread_of(number)
        shown = [json.dumps(m, ensure_ascii=False) for m in bot.thread_messages(thread)]
        [suggested] = [t for t in shown if kb.SUGGESTION_HEADER in t]
        assert "https://help.example.com/kb/printer-setup" in suggested and "Connecting to the VPN" not in suggested

        response = await bot.slash("kb", DISCORD_ANA, words="printer")
        said = response.followups[0]["content"] if response.kind == 5 else response.data.get("content", "")
        assert response.ephemeral or response.data.get("flags", 0) & 64
        assert said.index("Setting up the office printer") < said.index("Connecting to the VPN")
        assert ":kb:printer-setup" in said


async def test_a_discord_dm_ticket_shows_the_suggestion_to_the_team_never_to_the_customer(
        database: Database, tmp_path: Path) -> None:
    folder = write_articles(tmp_path / "kb", **{"printer-setup": PRINTER, "vpn": VPN})
    async with running_discord_bot(database, tmp_path, kb_dir=folder, kb_suggestions=3) as bot:
        dm = bot.discord.dm_channel(MIA)
        await bot.say(dm["id"], MIA, "The printer shows a paper jam and prints nothing")
        [thread] = await eventually(lambda: bot.discord.threads())
        await bot.settled()
        team = [json.dumps(m, ensure_ascii=False) for m in bot.thread_messages(thread)]
        assert len([t for t in team if kb.SUGGESTION_HEADER in t]) == 1
        to_mia = [json.dumps(m, ensure_ascii=False) for m in bot.discord.in_channel(dm["id"]) if m["author"]["bot"]]
        assert len(to_mia) == 1 and not [t for t in to_mia if "help.example.com" in t or "Knowledge" in t]


async def test_discord_kb_in_a_tickets_thread_offers_buttons_that_open_the_reply_form_with_the_article(
        database: Database, tmp_path: Path) -> None:
    folder = write_articles(tmp_path / "kb", **{"printer-setup": PRINTER, "password-reset": PASSWORD})
    async with running_discord_bot(database, tmp_path, kb_dir=folder) as bot:
        number = await bot.mail(raw_mail(**PRINTER_MAIL))
        await bot.settled()
        thread = await bot.thread_of(number)
        outside = await bot.slash("kb", DISCORD_ANA, words="printer")  # in the tickets channel: no ticket to reply to
        assert not outside.followups[0].get("components")
        found = await bot.slash("kb", DISCORD_ANA, channel=thread, words="printer password")
        buttons = {c["label"]: c["custom_id"] for row in found.followups[0]["components"] for c in row["components"]}
        assert set(buttons) == {"Reply with link: Setting up the office printer",
                                "Reply with text: Setting up the office printer",
                                "Reply with text: Resetting your password"}, "no url: no link button"
        form = await bot.press(found.followups[0], DISCORD_ANA,
                               custom_id=buttons["Reply with link: Setting up the office printer"])
        filled = form.data["components"][0]["components"][0]["value"]
        assert form.kind == 9 and filled == "Setting up the office printer: https://help.example.com/kb/printer-setup"
        texts = await bot.press(found.followups[0], DISCORD_ANA, custom_id=buttons["Reply with text: Resetting your password"])
        assert texts.data["components"][0]["components"][0]["value"].startswith("Go to https://id.example.com/reset")
        await bot.submit_modal(form, DISCORD_ANA, thread, f"Please see {filled}")
        await bot.settled()
        [sent] = await eventually(lambda: [r for r in bot.sink.received if "Please see" in text_body(r.message)])
        assert "Please see Setting up the office printer: https://help.example.com/kb/printer-setup" in text_body(
            sent.message)
