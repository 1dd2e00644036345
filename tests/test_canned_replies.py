"""Canned replies (issue 14, point 1): files with placeholders, in two languages, per team or personal, saved
from chat; sent through the console here (the Slack form and Discord's autocomplete in their own tests below)."""

from __future__ import annotations

import email
import email.policy
import io
from collections.abc import AsyncIterator, Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.console import ConsoleAdapter
from bot.app import Core, build_core
from bot.domain import canned as rules
from bot.domain.inbound import InboundMail
from bot.domain.model import MessageKind
from bot.handlers.context import Actor
from bot.handlers.intake import receive_mail
from tests.conftest import make_settings
from tests.support.db import Database

ANA = Actor("U1", "Ana Agent")  # an agent in no team
BEA = Actor("U2", "Bea Biller")  # billing
MAX = Actor("U9", "Max Manager")
STRANGER = Actor("U7", "Sam Stranger")

WORKFLOW = """
[[teams]]
name = "billing"
members = ["U2"]

[roles]
agents = ["U1"]
managers = ["U9"]
"""

REFUND_EN = """---
title: Our refund policy
tags: [billing, refund]
---
Hi {{ customer.first_name or "there" }},

you can return anything within 30 days (ticket #{{ ticket.number }}, "{{ ticket.subject }}").
{% if sla.first_response_due %}We answer by {{ sla.first_response_due }}.{% endif %}

{{ agent.name }}, {{ helpdesk.name }}
"""

REFUND_FI = """---
title: Palautusehdot
---
Hei{% if customer.first_name %} {{ customer.first_name }}{% endif %},

voit palauttaa tuotteen 30 päivän kuluessa (tiketti #{{ ticket.number }}).

{{ agent.first_name }} / {{ helpdesk.name }}
"""

INVOICE = """---
title: Invoice copy
team: billing
---
Hi {{ customer.first_name or "there" }}, the invoice is attached.
"""

BEAS_OWN = """---
title: Bea's sign-off
owner: U2
---
Thanks, {{ customer.first_name or "there" }}! Bea
"""


def write(folder: Path, name: str, text: str) -> None:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def replies_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "replies"
    write(folder, "refund-policy.md", REFUND_EN)
    write(folder, "refund-policy.fi.md", REFUND_FI)
    write(folder, "invoice-copy.md", INVOICE)
    write(folder, "personal/beas-sign-off.md", BEAS_OWN)
    return folder


@pytest.fixture
async def desk(database: Database, tmp_path: Path, replies_dir: Path) -> AsyncIterator[Core]:
    workflow = tmp_path / "workflow.toml"
    workflow.write_text(WORKFLOW)
    core = await build_core(make_settings(database, tmp_path, workflow_file=workflow, replies_dir=replies_dir),
                            engine=database.engine())
    yield core
    await core.close()


def console(core: Core, actor: Actor) -> tuple[ConsoleAdapter, io.StringIO]:
    out = io.StringIO()
    return ConsoleAdapter(core.ctx, out, actor=actor), out


async def run(core: Core, actor: Actor, *lines: str) -> str:
    adapter, out = console(core, actor)
    await adapter.run_lines(lines)
    return out.getvalue()


def errors(text: str) -> list[str]:
    """Each "✗" error, joined with its continuation lines (the console wraps at 100 columns)."""
    found: list[str] = []
    in_error = False
    for line in text.splitlines():
        if line.startswith("✗"):
            found.append(line)
            in_error = True
        elif in_error and line.startswith("  "):
            found[-1] += " " + line.strip()
        else:
            in_error = False
    return found


async def mail_in(core: Core, n: int, body: str, *, sender: str = "mia@example.com", name: str = "Mia Virtanen",
                  subject: str = "Refund please") -> None:
    await receive_mail(core.ctx, InboundMail(message_id=f"<m{n}@example.com>", subject=subject, from_addr=sender,
                                             from_name=name, to=("support@helpdesk.test",), text=body), source="test")


async def mailed(core: Core, number: int) -> list[str]:
    """The text of each reply queued for the customer of #number, as the mail will carry it."""
    async with core.ctx.uow() as u:
        queued = [m for m in await u.outbox.for_ticket(number) if m.kind == "reply"]
    texts = []
    for m in queued:
        parsed = email.message_from_bytes(m.raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        body = parsed.get_body(("plain",))
        assert body is not None
        texts.append(body.get_content().replace("\r\n", "\n").split("\n\n--\n")[0])  # without our footer
    return texts


async def test_a_canned_reply_is_mailed_in_the_customers_language_with_its_placeholders_filled(desk: Core) -> None:
    await mail_in(desk, 1, "Hei, tilasin kengät mutta ne ovat liian pienet. Voisitteko hyvittää ne? Kiitos")
    await mail_in(desk, 2, "Hello, the shoes I ordered are too small. Could you please refund them? Thanks",
                  sender="john@example.com", name="Smith, John", subject="Shoes")
    await mail_in(desk, 3, "Hi, refund please", sender="noname@example.com", name="", subject="Refund")

    text = await run(desk, ANA, "/ticket reply 1 :refund-policy", "/ticket reply 2 :refund-policy Sorry about that!",
                     "/ticket reply 3 :refund-policy@fi")
    assert not errors(text)
    assert "#1 reply sent to mia@example.com (canned reply :refund-policy, fi)" in text
    assert "#2 reply sent to john@example.com (canned reply :refund-policy, en)" in text

    [finnish] = await mailed(desk, 1)
    assert finnish.startswith("Hei Mia,\n\nvoit palauttaa tuotteen 30 päivän kuluessa (tiketti #1).")
    assert "Ana / Helpdesk" in finnish
    [english] = await mailed(desk, 2)
    assert english.startswith('Hi John,\n\nyou can return anything within 30 days (ticket #2, "Shoes").\n')
    assert "We answer by" not in english, "no SLA configured: the sentence about it is left out, not left empty"
    assert "Ana Agent, Helpdesk\n\nSorry about that!" in english, "what follows the name is added below"
    [asked] = await mailed(desk, 3)
    assert asked.startswith("Hei,\n\nvoit palauttaa"), "asked for Finnish; no name: the greeting still reads well"


async def test_an_unknown_placeholder_is_a_clear_error_and_nothing_is_sent(desk: Core, replies_dir: Path) -> None:
    write(replies_dir, "typo.md", "---\ntitle: Typo\n---\nHi {{ customer.nickname }}!\n")
    write(replies_dir, "deep.md", "---\ntitle: Deep\n---\nAbout {{ ticket.subject.upper_case }}\n")
    await mail_in(desk, 1, "Hello, where is my refund?")

    text = await run(desk, ANA, "/ticket replies", "/ticket reply 1 :typo", "/ticket reply 1 :deep")

    assert "⚠ broken: typo.md — unknown placeholder {{ customer.nickname }}" in text
    [typo, deep] = errors(text)
    assert "the canned reply :typo is broken" in typo and "{{ customer.nickname }}" in typo and "nothing was sent" in typo
    assert "cannot be filled in" in deep and "upper_case" in deep and "nothing was sent" in deep
    assert await mailed(desk, 1) == []
    async with desk.ctx.uow() as u:
        assert [m.kind for m in await u.messages.for_ticket(1)] == [MessageKind.INBOUND]


async def test_the_sandbox_refuses_attribute_tricks(desk: Core, replies_dir: Path) -> None:
    write(replies_dir, "sneaky.md", "---\ntitle: Sneaky\n---\n{{ ''.__class__.__mro__[1].__subclasses__() }}\n")
    write(replies_dir, "sneakier.md", "---\ntitle: Sneakier\n---\n{{ helpdesk.name.__class__ }}\n")
    await mail_in(desk, 1, "Hello")

    text = await run(desk, ANA, "/ticket reply 1 :sneaky", "/ticket reply 1 :sneakier")

    [sneaky, sneakier] = errors(text)
    assert "refused by the sandbox" in sneaky and "__class__" in sneaky
    assert "unsafe" in sneakier or "refused by the sandbox" in sneakier
    assert await mailed(desk, 1) == []


def test_a_template_cannot_reach_python_objects_even_when_rendered_directly() -> None:
    reply = rules.CannedReply("x", "x", "en", "{{ ''.__class__.__mro__ }}", "x.md")
    with pytest.raises(rules.CannedError, match="sandbox"):
        rules.render(reply, {})
    with pytest.raises(rules.CannedError, match="unknown placeholder"):
        rules.parse_reply("y.md", "---\n---\n{{ config }}")


async def test_team_replies_go_to_the_team_and_personal_ones_to_their_owner(desk: Core) -> None:
    await mail_in(desk, 1, "Hello, I need a copy of my invoice")

    ana = await run(desk, ANA, "/ticket replies", "/ticket reply 1 :invoice-copy", "/ticket reply 1 :beas-sign-off")
    bea = await run(desk, BEA, "/ticket replies")
    manager = await run(desk, MAX, "/ticket replies invoice")
    stranger = await run(desk, STRANGER, "/ticket replies", "/ticket replies save mine")

    assert ":refund-policy — Our refund policy (en, fi; everyone)" in ana
    assert "invoice-copy" not in ana.split("> /ticket reply")[0] and "beas-sign-off" not in ana.split("> /ticket reply")[0]
    assert [e for e in errors(ana) if "no canned reply named :invoice-copy" in e]
    assert [e for e in errors(ana) if "no canned reply named :beas-sign-off" in e], "as if it did not exist"
    assert ":invoice-copy — Invoice copy (en; team billing)" in bea and ":beas-sign-off — Bea's sign-off (en; personal)" in bea
    assert ":invoice-copy" in manager and ":refund-policy" not in manager and "beas-sign-off" not in manager
    assert len(errors(stranger)) == 2 and all("only the helpdesk's agents can use canned replies" in e
                                              for e in errors(stranger))
    assert await mailed(desk, 1) == []

    await run(desk, BEA, "/ticket reply 1 :beas-sign-off")
    assert await mailed(desk, 1) == ["Thanks, Mia! Bea"]


async def test_an_agent_saves_their_last_reply_as_a_canned_reply(desk: Core, replies_dir: Path) -> None:
    await mail_in(desk, 1, "Hello, my parcel is late")
    await mail_in(desk, 2, "Hello, my parcel is late too", sender="leo@example.com", name="Leo")
    typed = "Hello! Parcels are late this week because of {{ the storm }}; yours is on its way."

    text = await run(desk, ANA, f"/ticket reply 1 {typed}", "/ticket replies save late-parcel",
                     "/ticket replies late", "/ticket reply 2 :late-parcel")
    assert not errors(text)
    assert "your reply on #1 is now the canned reply :late-parcel (en; everyone)" in text
    assert ":late-parcel — Late parcel (en; everyone)" in text
    assert await mailed(desk, 2) == [typed], "saved as written: its braces are text, not placeholders"
    saved = (replies_dir / "late-parcel.en.md").read_text()
    assert saved.startswith("---\nname: late-parcel\n") and "saved_by: U1\n" in saved

    # Someone else's name is not overwritten; the saver may save theirs again; a personal one is the saver's only.
    bea = await run(desk, BEA, "/ticket reply 2 --anyway Thank you for waiting, Leo.", "/ticket replies save late-parcel",
                    "/ticket replies save refund-policy", "/ticket replies save thanks personal from 2",
                    "/ticket replies save billing-thanks team")
    [mine, operators] = errors(bea)
    assert ":late-parcel (en) already exists (late-parcel.en.md) and is not yours to overwrite" in mine
    assert ":refund-policy (en) already exists (refund-policy.md)" in operators
    assert (replies_dir / "personal/u2/thanks.en.md").is_file()
    assert "team: billing" in (replies_dir / "billing-thanks.en.md").read_text()
    again = await run(desk, ANA, "/ticket reply 1 Another text entirely.", "/ticket replies save late-parcel",
                      "/ticket replies thanks")
    assert not errors(again) and "Another text entirely." in (replies_dir / "late-parcel.en.md").read_text()
    assert ":thanks" not in again and ":billing-thanks" not in again

    async with desk.ctx.uow() as u:
        saves = [a for a in await u.audit.for_ticket(1) if a.action == "canned_saved"]
    assert [a.actor for a in saves] == ["agent:U1", "agent:U1"]


async def test_saving_needs_a_reply_to_save(desk: Core) -> None:
    await mail_in(desk, 1, "Hello")
    text = await run(desk, ANA, "/ticket replies save nothing-yet", "/ticket replies save Bad/Name from 1")
    [none, bad] = errors(text)
    assert "you have not replied yet" in none
    assert "cannot be a reply's name" in bad or "you have not replied on #1 yet" in bad


async def test_a_broken_file_is_listed_and_the_others_still_work(desk: Core, replies_dir: Path) -> None:
    write(replies_dir, "no-front.md", "Just text, no front matter\n")
    write(replies_dir, "bad-yaml.md", "---\ntitle: [unclosed\n---\nHi\n")
    await mail_in(desk, 1, "Hello")

    text = await run(desk, ANA, "/ticket replies", "/ticket reply 1 :refund-policy@en")

    assert "⚠ broken: no-front.md — no front matter" in text
    assert "⚠ broken: bad-yaml.md — the front matter is not YAML" in text
    assert not errors(text) and len(await mailed(desk, 1)) == 1


def test_the_shipped_examples_all_load() -> None:
    from bot.handlers import canned_folder

    library = canned_folder.load(Path(__file__).resolve().parents[1] / "config" / "replies")
    assert library.broken == ()
    names = {(r.name, r.language) for r in library.replies}
    assert {("refund-policy", "en"), ("refund-policy", "fi"), ("password-reset", "en"), ("password-reset", "fi")} <= names
    assert any(r.team == "billing" for r in library.replies)


def test_the_folder_is_read_again_when_a_file_changes(tmp_path: Path) -> None:
    from bot.handlers import canned_folder

    write(tmp_path, "a.md", "---\ntitle: A\n---\nfirst\n")
    assert [r.body for r in canned_folder.load(tmp_path).replies] == ["first"]
    write(tmp_path, "a.md", "---\ntitle: A\n---\nsecond, longer\n")
    write(tmp_path, "b.fi.md", "---\ntitle: B\n---\nkolmas\n")
    assert [(r.name, r.language, r.body) for r in canned_folder.load(tmp_path).replies] == [
        ("a", "en", "second, longer"), ("b", "fi", "kolmas")]


async def test_slack_reply_form_fills_the_text_with_a_picked_canned_reply(database: Database, tmp_path: Path,
                                                                           replies_dir: Path) -> None:
    from bot.adapters.slack import ticket_blocks
    from bot.adapters.slack.reply_form import CANNED_BLOCK, CANNED_PICK
    from tests.support.mails import raw_mail
    from tests.support.slack_bot import block_text, eventually, running_bot

    write(replies_dir, "typo.md", "---\ntitle: Typo\n---\nHi {{ ticket.subject.nope }}\n")
    async with running_bot(database, tmp_path, replies_dir=replies_dir) as bot:
        number = await bot.mail(raw_mail(frm="Mia Virtanen <mia@customer.example>", subject="Hyvitys",
                                         body="Hei, voisitteko hyvittää tilaukseni? Se ei ole vielä tullut. Kiitos"))
        await bot.settled()
        root = await bot.root_of(number)
        await bot.send(bot.requests.click(root.payload(), ticket_blocks.REPLY, user="U0ANA"))

        def form() -> dict[str, Any] | None:
            return next((v for v in bot.slack.views.values() if v.get("callback_id") == ticket_blocks.REPLY_MODAL), None)

        view = await eventually(form)
        [picker] = [b for b in view["blocks"] if b.get("block_id") == CANNED_BLOCK]
        offered = [o["value"] for o in picker["elements"][0]["options"]]
        assert offered == ["refund-policy", "typo"], "no team or personal reply of others; typo parses, fails later"

        # A reply that cannot be filled in says why under the text, which stays as it was.
        await bot.send(bot.requests.view_select_option(view, CANNED_PICK, "typo", user="U0ANA"))
        def form_with(check: Callable[[dict[str, Any]], bool]) -> Callable[[], dict[str, Any] | None]:
            return lambda: v if (v := form()) is not None and check(v) else None

        view = await eventually(form_with(lambda v: "nope" in block_text(v["blocks"])))
        [field] = [b for b in view["blocks"] if b["type"] == "input" and b["block_id"].startswith("reply")]
        assert field["block_id"] == ticket_blocks.REPLY_BLOCK and "initial_value" not in field["element"]

        hash_before = view["hash"]
        await bot.send(bot.requests.view_select_option(view, CANNED_PICK, "refund-policy", user="U0ANA"))
        view = await eventually(form_with(lambda v: any(b.get("block_id") == "reply.v1" for b in v["blocks"])))
        [field] = [b for b in view["blocks"] if b["type"] == "input" and b["block_id"].startswith("reply")]
        assert field["block_id"] == "reply.v1", "a new block_id, so Slack shows the new text"
        filled = field["element"]["initial_value"]
        assert filled.startswith(f"Hei Mia,\n\nvoit palauttaa tuotteen 30 päivän kuluessa (tiketti #{number}).")
        assert "Canned reply `:refund-policy` (fi)" in block_text(view["blocks"])
        update = bot.slack.calls_to("views.update")[-1]
        assert update.args.get("hash") == hash_before, "the update names the view's hash (race protection)"

        edited = filled + "\n\nPS. Pahoittelut viiveestä."
        mails_before = len(bot.sink.received)
        await bot.send(bot.requests.view_submission(view, {field["block_id"]: {ticket_blocks.REPLY_INPUT: edited}},
                                                    user="U0ANA"))
        await bot.settled()
        [sent] = bot.sink.received[mails_before:]
        body = sent.message.get_body(("plain",)).get_content().replace("\r\n", "\n")
        assert body.startswith("Hei Mia,\n\nvoit palauttaa") and "PS. Pahoittelut viiveestä." in body


async def test_discord_offers_canned_replies_while_the_reply_is_typed(database: Database, tmp_path: Path,
                                                                      replies_dir: Path) -> None:
    from tests.support.discord_bot import ANA, running_discord_bot
    from tests.support.mails import raw_mail

    async with running_discord_bot(database, tmp_path, replies_dir=replies_dir) as bot:
        number = await bot.mail(raw_mail(frm="Mia Virtanen <mia@customer.example>",
                                         body="Hello, could you please refund my order? It has not arrived. Thanks"))
        await bot.settled()

        assert await bot.autocomplete("reply", ANA, "text", "Hello Mia") == [], "plain text: nothing offered"
        offered = await bot.autocomplete("reply", ANA, "text", ":re")
        assert offered == [{"name": ":refund-policy — Our refund policy (en, fi)", "value": ":refund-policy"}]
        assert [c["value"] for c in await bot.autocomplete("replies", ANA, "words", "refund")] == ["refund-policy"]
        assert await bot.autocomplete("reply", ANA, "text", ":invoice") == [], "billing's reply is billing's"

        mails_before = len(bot.sink.received)
        answer = await bot.slash("reply", ANA, number=number, text=":refund-policy")
        assert "⚠️" not in str(answer.followups or answer.data)
        await bot.settled()
        [sent] = bot.sink.received[mails_before:]
        body = sent.message.get_body(("plain",)).get_content().replace("\r\n", "\n")
        assert body.startswith(f'Hi Mia,\n\nyou can return anything within 30 days (ticket #{number}, "Printer is broken").')
