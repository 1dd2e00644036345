"""Undo send on Slack: the held reply's private answer carries Undo; a click takes the reply back and opens
the Reply form with its text, through the fake Slack (views.open on the click's trigger).

The whole bot runs (web server, outbox worker to an SMTP sink, Slack adapter against the fake Web API);
the test acts only by signed requests. A long hold keeps the window open for the test; the window's end
is tested with a clock moved by hand on the console (tests/test_undo_send.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.slack import ticket_blocks
from bot.adapters.slack.blocks import plain
from bot.adapters.slack.undo_button import UNDO
from bot.domain.status import Status
from tests.support.db import Database
from tests.support.mails import outbox, raw_mail, ticket
from tests.support.slack_bot import SlackBot, block_text, eventually, running_bot

TEXT = "Your refund is on its way."


@pytest.fixture
async def bot(database: Database, tmp_path: Path) -> AsyncIterator[SlackBot]:
    async with running_bot(database, tmp_path, undo_seconds=120) as b:
        yield b


def undo_button(message: dict[str, Any]) -> dict[str, Any]:
    """The Undo button as Slack echoes its click (from an ephemeral message: no message, only a ts)."""
    for block in message.get("blocks") or []:
        for element in block.get("elements") or []:
            if element.get("action_id") == UNDO:
                return {"type": "button", "action_id": UNDO, "block_id": block["block_id"],
                        "value": element["value"], "text": plain("Undo", 75)}
    raise LookupError("no Undo button")


async def click_undo(bot: SlackBot, message: dict[str, Any], user: str = "U0ANA") -> None:
    reply = await bot.send(bot.requests.block_action({"ts": "1700000000.000999"}, undo_button(message), user=user,
                                                     ephemeral=True))
    assert reply.status == 200


def reply_forms(bot: SlackBot) -> list[dict[str, Any]]:
    return [v for v in bot.slack.views.values() if v.get("callback_id") == ticket_blocks.REPLY_MODAL]


async def test_the_reply_commands_answer_has_undo_which_opens_the_form_with_the_text(bot: SlackBot) -> None:
    number = await bot.mail(raw_mail())
    await bot.settled()
    assert (await bot.send(bot.requests.command(f"reply {number} {TEXT}", user="U0ANA"))).status == 200
    answer = await eventually(lambda: next((r for r in bot.slack.responses if UNDO in str(r.get("blocks"))), None))
    assert answer["response_type"] == "ephemeral"
    assert f"Sending #{number}'s reply to mia@customer.example in 120 s" in block_text(answer["blocks"])
    assert (await ticket(bot.core, number)).status == Status.WAITING_ON_CUSTOMER  # type: ignore[union-attr]

    await click_undo(bot, answer)
    form = await eventually(lambda: next((v for v in reply_forms(bot) if TEXT in str(v)), None))
    assert any(TEXT == (b.get("element") or {}).get("initial_value") for b in form["blocks"]), "the text is back"
    await bot.settled()
    assert [m.kind for m in await outbox(bot.core, number)] == ["ack"], "nothing left to send"
    t = await ticket(bot.core, number)
    assert t is not None and t.status == Status.NEW and t.first_response_at is None
    [replaced] = [r for r in bot.slack.responses if "taken back: nothing was sent" in str(r.get("blocks"))]
    assert replaced["replace_original"] and UNDO not in str(replaced["blocks"]), "the button goes with its message"
    root = await bot.root_of(number)
    assert any("took back their reply" in block_text(m.blocks) for m in bot.thread(root))

    # Pressed again (the same ephemeral message), it says why not, and opens nothing.
    forms = len(reply_forms(bot))
    await click_undo(bot, answer)
    await eventually(lambda: any("taken back already" in block_text(e.get("blocks") or []) for e in bot.slack.ephemeral))
    assert len(reply_forms(bot)) == forms


async def test_the_reply_forms_confirmation_brings_undo_and_a_colleague_cannot_press_it(bot: SlackBot) -> None:
    number = await bot.mail(raw_mail())
    await bot.settled()
    root = await bot.root_of(number)
    await bot.send(bot.requests.click(root.payload(), ticket_blocks.REPLY, user="U0ANA"))
    view = await eventually(lambda: next(iter(reply_forms(bot)), None))
    values = {ticket_blocks.REPLY_BLOCK: {ticket_blocks.REPLY_INPUT: {"type": "plain_text_input", "value": TEXT}}}
    await bot.send(bot.requests.view_submission(view, values, user="U0ANA"))
    told = await eventually(lambda: next((e for e in bot.slack.ephemeral if UNDO in str(e.get("blocks"))), None))
    assert told["user"] == "U0ANA" and "Sending" in block_text(told["blocks"])
    assert "press Undo" in block_text(bot.slack.views[view["id"]]["blocks"])

    await click_undo(bot, told, user="U0BEN")  # seen by Ana alone; a forwarded value is refused all the same
    await eventually(lambda: any("only the agent who wrote" in block_text(e.get("blocks") or [])
                                 for e in bot.slack.ephemeral if e.get("user") == "U0BEN"))
    assert [m.kind for m in await outbox(bot.core, number)] == ["ack", "reply"]
