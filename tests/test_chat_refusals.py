"""Failures of a chat platform, classified: on the console surface, as the chat layer sees every platform.

A refusal for good (`Undeliverable`: a message too long, a deleted root, a channel the bot is
not in) stops that one item: the ticket's other messages and its root update still go out, it
is recorded so no sweep tries it again, and agents get one notice saying what to do. A passing
failure (a 5xx) is retried with backoff until the post is made, once. The queue's backoff
itself is checked on its own, with a sync that fails as told. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot import metrics
from bot.chat import sync_queue
from bot.chat.surface import Scope, Undeliverable
from bot.chat.sync_queue import SyncQueue, retry_delay
from bot.handlers import threads
from tests.support.console_desk import Desk, console_desk
from tests.support.db import Database
from tests.support.mails import deliver, raw_mail
from tests.test_chat_flows import ANA, WORKFLOW

TOO_LONG = Undeliverable("Slack refused the message as too long", "read the ticket with /ticket show",
                         code="msg_blocks_too_long")


@pytest.fixture
async def desk(database: Database, tmp_path: Path) -> AsyncIterator[Desk]:
    async with console_desk(database, tmp_path, WORKFLOW) as d:
        d.sync.queue.retry_base = 0.05
        yield d
        assert d.surface.repeated == [], "a key was posted again by a caller that expected no earlier post"


def failures(code: str, kind: str = "permanent") -> float:
    value = metrics.REGISTRY.get_sample_value("tiketti_chat_post_failures_total",
                                              {"platform": "console", "code": code, "kind": kind})
    return value or 0.0


def told(desk: Desk, number: int) -> list[str]:
    """Every notice of a refusal, in the ticket's thread or at a channel's top level."""
    return [t for t in desk.surface.thread(number) + desk.surface.channel() if "couldn't post" in t]


async def swept(desk: Desk, times: int = 3) -> None:
    """Sweeps as a running bot makes them, long after the failure (the queue's retry times included)."""
    for _ in range(times):
        desk.sync.queue._retry_at.clear()  # as if every wait had passed
        await desk.sync.sweep()
        await desk.settled()


async def mailed(desk: Desk, **kw: str) -> int:
    number = (await deliver(desk.core, raw_mail(**kw))).ticket_number
    assert number is not None
    await desk.settled()
    return number


async def test_a_refused_message_is_told_once_and_the_rest_of_the_thread_goes_on(desk: Desk) -> None:
    n = await mailed(desk)
    before = failures("msg_blocks_too_long")
    desk.surface.fail_next(1, key="message-", error=TOO_LONG)
    await desk.type(ANA, f"/ticket note {n} First note: refused.", f"/ticket note {n} Second note: shown.",
                    f"/ticket claim {n}")
    thread = desk.surface.thread(n)
    assert [t for t in thread if "Second note: shown." in t] and not [t for t in thread if "First note" in t]
    assert "assignee: Ana" in desk.surface.root(n), "the root update went out after the refusal"
    [notice] = told(desk, n)
    assert notice in thread, "a refused message is told in the ticket's thread"
    assert notice == (f"✗ #{n}: couldn't post a note to #tickets: Slack refused the message as too long — "
                      "read the ticket with /ticket show")
    await swept(desk)
    calls = Counter(k for k in desk.surface.calls if k.startswith("message-"))
    assert set(calls.values()) == {1}, f"a message was tried again: {calls}"
    assert len(told(desk, n)) == 1
    assert n not in await threads.tickets_to_sync(desk.core.ctx, "console"), "the ticket is not left behind"
    assert failures("msg_blocks_too_long") - before == 1


async def test_a_passing_failure_is_retried_with_backoff_and_posted_once(desk: Desk) -> None:
    n = await mailed(desk)
    desk.surface.fail_next(3, key="message-")  # a 5xx, three times in a row
    before = failures("PostFailed", "transient")
    await desk.type(ANA, f"/ticket note {n} Ordered a fuser unit.")
    deadline = time.monotonic() + 10
    while not [t for t in desk.surface.thread(n) if "fuser unit" in t]:
        assert time.monotonic() < deadline, "the note never went out"
        await asyncio.sleep(0.05)
        await desk.settled()
    [key] = {k for k in desk.surface.calls if k.startswith("message-")} - {desk.surface.calls[1]}
    assert desk.surface.calls.count(key) == 4, "three failures, then the post"
    assert len([t for t in desk.surface.thread(n) if "fuser unit" in t]) == 1
    assert told(desk, n) == [], "a passing failure is nobody's business"
    assert failures("PostFailed", "transient") - before == 3


async def test_a_deleted_root_is_told_in_its_channel_and_its_ticket_keeps_moving(desk: Desk) -> None:
    n = await mailed(desk)
    gone = Undeliverable("the ticket's message in Slack was deleted", "read the ticket with /ticket show",
                         code="message_not_found", scope=Scope.THREAD)
    desk.surface.fail_next(1, key=f"update-{n}", error=gone)
    await desk.type(ANA, f"/ticket claim {n}")
    [notice] = told(desk, n)
    assert notice in desk.surface.channel(), "a gone thread is told at its channel's top level"
    assert f"#{n}: couldn't post an update of the ticket's root to #tickets: the ticket's message" in notice
    await swept(desk)
    assert desk.surface.calls.count(f"update-{n}") == 1, "a refused root update waits for the next change"
    await desk.type(ANA, f"/ticket note {n} Still here.")
    assert [t for t in desk.surface.thread(n) if "Still here." in t]
    assert desk.surface.calls.count(f"update-{n}") == 2 and "assignee: Ana" in desk.surface.root(n)
    assert len(told(desk, n)) == 1


async def test_a_channel_closed_to_the_bot_is_told_in_the_tickets_channel_and_caught_up_later(desk: Desk) -> None:
    closed = Undeliverable("the bot is not in the channel", "/invite @Tiketti", code="not_in_channel",
                           scope=Scope.CHANNEL)
    desk.surface.fail_next(50, key="ticket-", error=closed)
    n = await mailed(desk)
    assert desk.surface.root_of(n) is None
    [notice] = told(desk, n)
    assert notice in desk.surface.channel("tickets")
    assert notice == f"✗ #{n}: couldn't post the ticket's root to #tickets: the bot is not in the channel — /invite @Tiketti"
    tries = desk.surface.calls.count(f"ticket-{n}")
    for _ in range(3):  # the sweeps leave it to its long wait: no call per sweep
        await desk.sync.sweep()
        await desk.settled()
    assert desk.surface.calls.count(f"ticket-{n}") == tries
    # Someone invites the bot; the ticket's next change shows it whole.
    desk.surface._faults.clear()
    await desk.type(ANA, f"/ticket note {n} Any news?")
    assert desk.surface.root_of(n) is not None
    thread = desk.surface.thread(n)
    assert [t for t in thread if "prints only blank pages" in t] and [t for t in thread if "Any news?" in t]
    assert len(told(desk, n)) == 1


# ---- the queue's backoff -------------------------------------------------------------------

def test_backoff_grows_and_is_capped() -> None:
    assert [retry_delay(i, 10.0) for i in (1, 2, 3, 4)] == [10.0, 20.0, 40.0, 80.0]
    assert retry_delay(30, 10.0) == sync_queue.RETRY_CAP


async def test_each_ticket_backs_off_alone_and_a_refused_one_waits_long() -> None:
    tried: dict[int, list[float]] = {1: [], 2: [], 3: []}

    async def sync(number: int) -> bool:
        tried[number].append(time.monotonic())
        if number == 1 and len(tried[1]) <= 3:
            raise ConnectionError("passing")
        if number == 2:
            raise Undeliverable("refused", code="x")
        return True

    async def find() -> list[int]:
        return [1, 2, 3]

    queue = SyncQueue("test", sync, find, workers=2, sweep_seconds=0.01)
    queue.retry_base = 0.1
    stop = asyncio.Event()
    task = asyncio.create_task(queue.run(stop))
    await asyncio.sleep(1.5)
    stop.set()
    await task
    one = tried[1]
    assert len(one) >= 4, one
    gaps = [b - a for a, b in zip(one, one[1:4], strict=False)]
    assert gaps[0] >= 0.09 and gaps[1] >= 0.19 and gaps[2] >= 0.39, gaps
    assert len(tried[2]) == 1, "a refused ticket is not tried again by the sweeps"
    assert len(tried[3]) >= 2, "the other tickets are swept as ever"
