"""A ticket's life in Slack, end to end: mail in, root and thread, Claim, notes, Reply by mail, customer answer.

Tiketti runs whole (web server, outbox to an SMTP sink, Slack adapter against the
fake Web API over HTTP); the tests act only as Slack and a customer would, with
signed requests to /slack/events and raw mail, and look at what people would see.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.adapters.slack import ticket_blocks
from bot.domain.model import MessageKind
from tests.support.db import Database
from tests.support.mails import messages, raw_mail, ticket
from tests.support.slack_bot import CHANNEL, SlackBot, block_text, eventually, running_bot


@pytest.fixture
async def bot(sqlite_database: Database, tmp_path: Path) -> AsyncIterator[SlackBot]:
    async with running_bot(sqlite_database, tmp_path) as b:
        yield b


async def test_mail_becomes_a_root_with_buttons_and_the_message_in_its_thread(bot: SlackBot) -> None:
    number = await bot.mail(raw_mail(subject="Printer on fire", body="Flames from the tray, please help."))
    await bot.settled()
    [root] = bot.roots()
    shown = bot.root_text(root)
    assert f"#{number} Printer on fire" in shown
    assert "mia@customer.example" in shown and ":new: new" in shown and "normal" in shown and "unassigned" in shown
    buttons = [e["text"]["text"] for b in root.blocks if b["type"] == "actions" for e in b["elements"] if e["type"] == "button"]
    assert buttons[:3] == ["Claim", "Reply", "Close"]
    [first] = bot.thread(root)
    assert "Flames from the tray" in block_text(first.blocks)


async def test_claim_updates_the_root_in_place_to_show_the_claimer(bot: SlackBot) -> None:
    number = await bot.mail(raw_mail())
    await bot.settled()
    root = await bot.root_of(number)
    reply = await bot.send(bot.requests.click(root.payload(), ticket_blocks.CLAIM, user="U0ANA"))
    assert reply.status == 200
    await eventually(lambda: "<@U0ANA>" in bot.root_text(root))
    assert ":large_blue_circle: open" in bot.root_text(root)
    assert len(bot.roots()) == 1  # updated in place, not posted again
    assert bot.slack.calls_to("chat.update", ok_only=True)
    t = await ticket(bot.core, number)
    assert t is not None and t.assignee_id is not None


async def test_thread_messages_are_internal_notes_and_nothing_is_mailed(bot: SlackBot) -> None:
    number = await bot.mail(raw_mail())
    await bot.settled()
    root = await bot.root_of(number)
    mails_before = len(bot.sink.received)  # the acknowledgement
    for text in ("REPLY: we will refund you", "Dear customer, here is the fix", "reply 1 send this"):
        await bot.event(bot.requests.message(text, user="U0ANA", thread_ts=root.ts))

    async def notes() -> list[str]:
        found = [m.body_text for m in await messages(bot.core, number) if m.kind == MessageKind.NOTE]
        assert len(found) == 3
        return found

    assert sorted(await eventually(notes)) == ["Dear customer, here is the fix", "REPLY: we will refund you", "reply 1 send this"]
    await bot.settled()
    assert len(bot.sink.received) == mails_before
    assert len(bot.thread(root)) == 1  # the customer's mail; our own notes are not echoed back


async def test_reply_modal_mails_the_customer_once_with_threading_headers(bot: SlackBot) -> None:
    customer_id = "<order-77@customer.example>"
    number = await bot.mail(raw_mail(subject="Where is my order", message_id=customer_id))
    await bot.settled()
    root = await bot.root_of(number)
    await bot.send(bot.requests.click(root.payload(), ticket_blocks.REPLY, user="U0ANA"))
    view = await eventually(lambda: next((v for v in bot.slack.views.values()
                                          if v.get("callback_id") == ticket_blocks.REPLY_MODAL), None))
    assert "mia@customer.example" in block_text(view["blocks"])
    values = {ticket_blocks.REPLY_BLOCK: {ticket_blocks.REPLY_INPUT: {"type": "plain_text_input", "value": "It ships tomorrow."}}}
    reply = await bot.send(bot.requests.view_submission(view, values, user="U0ANA"))
    assert reply.status == 200 and reply.json()["response_action"] == "update"  # "Sending…" at once
    await bot.settled()
    assert "on its way" in block_text(bot.slack.views[view["id"]]["blocks"])
    sent = [r for r in bot.sink.received if "ships tomorrow" in r.message.get_body(("plain",)).get_content()]
    assert len(sent) == 1
    mail = sent[0].message
    assert mail["To"].addresses[0].addr_spec == "mia@customer.example"
    assert mail["In-Reply-To"] == customer_id
    assert customer_id in mail["References"]
    assert mail["Subject"] == f"Re: Where is my order [#{number}]"
    assert "support@helpdesk.test" in mail["From"]
    posted = [block_text(m.blocks) for m in bot.thread(root)]
    assert any("Sent to customer" in p and "ships tomorrow" in p for p in posted)
    assert "waiting on customer" in bot.root_text(root)


async def test_customer_reply_lands_in_the_same_thread_and_the_root_shows_it(bot: SlackBot) -> None:
    first_id = "<first@customer.example>"
    number = await bot.mail(raw_mail(message_id=first_id))
    await bot.settled()
    root = await bot.root_of(number)
    await bot.send(bot.requests.command(f"reply {number} Please restart it.", user="U0ANA"))
    await eventually(lambda: [r for r in bot.sink.received if "restart it" in r.raw.decode(errors="replace")])
    await bot.settled()
    assert "waiting on customer" in bot.root_text(root)
    again = await bot.mail(raw_mail(subject="Re: Printer is broken", in_reply_to=first_id,
                                    body="Restarted, still broken."))
    assert again == number
    await bot.settled()
    assert len(bot.roots()) == 1
    assert "Restarted, still broken" in block_text(bot.thread(root)[-1].blocks)
    assert "customer replied" in bot.root_text(root)


async def test_close_and_reopen_buttons(bot: SlackBot) -> None:
    number = await bot.mail(raw_mail())
    await bot.settled()
    root = await bot.root_of(number)
    await bot.send(bot.requests.click(root.payload(), ticket_blocks.CLOSE, user="U0BEN"))
    await eventually(lambda: ":white_check_mark: solved" in bot.root_text(root))
    now = bot.slack.message(CHANNEL, root.ts)
    await bot.send(bot.requests.click(now.payload(), ticket_blocks.REOPEN, user="U0BEN"))
    await eventually(lambda: ":large_blue_circle: open" in bot.root_text(root))


async def test_a_new_agents_first_notes_at_once_are_all_stored(database: Database, tmp_path: Path) -> None:
    """Their first notes, in several tickets' threads, race to create the agent's record (PostgreSQL says
    so with a unique key): the one that loses is run again, not lost after Slack was told it arrived."""
    async with running_bot(database, tmp_path) as bot:
        numbers = [await bot.mail(raw_mail(subject=f"Printer {i}")) for i in range(6)]
        await bot.settled()
        roots = [await bot.root_of(n) for n in numbers]
        await asyncio.gather(*(bot.event(bot.requests.message(f"first look at {r.ts}", user="U0BEN", thread_ts=r.ts))
                               for r in roots))
        await bot.settled()
        for number, root in zip(numbers, roots, strict=True):
            notes = [m.body_text for m in await messages(bot.core, number) if m.kind == MessageKind.NOTE]
            assert notes == [f"first look at {root.ts}"]
