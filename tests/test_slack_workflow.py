"""The team workflow as agents meet it in Slack: team channels, moves, merges, children, tasks, collisions.

The whole bot runs against the fake Slack API with a workflow file; agents act
by signed requests only, and the tests read the channels as people would.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.adapters.slack import ticket_blocks
from bot.adapters.slack.forms import NEW_MODAL, NEXT
from bot.handlers.ports import Clock
from tests.support.db import Database
from tests.support.mails import messages, raw_mail, ticket
from tests.support.slack_bot import CHANNEL, SlackBot, block_text, eventually, running_bot

WORKFLOW = """
default_team = "support"

[[teams]]
name = "support"
members = ["ana@helpdesk.test", "ben@helpdesk.test"]  # Ben works both queues

[[teams]]
name = "billing"
channel = "C0BILLING"
members = ["ben@helpdesk.test"]
assignment = "least_loaded"

[[rules]]
to = ["billing@helpdesk.test"]
team = "billing"

[[templates]]
name = "Phone call"
questions = ["Who called?", "What do they need?"]
"""


@pytest.fixture
async def bot(sqlite_database: Database, tmp_path: Path) -> AsyncIterator[SlackBot]:
    path = tmp_path / "workflow.toml"
    path.write_text(WORKFLOW)
    async with running_bot(sqlite_database, tmp_path, workflow_file=path) as b:
        yield b


def in_channel(bot: SlackBot, channel: str) -> list[str]:
    return [r.text for r in bot.slack.roots(channel)]


async def command(bot: SlackBot, text: str, user: str = "U0ANA") -> str:
    before = len(bot.slack.responses)
    await bot.send(bot.requests.command(text, user=user))
    found = await eventually(lambda: bot.slack.responses[before:])
    return found[0]["text"] + "\n" + block_text(found[0].get("blocks") or [])


async def test_a_team_ticket_is_posted_in_its_channel_and_assigned(bot: SlackBot) -> None:
    number = await bot.mail(raw_mail(to="billing@helpdesk.test", subject="Invoice copy"))
    await bot.settled()
    assert [t.split(" —")[0] for t in in_channel(bot, "C0BILLING")] == [f"#{number} Invoice copy"]
    assert in_channel(bot, CHANNEL) == []
    root = bot.slack.roots("C0BILLING")[0]
    shown = block_text(bot.slack.message("C0BILLING", root.ts).blocks)
    assert "billing" in shown and "<@U0BEN>" not in shown  # Ben has not used Slack yet: no agent record


async def test_moving_a_ticket_moves_its_thread_with_links_both_ways(bot: SlackBot) -> None:
    number = await bot.mail(raw_mail(subject="Refund please", body="I was charged twice."))
    await bot.settled()
    old_root = await bot.root_of(number)
    await bot.event(bot.requests.message("checked: double charge", user="U0ANA", thread_ts=old_root.ts))
    await eventually(lambda: _note_count(bot, number))
    assert "moved to billing" in await command(bot, f"move {number} billing")
    await bot.settled()
    [new_root] = bot.slack.roots("C0BILLING")
    new_thread = [block_text(m.blocks) for m in bot.slack.thread("C0BILLING", new_root.ts)]
    assert any("Moved here from" in t for t in new_thread)
    assert any("charged twice" in t for t in new_thread) and any("double charge" in t for t in new_thread)
    old_thread = [block_text(m.blocks) for m in bot.thread(old_root)]
    assert any("Moved to billing" in t and new_root.ts.replace(".", "") in t for t in old_thread)
    old_now = block_text(bot.slack.message(CHANNEL, old_root.ts).blocks)
    assert "Moved to billing" in old_now and "Claim" not in old_now  # no buttons left on the old root


async def _note_count(bot: SlackBot, number: int) -> bool:
    return any(m.kind.value == "note" for m in await messages(bot.core, number))


async def test_merge_shows_the_source_conversation_in_the_target_thread(bot: SlackBot) -> None:
    a = await bot.mail(raw_mail(subject="Login fails", body="Error 403 at login."))
    b = await bot.mail(raw_mail(subject="Still cannot log in", body="Please hurry."))
    await bot.settled()
    assert f"#{a} merged into #{b}" in await command(bot, f"merge {a} into {b}")
    await bot.settled()
    target = await bot.root_of(b)
    assert any("Error 403 at login" in block_text(m.blocks) for m in bot.thread(target))
    source = await bot.root_of(a)
    assert "Merged into" in bot.root_text(source) and ":lock: closed" in bot.root_text(source)
    assert any("Merged into" in block_text(m.blocks) for m in bot.thread(source))


async def test_children_show_on_the_parent_which_cannot_be_solved_before_them(bot: SlackBot) -> None:
    parent = await bot.mail(raw_mail(subject="New hire: Mia"))
    await bot.settled()
    said = await command(bot, f"child {parent} billing Payroll for Mia")
    assert "child ticket" in said
    await bot.settled()
    child = parent + 1
    root = await bot.root_of(parent)
    assert f"#{child}" in bot.root_text(root) and "Children" in bot.root_text(root)
    assert f"#{child}" in in_channel(bot, "C0BILLING")[0]
    refused = await command(bot, f"close {parent}")
    assert "child tickets are open" in refused
    await command(bot, f"close {child}", user="U0BEN")
    await bot.settled()
    assert ":white_check_mark: solved" in bot.root_text(root)  # the child's state, shown on the parent


async def test_a_due_task_is_posted_to_its_assignee_in_the_thread(bot: SlackBot) -> None:
    number = await bot.mail(raw_mail())
    await bot.settled()
    await command(bot, f"claim {number}")
    assert "task 1 added" in await command(bot, f"task {number} in 1m call the customer back")
    assert "call the customer back" in await command(bot, "tasks")
    bot.core.ctx.clock = _later(bot.core.ctx.clock, minutes=2)
    await bot.runtime.housekeeping()
    root = await bot.root_of(number)
    reminder = await eventually(lambda: [m for m in bot.thread(root) if "task due" in block_text(m.blocks)])
    assert "<@U0ANA>" in block_text(reminder[0].blocks)
    await bot.runtime.housekeeping()
    assert len([m for m in bot.thread(root) if "task due" in block_text(m.blocks)]) == 1
    assert "done" in await command(bot, "done 1")


def _later(clock: Clock, **delta: float) -> Clock:
    return lambda: clock() + timedelta(**delta)


async def test_two_agents_opening_reply_are_warned_and_a_stale_reply_asks_first(bot: SlackBot) -> None:
    number = await bot.mail(raw_mail(message_id="<c1@customer.example>"))
    await bot.settled()
    root = await bot.root_of(number)
    await bot.send(bot.requests.click(root.payload(), ticket_blocks.REPLY, user="U0ANA"))
    first = await eventually(lambda: [v for v in bot.slack.views.values() if v.get("submit")])  # filled, not "Loading…"
    await bot.send(bot.requests.click(root.payload(), ticket_blocks.REPLY, user="U0BEN"))
    second = await eventually(lambda: [v for v in bot.slack.views.values() if v["id"] != first[0]["id"] and v.get("submit")])
    assert "Ana is writing a reply too" in block_text(second[0]["blocks"])
    told = await eventually(lambda: [e for e in bot.slack.ephemeral if e["user"] == "U0ANA"])
    assert "just opened a reply" in told[0]["text"]
    # Ben answers first; Ana's reply, written before she saw his, is held for confirmation.
    values = {ticket_blocks.REPLY_BLOCK: {ticket_blocks.REPLY_INPUT: {"type": "plain_text_input", "value": "From Ben"}}}
    await bot.send(bot.requests.view_submission(second[0], values, user="U0BEN"))
    await bot.settled()  # Ben's reply is done (after its ack) before Ana sends hers
    values = {ticket_blocks.REPLY_BLOCK: {ticket_blocks.REPLY_INPUT: {"type": "plain_text_input", "value": "From Ana"}}}
    held = await bot.send(bot.requests.view_submission(first[0], values, user="U0ANA"))
    assert held.json()["response_action"] == "update"  # "Sending…" in the ack; the check comes after it
    await bot.settled()
    update = {"view": bot.slack.views[first[0]["id"]]}
    assert "Ben replied" in block_text(update["view"]["blocks"]) and update["view"]["submit"]["text"] == "Send anyway"
    sent = [r.message.get_body(("plain",)).get_content() for r in bot.sink.received]
    assert any("From Ben" in s for s in sent) and not any("From Ana" in s for s in sent)
    confirmed = {**first[0], **update["view"], "id": first[0]["id"]}
    await bot.send(bot.requests.view_submission(confirmed, values, user="U0ANA"))
    await bot.settled()
    assert any("From Ana" in r.message.get_body(("plain",)).get_content() for r in bot.sink.received)


async def test_a_typed_reply_while_a_colleague_answers_is_held_until_sent_anyway(bot: SlackBot) -> None:
    number = await bot.mail(raw_mail())
    await bot.settled()
    assert "reply sent" in await command(bot, f"reply {number} From Ben", user="U0BEN")
    held = await command(bot, f"reply {number} From Ana")
    assert "not sent" in held and "Ben" in held and f"/ticket reply {number} --anyway From Ana" in held
    await bot.settled()
    sent = [r.message.get_body(("plain",)).get_content() for r in bot.sink.received]
    assert not any("From Ana" in s for s in sent)
    assert "reply sent" in await command(bot, f"reply {number} —anyway From Ana")  # Slack turns -- into a dash
    await bot.settled()
    sent = [r.message.get_body(("plain",)).get_content() for r in bot.sink.received]
    assert any("From Ana" in s and "anyway" not in s for s in sent)


async def test_new_ticket_form_and_handle_next(bot: SlackBot) -> None:
    await bot.send(bot.requests.command("new Phone call", user="U0ANA"))
    view = await eventually(lambda: next((v for v in bot.slack.views.values() if v.get("callback_id") == NEW_MODAL), None))
    assert "Who called?" in block_text(view["blocks"])
    values = {"requester": {"requester": "caller@customer.example"}, "subject": {"subject": "Phoned about VPN"},
              "body": {"body": "VPN drops every hour."}}
    reply = await bot.send(bot.requests.view_submission(view, values, user="U0ANA"))
    assert reply.status == 200 and reply.json()["response_action"] == "update"  # "Sending…" at once
    await bot.settled()
    assert any("Phoned about VPN" in t for t in in_channel(bot, CHANNEL))
    assert ":white_check_mark:" in block_text(bot.slack.views[view["id"]]["blocks"])
    waiting = await bot.mail(raw_mail(subject="Unassigned one"))
    await bot.settled()
    queue = await command(bot, "queue", user="U0ANA")
    assert "Unassigned one" in queue
    answer = bot.slack.responses[-1]
    await bot.send(bot.requests.click({"ts": "1.0", **answer, "type": "message"}, NEXT, user="U0ANA"))
    await eventually(lambda: _assigned(bot, waiting))


async def _assigned(bot: SlackBot, number: int) -> bool:
    t = await ticket(bot.core, number)
    return t is not None and t.assignee_id is not None


async def test_category_tags_and_team_from_the_root_message(bot: SlackBot) -> None:
    number = await bot.mail(raw_mail(subject="Wrong invoice"))
    await bot.settled()
    root = await bot.root_of(number)
    await bot.send(bot.requests.select_option(root.payload(), ticket_blocks.CATEGORY, "billing", user="U0ANA"))
    await eventually(lambda: "*Category*\nbilling" in bot.root_text(root))
    now = bot.slack.message(CHANNEL, root.ts).payload()
    await bot.send(bot.requests.select_option(now, ticket_blocks.MORE, "tags", user="U0ANA"))
    form = await eventually(lambda: next((v for v in bot.slack.views.values() if v.get("callback_id") == ticket_blocks.TAGS_MODAL), None))
    await bot.send(bot.requests.view_submission(form, {"tags": {"tags": "VIP, refund"}}, user="U0ANA"))
    await eventually(lambda: "refund, vip" in bot.root_text(root))
    now = bot.slack.message(CHANNEL, root.ts).payload()
    await bot.send(bot.requests.select_option(now, ticket_blocks.MORE, "move", user="U0ANA"))
    form = await eventually(lambda: next((v for v in bot.slack.views.values() if v.get("callback_id") == ticket_blocks.MOVE_MODAL), None))
    picked = {"team": {"team": {"type": "static_select", "selected_option": {"text": {"type": "plain_text", "text": "billing"},
                                                                               "value": "billing"}}}}
    await bot.send(bot.requests.view_submission(form, picked, user="U0ANA"))
    await bot.settled()
    assert [r.text.split(" —")[0] for r in bot.slack.roots("C0BILLING")] == [f"#{number} Wrong invoice"]
