"""Internal tickets in Slack (a child split off for another team): nobody outside, so nothing to mail.

The root says "internal" where a customer would be named and offers no Reply; a Reply click from an
old root or the "Send to customer" shortcut in its thread is answered privately instead of opening a
form with an empty recipient; the lists name no address for it. Everything through the fake Slack.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.adapters.slack import ticket_blocks
from bot.adapters.slack.interactions import SEND_TO_CUSTOMER
from tests.support.db import Database
from tests.support.slack_bot import SlackBot, fake_slack, running_bot, user
from tests.support.slack_doors import answers_since, seen, thread_note, ticket_with_root

OUT = "U0OUT"


@pytest.fixture
async def bot(sqlite_database: Database, tmp_path: Path) -> AsyncIterator[SlackBot]:
    async with fake_slack() as slack:
        slack.users[OUT] = user(OUT, "Olli Outsider")
        async with running_bot(sqlite_database, tmp_path, slack=slack) as b:
            yield b


async def said(bot: SlackBot, request: object, who: str = "U0ANA") -> str:
    before = seen(bot)
    assert (await bot.send(request)).status == 200  # type: ignore[arg-type]
    await bot.settled()
    told, others = answers_since(bot, before, who, None)
    assert not others and seen(bot).views == before.views, "answered privately, no form"
    return "\n".join(told)


async def child_of(bot: SlackBot) -> tuple[int, object]:
    parent, _ = await ticket_with_root(bot, subject="Laptop broken", body="Mine will not boot.")
    assert "child ticket" in await said(bot, bot.requests.command(f"child {parent} Order a spare part", user="U0ANA"))
    return parent + 1, await bot.root_of(parent + 1)


async def test_an_internal_root_says_internal_and_offers_no_reply(bot: SlackBot) -> None:
    child, root = await child_of(bot)
    shown = bot.root_text(root)
    assert "*Requester*\n_internal_" in shown and "nobody outside" not in shown
    assert bot.slack.message("C0TICKETS", root.ts).text.endswith("normal priority, internal")
    actions = [e.get("action_id") for b in bot.slack.message("C0TICKETS", root.ts).blocks
               for e in b.get("elements") or []]
    assert ticket_blocks.CLAIM in actions and ticket_blocks.REPLY not in actions

    await said(bot, bot.requests.command(f"close {child}", user="U0ANA"))
    solved = [e.get("action_id") for b in bot.slack.message("C0TICKETS", root.ts).blocks for e in b.get("elements") or []]
    assert ticket_blocks.REOPEN in solved and ticket_blocks.REPLY not in solved


async def test_reply_and_send_to_customer_on_an_internal_ticket_answer_privately(bot: SlackBot) -> None:
    child, root = await child_of(bot)
    old_reply = {"type": "button", "action_id": ticket_blocks.REPLY, "block_id": f"ticket.{child}.actions.1",
                 "value": str(child), "text": ticket_blocks.plain("Reply", 75)}  # a root rendered before, or a copy
    answer = await said(bot, bot.requests.block_action(root.payload(), old_reply, user="U0ANA"))
    assert f"#{child} is an internal ticket: nothing to mail; write a note in the thread" in answer

    note = await thread_note(bot, root, child, "Ordered from the usual supplier.")
    before = len(bot.slack.ephemeral)
    answer = await said(bot, bot.requests.message_action({**note, "thread_ts": root.ts}, callback_id=SEND_TO_CUSTOMER,
                                                         user="U0ANA"))
    assert "internal ticket: nothing to mail" in answer
    assert not bot.slack.ephemeral[before:], "told in the form the shortcut opened at once (its trigger lives 3 s)"

    refused = await said(bot, bot.requests.block_action(root.payload(), old_reply, user=OUT), who=OUT)
    assert "only the helpdesk's agents" in refused and "internal" not in refused  # who may not reply hears that


async def test_lists_and_details_name_no_address_for_an_internal_ticket(bot: SlackBot) -> None:
    child, _ = await child_of(bot)
    queue = await said(bot, bot.requests.command("queue", user="U0ANA"))
    [line] = [line for line in queue.splitlines() if "Order a spare part —" in line]
    assert line.rstrip().endswith("_internal_") and ", \n" not in queue and not line.rstrip().endswith(",")
    await said(bot, bot.requests.command(f"claim {child}", user="U0ANA"))
    mine = await said(bot, bot.requests.command("mine", user="U0ANA"))
    [line] = [line for line in mine.splitlines() if "Order a spare part —" in line]
    assert "_internal_ · Ana" in line
    details = await said(bot, bot.requests.command(f"show {child}", user="U0ANA"))
    assert "from _internal_" in details
