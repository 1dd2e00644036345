"""What agents do in Slack beyond the basics: /ticket, selects, mentions, reactions, edits, the shortcut.

Driven only by signed requests as Slack sends them; checked by what an agent
would see (ephemeral answers, the root, the thread) and by what was stored.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.slack import ticket_blocks
from bot.adapters.slack.interactions import SEND_MODAL, SEND_TO_CUSTOMER
from bot.domain.model import MessageKind
from bot.handlers import queries
from tests.support.db import Database
from tests.support.mails import messages, raw_mail, ticket
from tests.support.people import OPERATOR
from tests.support.slack_bot import BOT_USER, CHANNEL, SlackBot, block_text, eventually, running_bot


@pytest.fixture
async def bot(sqlite_database: Database, tmp_path: Path) -> AsyncIterator[SlackBot]:
    async with running_bot(sqlite_database, tmp_path) as b:
        yield b


async def ticket_with_root(bot: SlackBot, **mail: Any) -> tuple[int, Any]:
    number = await bot.mail(raw_mail(**mail))
    await bot.settled()
    return number, await bot.root_of(number)


async def answer_to(bot: SlackBot, text: str, user: str = "U0ANA") -> str:
    """What `/ticket text` shows the caller (ephemeral, through response_url)."""
    before = len(bot.slack.responses)
    reply = await bot.send(bot.requests.command(text, user=user))
    assert reply.status == 200
    responses = await eventually(lambda: bot.slack.responses[before:])
    assert responses[0]["response_type"] == "ephemeral"
    return responses[0]["text"] + "\n" + block_text(responses[0].get("blocks") or [])


async def ephemeral_to(bot: SlackBot, user: str, count: int = 1) -> list[str]:
    found = await eventually(lambda: [e for e in bot.slack.ephemeral if e["user"] == user][count - 1:] and
                             [e for e in bot.slack.ephemeral if e["user"] == user])
    return [e.get("text", "") + "\n" + block_text(e.get("blocks") or []) for e in found]


async def test_ticket_command_covers_the_daily_questions(bot: SlackBot) -> None:
    urgent, _ = await ticket_with_root(bot, subject="Server down")
    normal, _ = await ticket_with_root(bot, subject="Mouse squeaks", frm="bo@customer.example")
    assert "/ticket claim N" in await answer_to(bot, "help")
    assert f"#{urgent} priority: normal → urgent" in await answer_to(bot, f"priority {urgent} urgent")
    queue = await answer_to(bot, "queue")
    assert queue.index("Server down") < queue.index("Mouse squeaks")  # most urgent first
    assert "claimed by Ana" in await answer_to(bot, f"claim {normal}")
    mine = await answer_to(bot, "mine")
    assert "Mouse squeaks" in mine and "Server down" not in mine
    shown = await answer_to(bot, f"show {urgent}")
    assert "Server down" in shown and "blank pages" in shown
    assert "note saved" in await answer_to(bot, f"note {urgent} checked the logs")
    assert f"#{urgent} status: new → waiting on third party" in await answer_to(
        bot, f"status {urgent} waiting on third party")
    history = await answer_to(bot, f"history {urgent}")
    assert "priority" in history and "urgent" in history
    assert "assigned to Ben" in await answer_to(bot, f"assign {urgent} <@U0BEN|ben>")
    await bot.settled()
    assert "<@U0BEN>" in bot.root_text(await bot.root_of(urgent))


@pytest.mark.parametrize("text, says", [
    ("frobnicate 3", "unknown command"),
    ("claim", "usage: /ticket claim N"),
    ("claim seven", "is not a ticket number"),
    ("priority 1 extreme", "use low, normal, high or urgent"),
    ("close 999", "ticket #999 does not exist"),
])
async def test_malformed_commands_get_a_short_private_usage_message(bot: SlackBot, text: str, says: str) -> None:
    await ticket_with_root(bot)
    assert says in await answer_to(bot, text)


async def test_refused_click_is_explained_to_the_clicker_only(bot: SlackBot) -> None:
    number, root = await ticket_with_root(bot)
    await bot.send(bot.requests.click(root.payload(), ticket_blocks.CLAIM, user="U0ANA"))
    await eventually(lambda: "<@U0ANA>" in bot.root_text(root))
    await bot.send(bot.requests.click(root.payload(), ticket_blocks.CLAIM, user="U0ANA"))
    [said] = await ephemeral_to(bot, "U0ANA")
    assert f"#{number} is already yours" in said


async def test_assign_and_priority_selects_on_the_root(bot: SlackBot) -> None:
    number, root = await ticket_with_root(bot)
    await bot.send(bot.requests.select_user(root.payload(), ticket_blocks.ASSIGN, "U0BEN", user="U0ANA"))
    await eventually(lambda: "<@U0BEN>" in bot.root_text(root))
    now = bot.slack.message(CHANNEL, root.ts).payload()
    await bot.send(bot.requests.select_option(now, ticket_blocks.PRIORITY, "high", user="U0ANA"))
    await eventually(lambda: ":large_orange_circle: high" in bot.root_text(root))
    t = await ticket(bot.core, number)
    assert t is not None and t.priority.value == "high"


async def test_mentioning_an_expert_adds_them_and_posts_the_context(bot: SlackBot) -> None:
    number, root = await ticket_with_root(bot, subject="VPN drops", body="Every 10 minutes the VPN drops.")
    await bot.event(bot.requests.message("<@U0EVA> could you look at the VPN logs?", user="U0ANA", thread_ts=root.ts))
    summary = await eventually(lambda: [m for m in bot.thread(root) if "pulled into" in block_text(m.blocks)])
    text = block_text(summary[0].blocks)
    assert "<@U0EVA>" in text and "VPN drops" in text and "Every 10 minutes" in text
    history = await queries.history(bot.core.ctx, OPERATOR, number)
    assert any(h.action == "collaborator_added" and h.after == "Eva" for h in history)
    notes = [m for m in await messages(bot.core, number) if m.kind == MessageKind.NOTE]
    assert len(notes) == 1  # the mention itself is an internal note too


async def test_bot_mentions_in_the_thread_act_on_that_ticket(bot: SlackBot) -> None:
    number, root = await ticket_with_root(bot)
    mention = bot.requests.app_mention(f"<@{BOT_USER}> claim", user="U0BEN", thread_ts=root.ts)
    await bot.event(bot.requests.message(mention["text"], user="U0BEN", thread_ts=root.ts))  # Slack sends both
    await bot.event(mention)
    await eventually(lambda: "<@U0BEN>" in bot.root_text(root))
    await bot.event(bot.requests.app_mention(f"<@{BOT_USER}> invite <@U0EVA>", user="U0BEN", thread_ts=root.ts))
    await eventually(lambda: [m for m in bot.thread(root) if "<@U0EVA> you were pulled into" in block_text(m.blocks)])
    await bot.event(bot.requests.app_mention(f"<@{BOT_USER}> close", user="U0BEN", thread_ts=root.ts))
    await eventually(lambda: ":white_check_mark: solved" in bot.root_text(root))
    assert not [m for m in await messages(bot.core, number) if m.kind == MessageKind.NOTE]  # commands are not notes


async def test_reactions_on_the_root_claim_and_solve(bot: SlackBot) -> None:
    number, root = await ticket_with_root(bot)
    await bot.event(bot.requests.reaction_added("eyes", user="U0ANA", item_ts=root.ts))
    await eventually(lambda: "<@U0ANA>" in bot.root_text(root))
    await bot.event(bot.requests.reaction_added("white_check_mark", user="U0ANA", item_ts=root.ts))
    await eventually(lambda: ":white_check_mark: solved" in bot.root_text(root))


async def test_edits_update_the_note_deletions_are_recorded_and_retries_store_once(bot: SlackBot) -> None:
    number, root = await ticket_with_root(bot)
    typed = bot.requests.message("custmer is on the old firmware", user="U0ANA", thread_ts=root.ts)
    await bot.event(typed, event_id="Ev1")
    await bot.event(typed, event_id="Ev1", retry_num=1)  # Slack delivers again when unsure

    async def notes() -> list[str]:
        return [m.body_text for m in await messages(bot.core, number) if m.kind == MessageKind.NOTE]

    await eventually(notes)
    await bot.event(bot.requests.message_changed(typed, "customer is on the old firmware"))
    assert await eventually(lambda: _only(notes, "customer is on the old firmware"))
    await bot.event(bot.requests.message_deleted(typed))
    history = await eventually(lambda: _deleted(bot, number))
    assert history


async def _only(notes: Any, expected: str) -> bool:
    return await notes() == [expected]


async def _deleted(bot: SlackBot, number: int) -> bool:
    return any(h.action == "note_deleted_in_chat" for h in await queries.history(bot.core.ctx, OPERATOR, number))


async def test_bots_own_messages_and_channel_talk_are_not_notes(bot: SlackBot) -> None:
    number, root = await ticket_with_root(bot)
    await bot.event(bot.requests.message("posted by an integration", user="U0OTHER", thread_ts=root.ts, bot=True))
    await bot.event(bot.requests.message("lunch anyone?", user="U0ANA"))
    await bot.event(bot.requests.message("real note", user="U0ANA", thread_ts=root.ts))
    await eventually(lambda: _has_notes(bot, number, ["real note"]))


async def _has_notes(bot: SlackBot, number: int, expected: list[str]) -> bool:
    return [m.body_text for m in await messages(bot.core, number) if m.kind == MessageKind.NOTE] == expected


async def test_send_to_customer_shortcut_previews_then_mails_the_message(bot: SlackBot) -> None:
    number, root = await ticket_with_root(bot, subject="Password reset")
    typed = bot.requests.message("Reset it at <https://example.com/reset|the reset page> &amp; log in.",
                                 user="U0ANA", thread_ts=root.ts)
    await bot.event(typed)
    await bot.send(bot.requests.message_action({**typed, "thread_ts": root.ts}, callback_id=SEND_TO_CUSTOMER,
                                               user="U0ANA"))
    view = await eventually(lambda: next((v for v in bot.slack.views.values() if v.get("callback_id") == SEND_MODAL), None))
    preview = block_text(view["blocks"])
    assert "mia@customer.example" in preview and f"Re: Password reset [#{number}]" in preview
    [field] = [b["element"] for b in view["blocks"] if b.get("block_id") == ticket_blocks.REPLY_BLOCK]
    assert field["initial_value"] == "Reset it at the reset page (https://example.com/reset) & log in."
    mails_before = len(bot.sink.received)
    values = {ticket_blocks.REPLY_BLOCK: {ticket_blocks.REPLY_INPUT: {"type": "plain_text_input", "value": field["initial_value"]}}}
    await bot.send(bot.requests.view_submission(view, values, user="U0ANA"))
    await bot.settled()
    [sent] = bot.sink.received[mails_before:]
    assert "https://example.com/reset" in sent.message.get_body(("plain",)).get_content()


async def test_shortcut_outside_a_ticket_thread_says_where_it_works(bot: SlackBot) -> None:
    await ticket_with_root(bot)
    chatter = bot.requests.message("just chatting", user="U0ANA")
    await bot.send(bot.requests.message_action(chatter, callback_id=SEND_TO_CUSTOMER, user="U0ANA"))
    [said] = await ephemeral_to(bot, "U0ANA")
    assert "inside a ticket's thread" in said
    assert not bot.slack.calls_to("views.open")


async def test_empty_reply_in_the_modal_is_refused_inline(bot: SlackBot) -> None:
    _, root = await ticket_with_root(bot)
    await bot.send(bot.requests.click(root.payload(), ticket_blocks.REPLY, user="U0ANA"))
    view = await eventually(lambda: next((v for v in bot.slack.views.values()
                                          if v.get("callback_id") == ticket_blocks.REPLY_MODAL), None))
    values = {ticket_blocks.REPLY_BLOCK: {ticket_blocks.REPLY_INPUT: {"type": "plain_text_input", "value": "   "}}}
    reply = await bot.send(bot.requests.view_submission(view, values, user="U0ANA"))
    assert reply.json()["response_action"] == "errors"
    assert "empty reply" in reply.json()["errors"][ticket_blocks.REPLY_BLOCK]


async def test_an_agent_set_up_by_email_is_the_same_agent_when_they_first_click_in_slack(bot: SlackBot) -> None:
    from bot.handlers import tickets
    from bot.handlers.context import Actor

    first, _ = await ticket_with_root(bot, subject="Before Slack")
    await tickets.claim(bot.core.ctx, Actor("console-ana", "Ana", "ANA@helpdesk.test", in_tickets_channel=True), first)
    number, root = await ticket_with_root(bot, subject="In Slack")
    await bot.send(bot.requests.click(root.payload(), ticket_blocks.CLAIM, user="U0ANA"))  # users.info: ana@helpdesk.test
    await eventually(lambda: "<@U0ANA>" in bot.root_text(root))
    a, b = await ticket(bot.core, first), await ticket(bot.core, number)
    assert a is not None and b is not None and a.assignee_id == b.assignee_id
    assert [t.subject for t in await queries.mine(bot.core.ctx, Actor("U0ANA", in_tickets_channel=True))] == ["Before Slack", "In Slack"]
