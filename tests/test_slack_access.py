"""Who may act in Slack, at every door: the tickets channel's members by default, or a roster.

The bot runs against the fake Slack; people act only by signed requests. The facts
the policy decides on come from Slack itself (conversations.members,
usergroups.users.list, users.info) and from its membership events, so joining the
channel grants and leaving revokes at once. One table of doors (tests/support/slack_doors.py)
is walked by a stranger (with and without a roster), a light agent before and after an
agent pulls them in by a mention, and an agent of the ticket's team, on SQLite and
PostgreSQL. A refused person is told privately and nothing else happens: no change in the
store besides the audit row of the refusal, no mail, no Slack write besides the private answer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.handlers import queries
from bot.handlers.context import Actor
from tests.support.db import Database
from tests.support.mails import messages, ticket
from tests.support.people import OPERATOR
from tests.support.slack_bot import CHANNEL, SlackBot, eventually, fake_slack, running_bot, user
from tests.support.slack_doors import (
    DOORS,
    EVERYTHING,
    SECRETS,
    Door,
    Scene,
    Seen,
    answers_since,
    build_scene,
    build_scenes,
    seen,
    thread_note,
    ticket_with_root,
)
from tests.support.store_state import refusals, store_state

OUT = "U0OUT"  # a workspace member who is not in the tickets channel
LIGHT = "U0LIT"  # an expert: a light agent where a roster names them


@pytest.fixture
async def bot(database: Database, tmp_path: Path) -> AsyncIterator[SlackBot]:
    """On SQLite and PostgreSQL: a refusal must leave no trace in either."""
    async with fake_slack() as slack:
        slack.users[OUT] = user(OUT, "Olli Outsider", "olli@elsewhere.test")
        async with running_bot(database, tmp_path, slack=slack) as b:
            yield b


async def private_answer(bot: SlackBot, who: str, before: Seen) -> str:
    """The answer `who` alone sees, through response_url or as an ephemeral message (waited for)."""
    told = await eventually(lambda: answers_since(bot, before, who, None)[0])
    assert all(r.get("response_type") == "ephemeral" for r in bot.slack.responses[before.responses:])
    return "\n".join(told)


async def claim(bot: SlackBot, number: int, who: str) -> str:
    before = seen(bot)
    assert (await bot.send(bot.requests.command(f"claim {number}", user=who))).status == 200
    return await private_answer(bot, who, before)


# --- the default roster: the tickets channel's members ------------------------------------

async def test_a_channel_member_claims_and_a_non_member_is_refused_privately(bot: SlackBot) -> None:
    number, root = await ticket_with_root(bot)
    state, before = await store_state(bot.core), seen(bot)
    answer = await claim(bot, number, OUT)
    assert "only the helpdesk's agents" in answer and "Printer" not in answer
    await bot.settled()
    assert await store_state(bot.core) == state and seen(bot).writes == before.writes
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


async def test_a_refused_note_edit_is_not_applied_and_its_author_is_told_once(bot: SlackBot) -> None:
    number, root = await ticket_with_root(bot)
    await bot.join(OUT)
    note = await thread_note(bot, root, number, "Olli's first words", user=OUT)
    await bot.leave(OUT)
    await bot.settled()  # the note's own root update is done
    before = seen(bot)
    edits = [bot.requests.message_changed(note, text) for text in ("Olli's second words", "Olli's third words")]
    for edit in (edits[0], edits[0], edits[1]):  # the first one redelivered by Slack, then edited again
        await bot.event(edit)
    await bot.settled()
    told, others = answers_since(bot, before, OUT, None)
    assert len(told) == 1 and "edit was not applied" in told[0] and "only the helpdesk's agents" in told[0]
    assert not others and bot.slack.ephemeral[-1]["thread_ts"] == root.ts, "in the thread, to them alone"
    assert [m.body_text for m in await messages(bot.core, number)][-1] == "Olli's first words"
    assert seen(bot).writes == before.writes


# --- every door, for every kind of person -------------------------------------------------

ROSTER = """
default_team = "billing"

[[teams]]
name = "billing"
members = ["U0ANA", "U0BEN"]

[[teams]]
name = "it"
members = ["U0IVY"]

[roles]
light = ["U0LIT"]

[[views]]
name = "billing-open"
team = "billing"
query = "status:open"

[[macros]]
name = "refund-approved"
title = "Refund approved"
tags = ["+refund"]
priority = "high"
note = "Refund approved"
"""
NO_ROSTER = """
default_team = "billing"

[[teams]]
name = "billing"

[[teams]]
name = "it"

[[views]]
name = "billing-open"
query = "status:open team:billing"

[[macros]]
name = "refund-approved"
title = "Refund approved"
tags = ["+refund"]
priority = "high"
note = "Refund approved"
"""  # teams without members and no [roles]: the tickets channel's members are the agents


@dataclass(frozen=True)
class Person:
    user: str
    workflow: str
    pulled_in: bool = False  # an agent mentioned them in the ticket's thread: light on that ticket
    agent: bool = False  # an agent of the ticket's team: every door works


PEOPLE = {
    "stranger, no roster": Person(OUT, NO_ROSTER),  # not in the tickets channel
    "stranger": Person(OUT, ROSTER),  # in the tickets channel, but the roster does not name them
    "light agent": Person(LIGHT, ROSTER),
    "light agent, pulled in": Person(LIGHT, ROSTER, pulled_in=True),
    "agent of the team": Person("U0ANA", ROSTER, agent=True),
}


@pytest.mark.parametrize("who", list(PEOPLE))
async def test_every_door_refuses_or_serves_as_the_role_allows(database: Database, tmp_path: Path, who: str) -> None:
    """Refused: a private answer saying why, an audit row, and nothing else (store, mail, Slack). Allowed:
    no refusal and something to show for it. A refused person shares one scene; the agent, who changes
    things, has a scene of their own at each door."""
    person = PEOPLE[who]
    path = tmp_path / "workflow.toml"
    path.write_text(person.workflow)
    async with fake_slack() as slack:
        slack.users[OUT] = user(OUT, "Olli Outsider", "olli@elsewhere.test")
        slack.users[LIGHT] = user(LIGHT, "Lee Light", "lee@experts.test")
        if person.workflow == ROSTER:
            slack.add_member(CHANNEL, OUT)
        async with running_bot(database, tmp_path, slack=slack, workflow_file=path) as bot:
            if person.agent:
                scenes = await build_scenes(bot, [door.needs for door in DOORS.values()])
            else:
                scenes = [await build_scene(bot, EVERYTHING, pull_in=person.user if person.pulled_in else None)] * len(DOORS)
            problems = []
            for door, scene in zip(DOORS.values(), scenes, strict=True):
                allowed = (person.agent or (person.pulled_in and door.light)
                           or (person.user == LIGHT and door.light_agents))
                problems += [f"{door.name}: {p}" for p in await use(bot, door, scene, person.user, allowed)]
    assert problems == [], "\n".join(problems)


async def use(bot: SlackBot, door: Door, scene: Scene, who: str, allowed: bool) -> list[str]:
    """Use one door as `who`; what went wrong, for one readable assertion over the whole table."""
    state, tried, before = await store_state(bot.core), len(await refusals(bot.core, Actor(who))), seen(bot)
    reply = await door.act(bot, scene, who)
    await bot.settled()
    told, others = answers_since(bot, before, who, reply)
    said = "\n".join(told)
    changed = await store_state(bot.core) != state
    if allowed:
        if any(t.startswith((":warning:", ":no_entry:", "errors:")) for t in told):
            return [f"refused or failed: {said[:200]!r}"]
        if door.shows:
            return [] if door.shows in said else [f"the answer lacks {door.shows!r}: {said[:200]!r}"]
        return [] if changed or seen(bot).views > before.views else ["nothing changed"]
    problems = []
    if "only" not in said and "pulled into" not in said:
        problems.append(f"not refused with a reason, said {said[:200]!r}")
    if leaked := [s for s in SECRETS if s in said]:
        problems.append(f"the refusal shows {leaked}")
    if others:
        problems.append(f"someone else was told: {others}")
    if changed:
        problems.append("the store changed")
    if (after := seen(bot)).writes != before.writes or after.views != before.views:
        problems.append("Slack was written to besides the private answer")
    if after.mail != before.mail:
        problems.append("mail was sent")
    if len(await refusals(bot.core, Actor(who))) <= tried:
        problems.append("no audit row for the refusal")
    return problems


# --- a roster naming a user group ------------------------------------------------------------

GROUP_ROSTER = """
[roles]
agents = ["S0HELPERS"]
managers = ["eva@helpdesk.test"]
"""


@pytest.fixture
async def roster_bot(sqlite_database: Database, tmp_path: Path) -> AsyncIterator[SlackBot]:
    path = tmp_path / "workflow.toml"
    path.write_text(GROUP_ROSTER)
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
