"""A ticket's life in Discord, end to end: the real discord.py client against the fake Discord.

Mail in → a thread with the ticket's embed and buttons; Claim edits the embed in
place; thread messages are internal notes (never mailed, never echoed); Reply
opens a modal whose submission mails the customer once, threaded; the
customer's answer lands in the same thread.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.adapters.discord import controls
from bot.domain.model import MessageKind
from tests.support.db import Database
from tests.support.discord_bot import ANA, DiscordBot, running_discord_bot
from tests.support.mails import messages, raw_mail
from tests.support.slack_bot import eventually


@pytest.fixture
async def bot(sqlite_database: Database, tmp_path: Path) -> AsyncIterator[DiscordBot]:
    async with running_discord_bot(sqlite_database, tmp_path) as b:
        yield b


def embed_text(message: dict) -> str:
    [embed] = message["embeds"]
    return "\n".join([embed["title"], *(f"{f['name']}: {f['value']}" for f in embed.get("fields", []))])


def buttons(message: dict) -> list[str]:
    """The card's controls as people read them: a button's label, a select's placeholder."""
    return [c.get("label") or c["placeholder"] for row in message["components"] for c in row["components"]]


async def test_mail_becomes_a_thread_whose_starter_shows_the_ticket_with_buttons(bot: DiscordBot) -> None:
    number = await bot.mail(raw_mail(subject="Printer on fire", body="Flames from the tray, please help."))
    await bot.settled()
    thread = await bot.thread_of(number)
    starter = bot.starter(thread)
    shown = embed_text(starter)
    assert f"#{number} Printer on fire" in shown
    assert "mia@customer.example" in shown and "new" in shown and "normal" in shown and "unassigned" in shown
    assert buttons(starter) == ["Claim", "Reply", "Close", "Tags…", "Assign…", "Priority", "Category"]
    [first] = bot.thread_messages(thread)
    assert "Flames from the tray" in first["content"]


async def test_claim_edits_the_starter_in_place(bot: DiscordBot) -> None:
    number = await bot.mail(raw_mail())
    await bot.settled()
    thread = await bot.thread_of(number)
    answer = await bot.click(controls.CLAIM, thread, ANA)
    assert answer.followups[0]["flags"] & 64 and "claimed by Ana Agent" in answer.followups[0]["content"]
    await bot.settled()
    shown = embed_text(bot.starter(thread))
    assert f"<@{ANA['id']}>" in shown and "open" in shown
    assert len(bot.discord.threads()) == 1


async def test_thread_messages_are_notes_and_nothing_is_mailed(bot: DiscordBot) -> None:
    number = await bot.mail(raw_mail())
    await bot.settled()
    thread = await bot.thread_of(number)
    mails_before = len(bot.sink.received)
    for text in ("REPLY: we will refund you", "Dear customer, here is the fix"):
        await bot.say(thread["id"], ANA, text)

    async def notes() -> list[str]:
        found = [m.body_text for m in await messages(bot.core, number) if m.kind == MessageKind.NOTE]
        assert len(found) == 2
        return found

    assert sorted(await eventually(notes)) == ["Dear customer, here is the fix", "REPLY: we will refund you"]
    await bot.settled()
    assert len(bot.sink.received) == mails_before
    assert len([m for m in bot.thread_messages(thread) if m["author"]["bot"]]) == 1  # notes are not echoed


async def test_reply_opens_a_modal_whose_submission_mails_the_customer_once_threaded(bot: DiscordBot) -> None:
    customer_id = "<order-77@customer.example>"
    number = await bot.mail(raw_mail(subject="Where is my order", message_id=customer_id))
    await bot.settled()
    thread = await bot.thread_of(number)
    modal = await bot.click(controls.REPLY, thread, ANA)
    assert modal.kind == 9 and modal.data["title"] == f"Reply to #{number}"
    assert "mia@customer.example" in json.dumps(modal.data)
    done = await bot.submit_modal(modal, ANA, thread, "It ships tomorrow.")
    assert done.ephemeral or done.followups[0]["flags"] & 64
    assert "reply sent to mia@customer.example" in done.followups[0]["content"]
    await bot.settled()
    sent = [r for r in bot.sink.received if "ships tomorrow" in r.message.get_body(("plain",)).get_content()]
    assert len(sent) == 1
    mail = sent[0].message
    assert mail["To"].addresses[0].addr_spec == "mia@customer.example"
    assert mail["In-Reply-To"] == customer_id and customer_id in mail["References"]
    assert mail["Subject"] == f"Re: Where is my order [#{number}]"
    shown = [m["content"] for m in bot.thread_messages(thread)]
    assert any("sent to the customer" in s and "It ships tomorrow." in s for s in shown)
    assert "waiting on customer" in embed_text(bot.starter(thread))


async def test_customer_reply_by_mail_lands_in_the_same_thread(bot: DiscordBot) -> None:
    first_id = "<first@customer.example>"
    number = await bot.mail(raw_mail(message_id=first_id))
    await bot.settled()
    thread = await bot.thread_of(number)
    await bot.slash("reply", ANA, number=number, text="Please restart it.")
    await bot.settled()
    again = await bot.mail(raw_mail(subject="Re: Printer is broken", in_reply_to=first_id, body="Restarted, still broken."))
    assert again == number
    await bot.settled()
    assert len(bot.discord.threads()) == 1
    assert "Restarted, still broken" in bot.thread_messages(thread)[-1]["content"]
    assert "customer replied" in embed_text(bot.starter(thread))


async def test_close_button_solves_and_the_embed_says_so(bot: DiscordBot) -> None:
    number = await bot.mail(raw_mail())
    await bot.settled()
    thread = await bot.thread_of(number)
    await bot.click(controls.CLOSE, thread, ANA)
    await bot.settled()
    assert "solved" in embed_text(bot.starter(thread))
    assert buttons(bot.starter(thread)) == ["Reply", "Reopen"]  # a solved ticket: answer again, or reopen
    assert bot.discord.called("PATCH /channels/{channel}/messages/{message}") >= 1


async def test_quarantined_mail_is_announced_in_the_tickets_channel(bot: DiscordBot) -> None:
    from bot.mail.pipeline import MailPipeline

    processed = await MailPipeline(bot.core.ctx).process(b"\x00\x01 this is not a mail at all", source="pipe")
    assert not processed.ok
    channel = bot.discord.tickets_channel["id"]
    notice = await eventually(lambda: [m for m in bot.discord.in_channel(channel) if "quarantined" in m["content"]])
    assert f"#{processed.quarantine_id}" in notice[0]["content"]
    assert f"tiketti quarantine show {processed.quarantine_id}" in notice[0]["content"]


async def test_a_customers_second_ticket_starts_with_their_earlier_one_linked(bot: DiscordBot) -> None:
    first = await bot.mail(raw_mail(subject="Printer on fire"))
    await bot.settled()
    first_thread = await bot.thread_of(first)
    second = await bot.mail(raw_mail(subject="Toner order", body="Also, we need toner."))
    await bot.settled()
    history, customer = bot.thread_messages(await bot.thread_of(second))
    assert "other recent tickets" in history["content"]
    assert f"<#{first_thread['id']}> Printer on fire" in history["content"] and "not answered yet" in history["content"]
    assert "Also, we need toner." in customer["content"]
    # A first-time customer's thread has no such message.
    [only] = bot.thread_messages(first_thread)
    assert "other recent tickets" not in only["content"]
