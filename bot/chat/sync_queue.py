"""Which tickets to bring up to date on a chat platform, and a few workers that do it.

Events only say "ticket N changed"; what to post is computed from the store
(`bot.handlers.threads`), so a lost event, a platform outage or a restart is
caught up by the periodic sweep, and syncing a ticket twice is harmless. One
ticket is synced by one worker at a time; a change arriving meanwhile syncs it
once more afterwards. Every chat adapter's publisher runs on one of these.

Two lanes: a ticket is queued in the first unless the sync asked for it `later`
(its root is out, its thread's back-fill can wait while other tickets wait for
their roots): under a backlog every ticket is visible before any thread fills in.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from bot.chat.surface import Undeliverable

log = logging.getLogger(__name__)

RETRY_SECONDS = 10.0  # a ticket whose sync failed for a passing reason is tried again after this, then 2x, 4x…
RETRY_CAP = 300.0  # …but never waits longer than this: an outage's end is caught within five minutes
# A ticket whose root the platform refuses for good (the bot is not in the team's channel) is looked at
# again only after this, or at once when the ticket changes: an operator's fix (/invite) is picked up,
# and a refused ticket costs one call per half hour, not one per sweep.
PERMANENT_RETRY = 1800.0


def retry_delay(failures: int, base: float = RETRY_SECONDS) -> float:
    """Seconds before ticket sync try `failures` + 1 after a passing failure: base, 2x, 4x… capped."""
    return min(RETRY_CAP, base * 2 ** max(0, failures - 1))


class SyncQueue:
    def __init__(self, name: str, sync: Callable[[int], Awaitable[bool]], find: Callable[[], Awaitable[Sequence[int]]],
                 *, workers: int = 4, sweep_seconds: float = 15.0, batch: int | None = None) -> None:
        """`find` lists tickets that are behind, at most `batch` of them: a full batch is caught up at once."""
        self.name, self._sync, self._find = name, sync, find
        self.workers, self.sweep_seconds, self.batch = workers, sweep_seconds, batch
        self._queue: asyncio.PriorityQueue[tuple[int, int, int]] = asyncio.PriorityQueue()  # (lane, order, n)
        self._order = itertools.count()
        self._queued: set[int] = set()
        self._first_lane = 0  # tickets waiting in the first lane
        self._later: set[int] = set()  # tickets whose sync asked to be queued again in the second lane
        self._active: set[int] = set()
        self._again: set[int] = set()
        self._retry_at: dict[int, float] = {}
        self._failures: dict[int, int] = {}  # ticket -> syncs that failed in a row (its backoff)
        self.retry_base = RETRY_SECONDS  # tests shorten it
        self._busy = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def mark(self, number: int, *, later: bool = False) -> None:
        """Ticket `number` may differ from what the platform shows; a worker will look soon.

        `later`: after every ticket queued without it. A ticket already queued keeps its place."""
        if number not in self._queued:
            self._queued.add(number)
            self._idle.clear()
            self._first_lane += not later
            self._queue.put_nowait((int(later), next(self._order), number))

    def backlog(self) -> bool:
        """Whether tickets wait for a worker in the first lane (a sync may then leave its back-fill for later)."""
        return self._first_lane > 0

    def later(self, number: int) -> None:
        """Called by a sync of `number`: queue it again when it ends, after the tickets waiting now."""
        self._later.add(number)

    async def sweep(self) -> int:
        try:
            numbers = await self._find()
        except Exception:
            log.exception("%s: looking for tickets to show failed; will try again", self.name)
            return 0
        now = time.monotonic()
        due = [n for n in numbers if self._retry_at.get(n, 0.0) <= now]
        for number in due:
            self.mark(number)
        return len(due) if len(due) == len(numbers) else 0  # failing tickets wait for their retry time

    async def drained(self) -> None:
        await self._idle.wait()

    async def run(self, stop: asyncio.Event) -> None:
        tasks = [asyncio.create_task(self._worker(), name=f"{self.name}-{i}") for i in range(self.workers)]
        try:
            while not stop.is_set():
                if self.batch and await self.sweep() >= self.batch:  # more are behind: catch up now
                    await self.drained()
                    continue
                if not self.batch:
                    await self.sweep()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.sweep_seconds)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _worker(self) -> None:
        while True:
            lane, _, number = await self._queue.get()
            self._first_lane -= not lane
            self._queued.discard(number)
            if number in self._active:
                self._again.add(number)
                self._settle()
                continue
            self._active.add(number)
            self._busy += 1
            try:
                if await self._sync(number):
                    self._retry_at.pop(number, None)
                    self._failures.pop(number, None)
                else:  # another worker or instance holds it: the sweep looks again
                    self._retry_at[number] = time.monotonic() + 1.0
            except Exception as exc:  # one ticket's trouble must not stop the others
                self._failed(number, exc)
            finally:
                self._active.discard(number)
                self._busy -= 1
                if number in self._again:
                    self._again.discard(number)
                    self.mark(number)
                if number in self._later:
                    self._later.discard(number)
                    self.mark(number, later=True)
                self._settle()

    def _failed(self, number: int, exc: Exception) -> None:
        """Back off this ticket alone: growing waits for a passing failure, a long one for a refusal."""
        failures = self._failures[number] = self._failures.get(number, 0) + 1
        delay = PERMANENT_RETRY if isinstance(exc, Undeliverable) else retry_delay(failures, self.retry_base)
        self._retry_at[number] = time.monotonic() + delay
        log.warning("%s: showing ticket #%d failed (%s: %s); try %d in %.0f s", self.name, number,
                    type(exc).__name__, exc, failures + 1, delay)

    def _settle(self) -> None:
        if self._busy == 0 and self._queue.empty():
            self._idle.set()
