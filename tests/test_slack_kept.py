"""Nothing an agent did in Slack is lost once Slack was answered: the request is kept before the ack.

Slack does not deliver an acknowledged event again, so the bot is killed here after the ack and
before the work ran (the worker is held at its first step, then the runtime is torn down without
draining, writing nothing more, as a dead process would). The next bot on the same database does
the work once the dead worker's lease has run out; Slack's redelivery of the same event id, and a
duplicate delivery while the first is still pending, change nothing.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.adapters.slack import ticket_blocks
from bot.domain.model import MessageKind
from bot.handlers.context import Actor, utcnow
from bot.store import orm
from tests.support.db import Database
from tests.support.mails import messages, raw_mail, ticket
from tests.support.slack_bot import SlackBot, eventually, fake_slack, running_bot


@dataclass
class Held:
    """The bot's workers, stopped at their first step (who is acting?) until released."""

    entered: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    calls: int = 0


def hold_work(bot: SlackBot) -> Held:
    assert bot.runtime.slack is not None
    people = bot.runtime.slack.parts.people
    real = people.actor
    held = Held()

    async def actor(user_id: str, fallback_name: str = "") -> Actor:
        held.calls += 1
        held.entered.set()
        await held.release.wait()
        return await real(user_id, fallback_name)

    people.actor = actor  # type: ignore[method-assign]
    return held


async def kill(bot: SlackBot) -> None:
    """As if the process died now: the workers stop where they are and nothing more is written."""
    assert bot.runtime.slack is not None
    await bot.runtime.slack.parts.backlog.stop(crash=True)


async def after_leases_ran_out(bot: SlackBot) -> None:
    """A minute later: the dead worker's lease has run out, and the sweep takes its work over."""
    bot.core.ctx.clock = lambda: utcnow() + timedelta(minutes=1)
    assert bot.runtime.slack is not None
    await bot.runtime.slack.parts.backlog.sweep()
    await bot.settled()


async def kept(bot: SlackBot) -> list[tuple[str, str, int]]:
    c = orm.chat_inbox.c
    async with bot.core.engine.connect() as conn:
        rows = (await conn.execute(select(c.key, c.state, c.attempts).order_by(c.id))).all()
    return [(r.key, r.state, r.attempts) for r in rows]


async def notes(bot: SlackBot, number: int) -> list[str]:
    return [m.body_text for m in await messages(bot.core, number) if m.kind == MessageKind.NOTE]


@asynccontextmanager
async def lives(db: Database, tmp_path: Path) -> AsyncIterator[Callable[[], Any]]:
    """Bots one after another on one database and one Slack workspace."""
    async with fake_slack() as slack:
        def life() -> Any:
            return running_bot(db, tmp_path, slack=slack)
        yield life


async def ticket_in_slack(bot: SlackBot) -> tuple[int, Any]:
    number = await bot.mail(raw_mail(subject="Printer on fire"))
    await bot.settled()
    return number, await bot.root_of(number)


async def test_a_note_acknowledged_before_a_crash_is_stored_once_after_restart_and_redelivery(
        database: Database, tmp_path: Path) -> None:
    async with lives(database, tmp_path) as life:
        async with life() as bot:
            number, root = await ticket_in_slack(bot)
            held = hold_work(bot)
            typed = bot.requests.message("Checked the tray: toner everywhere.", user="U0ANA", thread_ts=root.ts)
            reply = await bot.event(typed, event_id="Ev0NOTE")  # the ack: Slack will not send it again
            assert reply.status == 200
            await held.entered.wait()
            await kill(bot)
            assert await notes(bot, number) == []
            assert await kept(bot) == [("event:Ev0NOTE", "pending", 1)]

        async with life() as bot:
            await bot.settled()
            assert await notes(bot, number) == [], "the dead worker's lease still holds it"
            await after_leases_ran_out(bot)
            assert await notes(bot, number) == ["Checked the tray: toner everywhere."]
            assert await kept(bot) == [("event:Ev0NOTE", "done", 2)]

            await bot.event(typed, event_id="Ev0NOTE", retry_num=1)  # Slack unsure, delivering again
            await bot.settled()
            assert await notes(bot, number) == ["Checked the tray: toner everywhere."]
            assert await kept(bot) == [("event:Ev0NOTE", "done", 2)]


async def test_a_duplicate_delivery_while_the_first_is_pending_runs_once(database: Database, tmp_path: Path) -> None:
    async with running_bot(database, tmp_path) as bot:
        number, root = await ticket_in_slack(bot)
        held = hold_work(bot)
        typed = bot.requests.message("Called the customer back.", user="U0BEN", thread_ts=root.ts)
        await bot.event(typed, event_id="Ev0TWICE")
        await held.entered.wait()
        await bot.event(typed, event_id="Ev0TWICE", retry_num=1)
        await bot.event(typed, event_id="Ev0TWICE", retry_num=2)
        held.release.set()
        await bot.settled()
        assert held.calls == 1, "the work ran once"
        assert await notes(bot, number) == ["Called the customer back."]
        assert await kept(bot) == [("event:Ev0TWICE", "done", 1)]


async def test_a_click_and_a_command_acknowledged_before_a_crash_are_done_after_restart(
        sqlite_database: Database, tmp_path: Path) -> None:
    """Interactions and commands are kept too, and replayed through the same listeners (Bolt) after a restart."""
    async with lives(sqlite_database, tmp_path) as life:
        async with life() as bot:
            number, root = await ticket_in_slack(bot)
            other, _ = await ticket_in_slack(bot)
            held = hold_work(bot)
            assert (await bot.send(bot.requests.click(root.payload(), ticket_blocks.CLAIM, user="U0ANA"))).status == 200
            assert (await bot.send(bot.requests.command(f"priority {other} urgent", user="U0BEN"))).status == 200
            await held.entered.wait()
            await kill(bot)
            assert [state for _, state, _ in await kept(bot)] == ["pending", "pending"]

        async with life() as bot:
            await after_leases_ran_out(bot)
            t = await ticket(bot.core, number)
            assert t is not None and t.assignee_id is not None
            await eventually(lambda: "<@U0ANA>" in bot.root_text(root))
            o = await ticket(bot.core, other)
            assert o is not None and str(o.priority) == "urgent"
            answered = await eventually(lambda: [r for r in bot.slack.responses if "urgent" in r.get("text", "")])
            assert answered[0]["response_type"] == "ephemeral"  # through the command's response_url
            assert [state for _, state, _ in await kept(bot)] == ["done", "done"]


async def test_a_transient_failure_is_tried_again_later(sqlite_database: Database, tmp_path: Path) -> None:
    async with running_bot(sqlite_database, tmp_path) as bot:
        number, root = await ticket_in_slack(bot)
        assert bot.runtime.slack is not None
        people = bot.runtime.slack.parts.people
        real, failures = people.actor, [ConnectionResetError("the database went away")]

        async def flaky(user_id: str, fallback_name: str = "") -> Actor:
            if failures:
                raise failures.pop()
            return await real(user_id, fallback_name)

        people.actor = flaky  # type: ignore[method-assign]
        await bot.event(bot.requests.message("Ordered a new drum.", user="U0ANA", thread_ts=root.ts), event_id="Ev0FLAKY")
        await bot.settled()
        assert await notes(bot, number) == []
        assert await kept(bot) == [("event:Ev0FLAKY", "pending", 1)]  # waiting for its next attempt
        await after_leases_ran_out(bot)
        assert await notes(bot, number) == ["Ordered a new drum."]
        assert await kept(bot) == [("event:Ev0FLAKY", "done", 2)]


async def test_a_permanent_failure_is_given_up_and_the_agent_told_privately(
        sqlite_database: Database, tmp_path: Path) -> None:
    async with running_bot(sqlite_database, tmp_path) as bot:
        number, root = await ticket_in_slack(bot)
        assert bot.runtime.slack is not None

        async def broken(user_id: str, fallback_name: str = "") -> Actor:
            raise RuntimeError("a bug")

        bot.runtime.slack.parts.people.actor = broken  # type: ignore[method-assign]
        await bot.event(bot.requests.message("Lost?", user="U0ANA", thread_ts=root.ts), event_id="Ev0BUG")
        told = await eventually(lambda: [e for e in bot.slack.ephemeral if e["user"] == "U0ANA"])
        assert "could not finish your message" in told[0]["text"] and "reference inbox-" in told[0]["text"]
        assert told[0]["thread_ts"] == root.ts
        assert await kept(bot) == [("event:Ev0BUG", "failed", 1)]
        assert await notes(bot, number) == []


async def test_what_does_nothing_is_not_kept(sqlite_database: Database, tmp_path: Path) -> None:
    """The bot's own posts and talk outside ticket threads come as events too; they cost no write."""
    async with running_bot(sqlite_database, tmp_path) as bot:
        await ticket_in_slack(bot)
        await bot.event(bot.requests.message("Lunch?", user="U0ANA"))
        await bot.event(bot.requests.message("A root", user="U0BOT", bot=True))
        await bot.event(bot.requests.reaction_added("tada", user="U0ANA", item_ts="1.000001"))
        await bot.settled()
        assert await kept(bot) == []


async def test_socket_mode_keeps_an_event_before_its_envelope_is_acknowledged(
        sqlite_database: Database, tmp_path: Path) -> None:
    async with running_bot(sqlite_database, tmp_path, slack_app_token="xapp-test-token") as bot:
        number, root = await ticket_in_slack(bot)
        held = hold_work(bot)
        typed = bot.requests.message("a note by socket", user="U0ANA", thread_ts=root.ts)
        envelope = json.loads(bot.requests.event(typed, event_id="Ev0SOCKET").body)
        ack = await bot.slack.socket_mode.send("events_api", envelope)
        assert ack["envelope_id"]
        assert await kept(bot) == [("event:Ev0SOCKET", "pending", 1)]  # already kept when Slack heard back
        await bot.slack.socket_mode.send("events_api", envelope, retry_attempt=1)
        held.release.set()
        await bot.settled()
        assert held.calls == 1
        assert await notes(bot, number) == ["a note by socket"]


async def test_a_stop_before_the_work_ran_frees_it_for_the_next_start_at_once(
        sqlite_database: Database, tmp_path: Path) -> None:
    async with lives(sqlite_database, tmp_path) as life:
        async with life() as bot:
            number, root = await ticket_in_slack(bot)
            held = hold_work(bot)
            await bot.event(bot.requests.message("Before the deploy.", user="U0ANA", thread_ts=root.ts),
                            event_id="Ev0STOP")
            await held.entered.wait()
            assert bot.runtime.slack is not None
            await bot.runtime.slack.parts.backlog.stop(grace=0)  # a deploy: stopping, not dying

        async with life() as bot:  # no lease to wait out: the start's own sweep does it
            await eventually(lambda: notes(bot, number))
            assert await notes(bot, number) == ["Before the deploy."]
            assert await kept(bot) == [("event:Ev0STOP", "done", 2)]
