"""Who may act in Slack: the tickets channel's members by default, a roster by user group, at every door.

The bot runs against the fake Slack; people act only by signed requests. The facts
the policy decides on come from Slack itself (conversations.members,
usergroups.users.list, users.info) and from its membership events, so joining the
channel grants and leaving revokes at once. A refused person is told privately and
nothing else happens: no change to the ticket, no message stored, no mail, no
Slack write besides the private answer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.slack import views
from bot.adapters.slack.interactions import SEND_TO_CUSTOMER
from bot.handlers import queries
from tests.support.db import Database
from tests.support.mails import messages, raw_mail, ticket
from tests.support.people import OPERATOR
from tests.support.slack_bot import BOT_USER, SlackBot, block_text, eventually, fake_slack, running_bot, user

OUT = "U0OUT"  # a workspace member who is not in the tickets channel
WRITES = ("chat.postMessage", "chat.update", "views.open", "views.update", "reactions.add",
          "files.completeUploadExternal")


@pytest.fixture
async def bot(database: Database, tmp_path: Path) -> AsyncIterator[SlackBot]:
    """On SQLite and PostgreSQL: a refusal must leave no trace in either."""
    async with fake_slack() as slack:
        slack.users[OUT] = user(OUT, "Olli Outsider", "olli@elsewhere.test")
        async with running_bot(database, tmp_path, slack=slack) as b:
            yield b


async def ticket_with_root(bot: SlackBot, **mail: Any) -> tuple[int, Any]:
    number = await bot.mail(raw_mail(**mail))
    await bot.settled()
    return number, await bot.root_of(number)


def writes(bot: SlackBot) -> int:
    return sum(len(bot.slack.calls_to(m, ok_only=True)) for m in WRITES)


async def state(bot: SlackBot, number: int) -> tuple[Any, ...]:
    """What a refused action must leave as it was: the ticket, its messages, the mail sent."""
    t = await ticket(bot.core, number)
    assert t is not None
    stored = [(m.kind, m.body_text) for m in await messages(bot.core, number)]
    return t.assignee_id, t.status, t.priority, t.tags, stored, len(bot.sink.received)


async def private_answer(bot: SlackBot, who: str, seen: tuple[int, int]) -> str:
    """The one answer `who` alone sees, through response_url or as an ephemeral message."""
    def new() -> list[str]:
        responses = [r.get("text", "") for r in bot.slack.responses[seen[0]:]]
        ephemeral = [e.get("text", "") for e in bot.slack.ephemeral[seen[1]:] if e["user"] == who]
        return responses + ephemeral
    found = await eventually(new)
    assert all(r.get("response_type") == "ephemeral" for r in bot.slack.responses[seen[0]:])
    return "\n".join(found)


def seen(bot: SlackBot) -> tuple[int, int]:
    return len(bot.slack.responses), len(bot.slack.ephemeral)


async def claim(bot: SlackBot, number: int, who: str) -> str:
    before = seen(bot)
    assert (await bot.send(bot.requests.command(f"claim {number}", user=who))).status == 200
    return await private_answer(bot, who, before)


# --- the default roster: the tickets channel's members ------------------------------------

async def test_a_channel_member_claims_and_a_non_member_is_refused_privately(bot: SlackBot) -> None:
    number, root = await ticket_with_root(bot)
    before, slack_writes = await state(bot, number), writes(bot)
    answer = await claim(bot, number, OUT)
    assert "only the helpdesk's agents" in answer and "Printer" not in answer
    await bot.settled()
    assert await state(bot, number) == before and writes(bot) == slack_writes
    history = await queries.history(bot.core.ctx, OPERATOR, number)
    assert any(h.action == "refused" and h.actor == f"agent:{OUT}" and h.field == "claim" for h in history)

    assert "claimed by Ana" in await claim(bot, number, "U0ANA")
    await bot.settled()
    assert "<@U0ANA>" in bot.root_text(root)


async def test_joining_the_channel_grants_and_leaving_revokes_at_once(bot: SlackBot) -> None:
    number, _ = await ticket_with_root(bot)
    assert "only the helpdesk's agents" in await claim(bot, number, OUT)
    loads = len(bot.slack.calls_to("conversations.members"))
    await bot.join(OUT)
    assert "claimed by Olli" in await claim(bot, number, OUT)
    await bot.leave(OUT)
    before = seen(bot)
    await bot.send(bot.requests.command(f"close {number}", user=OUT))
    assert "only the helpdesk's agents" in await private_answer(bot, OUT, before)
    assert len(bot.slack.calls_to("conversations.members")) == loads, "the events did it, not a reload"
    t = await ticket(bot.core, number)
    assert t is not None and t.status.is_active


async def test_a_teams_channel_counts_as_the_tickets_channel(bot: SlackBot) -> None:
    number, _ = await ticket_with_root(bot)
    bot.slack.add_member("C0OTHER", OUT)  # not a team channel: no rights
    assert "only the helpdesk's agents" in await claim(bot, number, OUT)


# --- every door, for a stranger -------------------------------------------------------------

Door = Callable[[SlackBot, int, Any], Awaitable[None]]


async def _command(text: str, bot: SlackBot, number: int, root: Any) -> None:
    await bot.send(bot.requests.command(text.format(n=number), user=OUT))


async def _click(action_id: str, bot: SlackBot, number: int, root: Any) -> None:
    await bot.send(bot.requests.click(root.payload(), action_id, user=OUT))


async def _reaction(bot: SlackBot, number: int, root: Any) -> None:
    await bot.event(bot.requests.reaction_added("eyes", user=OUT, item_ts=root.ts))


async def _thread_message(bot: SlackBot, number: int, root: Any) -> None:
    await bot.event(bot.requests.message("a stranger's words", user=OUT, thread_ts=root.ts))


async def _mention(bot: SlackBot, number: int, root: Any) -> None:
    await bot.event(bot.requests.app_mention(f"<@{BOT_USER}> close", user=OUT, thread_ts=root.ts))


async def _assign(bot: SlackBot, number: int, root: Any) -> None:
    await bot.send(bot.requests.select_user(root.payload(), views.ASSIGN, "U0ANA", user=OUT))


async def _priority(bot: SlackBot, number: int, root: Any) -> None:
    await bot.send(bot.requests.select_option(root.payload(), views.PRIORITY, "urgent", user=OUT))


async def _shortcut(bot: SlackBot, number: int, root: Any) -> None:
    note = bot.requests.message("an agent's note", user="U0ANA", thread_ts=root.ts)
    await bot.event(note)
    await eventually(lambda: _has_note(bot, number))
    await bot.settled()
    bot.slack.calls.clear()  # the note's own effects are not the stranger's
    await bot.send(bot.requests.message_action({**note, "thread_ts": root.ts}, callback_id=SEND_TO_CUSTOMER, user=OUT))


async def _has_note(bot: SlackBot, number: int) -> bool:
    return any(m.body_text == "an agent's note" for m in await messages(bot.core, number))


DOORS: dict[str, Door] = {
    "/ticket claim": lambda b, n, r: _command("claim {n}", b, n, r),
    "/ticket show": lambda b, n, r: _command("show {n}", b, n, r),
    "/ticket reply": lambda b, n, r: _command("reply {n} Hello from a stranger", b, n, r),
    "/ticket note": lambda b, n, r: _command("note {n} scribble", b, n, r),
    "/ticket priority": lambda b, n, r: _command("priority {n} urgent", b, n, r),
    "/ticket history": lambda b, n, r: _command("history {n}", b, n, r),
    "/ticket queue": lambda b, n, r: _command("queue", b, n, r),
    "Claim button": lambda b, n, r: _click(views.CLAIM, b, n, r),
    "Close button": lambda b, n, r: _click(views.CLOSE, b, n, r),
    "Reply button": lambda b, n, r: _click(views.REPLY, b, n, r),
    "Assign select": _assign,
    "Priority select": _priority,
    "eyes reaction": _reaction,
    "thread message": _thread_message,
    "@tiketti close": _mention,
    "Send to customer": _shortcut,
}


@pytest.mark.parametrize("door", list(DOORS))
async def test_a_stranger_gets_nothing_through_any_door(bot: SlackBot, door: str) -> None:
    number, root = await ticket_with_root(bot, subject="Salary list attached", body="Secret figures inside.")
    if door == "Send to customer":
        await DOORS[door](bot, number, root)
        before, slack_writes, told = await state(bot, number), 0, (len(bot.slack.responses), 0)
    else:
        before, slack_writes, told = await state(bot, number), writes(bot), seen(bot)
        await DOORS[door](bot, number, root)
    answer = await private_answer(bot, OUT, told)
    assert "agents" in answer and "Secret figures" not in answer and "Salary" not in answer
    await bot.settled()
    assert await state(bot, number) == before, "no effect on the ticket, its messages or mail"
    assert writes(bot) == slack_writes, "no Slack write besides the private answer"
    assert not bot.slack.views, "no form opened for a stranger"
    assert "Secret figures" not in block_text([e for e in bot.slack.ephemeral if e["user"] == OUT])


# --- a roster naming a user group ------------------------------------------------------------

ROSTER = """
[roles]
agents = ["S0HELPERS"]
managers = ["eva@helpdesk.test"]
"""


@pytest.fixture
async def roster_bot(sqlite_database: Database, tmp_path: Path) -> AsyncIterator[SlackBot]:
    path = tmp_path / "workflow.toml"
    path.write_text(ROSTER)
    async with fake_slack(usergroups={"S0HELPERS": [OUT]}) as slack:
        slack.users[OUT] = user(OUT, "Olli Outsider", "olli@elsewhere.test")
        async with running_bot(sqlite_database, tmp_path, slack=slack, workflow_file=path) as b:
            yield b


async def test_a_user_group_in_the_roster_makes_agents_and_the_channel_no_longer_does(roster_bot: SlackBot) -> None:
    bot = roster_bot
    number, _ = await ticket_with_root(bot)
    assert "claimed by Olli" in await claim(bot, number, OUT)  # in S0HELPERS, not in the channel
    assert [c.args["usergroup"] for c in bot.slack.calls_to("usergroups.users.list")] == ["S0HELPERS"]
    assert "only the helpdesk's agents" in await claim(bot, number, "U0ANA")  # in the channel only
    assert "claimed by Eva" in await claim(bot, number, "U0EVA")  # a manager by her Slack profile's email
    bot.slack.usergroups["S0HELPERS"].remove(OUT)
    await bot.event(bot.requests.subteam_members_changed("S0HELPERS", removed=[OUT]))
    assert "only the helpdesk's agents" in await claim(bot, number, OUT)
