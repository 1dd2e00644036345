"""Work that follows an acknowledgement: kept first, then run by a few workers, so a burst queues instead of swamping.

Slack wants every request acknowledged within 3 seconds. Listeners acknowledge,
hand the rest here and return, so the HTTP answer goes out at once (Bolt runs
with process_before_response=True: the response waits for the listener, which
is quick). Bolt's own way (a task per request, polled for its ack every 10 ms)
let a burst of clicks start hundreds of transactions at once: connections ran
out, garbage collection stalled the loop, and acks waited half a second
(bench/slack.py). Work that must start within Slack's trigger window (opening a
modal) uses `soon`, which skips the queue and is not kept: a restart is past the window anyway.

Slack never sends an acknowledged request again, so `later` keeps the request in the
database (bot.adapters.slack.kept, one INSERT) before the listener returns, i.e. before
the ack. A crash then loses nothing: the sweep finds what a dead worker left once its
lease has run out, and replays the request through the same listeners to rebuild the
work. A job whose transaction lost a race (Conflict) runs again at once; a transient
failure (Slack or the database unreachable) is tried again later with backoff; anything
else is given up, logged, and the person told privately.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.adapters.slack.client import SlackPostFailed
from bot.adapters.slack.kept import Job, KeptRequests
from bot.handlers import inbox
from bot.handlers.ports import AlreadyDone, Conflict

log = logging.getLogger(__name__)

RETRIES = 2  # a job that lost a race (bot.handlers.ports.Conflict) is run again at once, at most this often
ATTEMPTS = 8  # runs of a kept job failing transiently before it is given up (backoff 2 s … 4 min: ~8 min)
SWEEP_SECONDS = 5.0  # how often kept work is looked for (retries due, a dead worker's leftovers) and leases renewed
PURGE_EVERY = 720  # sweeps (about an hour) between removals of old done and failed items
TRANSIENT_SLACK = {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}

# While a kept request is replayed through the listeners, the work they hand to `later` is collected here.
REPLAYING: ContextVar[list[Job] | None] = ContextVar("slack_replaying", default=None)


@dataclass
class _Entry:
    what: str
    job: Job | None  # None: a kept item found by the sweep, rebuilt when a worker takes it
    item_id: int | None = None  # None: not kept (no inbox, or work that must not wait)
    payload: Mapping[str, Any] | None = None


class Backlog:
    def __init__(self, workers: int = 4) -> None:
        self.workers = workers
        self.kept: KeptRequests | None = None  # set by the adapter; without it work lives in memory only
        self._queue: asyncio.Queue[_Entry] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._urgent: set[asyncio.Task[None]] = set()
        self._held: set[int] = set()  # kept items queued or running here: leased to us, renewed by the sweep

    async def later(self, job: Job, what: str, body: Mapping[str, Any] | None = None) -> None:
        """Queue `job`; with `body` (the request as Slack sent it), keep it first, once per Slack id."""
        replaying = REPLAYING.get()
        if replaying is not None:  # rebuilding kept work: it is kept already
            replaying.append(job)
            return
        item_id = None
        if self.kept is not None and body is not None:
            item_id = await self.kept.keep(body, what)
            if item_id is None:
                return  # a redelivery: the first delivery's work is queued, running or done
            self._held.add(item_id)
        self._queue.put_nowait(_Entry(what, job, item_id, body))

    def soon(self, job: Job, what: str) -> None:
        if REPLAYING.get() is not None:
            log.info("slack: not replaying %s after a restart: its trigger has expired", what)
            return
        task = asyncio.create_task(self._run(job, what), name=f"slack-{what}")
        self._urgent.add(task)
        task.add_done_callback(self._urgent.discard)

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._worker(), name=f"slack-work-{i}") for i in range(self.workers)]
        if self.kept is not None:
            self._tasks.append(asyncio.create_task(self._sweeper(), name="slack-kept-sweep"))

    async def idle(self) -> None:
        """Until everything handed in so far is done (tests wait on this)."""
        await self._queue.join()
        while self._urgent:
            await asyncio.gather(*list(self._urgent), return_exceptions=True)

    async def stop(self, grace: float = 10.0, *, crash: bool = False) -> None:
        """Finish what is queued (up to `grace` seconds), then stop; kept work not done by then is freed for
        the next start. `crash=True` stops at once and writes nothing, as if the process had died (tests)."""
        if not crash:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.idle(), timeout=grace)
        left = sorted(self._held)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks, self._held, self._queue = [], set(), asyncio.Queue()  # what was queued is kept, or lost with us
        if left and self.kept is not None and not crash:
            try:
                await self.kept.release(left)
                log.info("slack: %d kept requests were not done before stopping; the next start does them", len(left))
            except Exception:  # their leases run out instead
                log.exception("slack: could not free %d kept requests for the next start", len(left))

    async def sweep(self) -> int:
        """Queue kept work that is due and not held here: retries whose time has come, a dead worker's leftovers."""
        if self.kept is None:
            return 0
        found = [i for i in await self.kept.due() if i not in self._held]
        for item_id in found:
            self._held.add(item_id)
            self._queue.put_nowait(_Entry("kept request", None, item_id))
        if found:
            log.info("slack: %d kept requests to do (retries, or left by a stopped worker)", len(found))
        return len(found)

    async def _sweeper(self) -> None:
        assert self.kept is not None
        for n in itertools.count():
            try:
                await self.kept.renew(sorted(self._held))
                await self.sweep()
                if n % PURGE_EVERY == 0:
                    await self.kept.purge()
            except Exception:  # the database is away: the leases run out, and whoever sweeps next takes over
                log.exception("slack: looking for kept work failed; trying again in %s s", SWEEP_SECONDS)
            await asyncio.sleep(SWEEP_SECONDS)

    async def _worker(self) -> None:
        while True:
            entry = await self._queue.get()
            try:
                if entry.item_id is None:
                    assert entry.job is not None
                    await self._run(entry.job, entry.what)
                else:
                    await self._run_kept(entry, entry.item_id)
            finally:
                self._queue.task_done()

    async def _run_kept(self, entry: _Entry, item_id: int) -> None:
        assert self.kept is not None
        try:
            job, what, payload, attempts = entry.job, entry.what, entry.payload or {}, 1
            if job is None:  # found by the sweep: lease it, then let the listeners say again what it means
                restored = await self.kept.restore(item_id)
                if restored is None:
                    return  # done meanwhile, or another worker holds it
                item, job = restored
                what, payload, attempts = item.what, item.payload, item.attempts
            with inbox.working_on(self.kept.ctx, item_id) as working:
                error = await _attempt(job, what) if job is not None else None
            await self._settle(item_id, what, payload, attempts, error, done=working.done)
        except Exception:  # recording the outcome failed (the database?): the lease runs out, the item is redone
            log.exception("slack: could not record the outcome of kept request %s; it will be done again", item_id)
        finally:
            self._held.discard(item_id)

    async def _settle(self, item_id: int, what: str, payload: Mapping[str, Any], attempts: int,
                      error: BaseException | None, *, done: bool) -> None:
        assert self.kept is not None
        if error is None:
            if not done:  # nothing committed on its behalf (no change, or a refusal): done now
                await self.kept.finish(item_id)
        elif isinstance(error, AlreadyDone):
            log.info("slack: %s (kept request %s) was done by another worker", what, item_id)
        elif transient(error) and attempts < ATTEMPTS:
            delay = timedelta(seconds=min(2 ** attempts, 240))
            log.warning("slack: %s failed (%s); trying again in %s", what, describe(error), delay)
            await self.kept.retry_later(item_id, delay, describe(error))
        else:
            log.error("slack: %s failed after it was acknowledged; given up (reference inbox-%s)", what, item_id,
                      exc_info=error)
            await self.kept.give_up(item_id, payload, what, describe(error))

    @staticmethod
    async def _run(job: Job, what: str) -> None:
        error = await _attempt(job, what)
        if error is not None:  # the request was acknowledged: log it, and keep the workers alive
            log.error("slack: %s failed after it was acknowledged", what, exc_info=error)


async def _attempt(job: Job, what: str) -> BaseException | None:
    """Run `job`, again at once if it lost a race (the core rolled it back and says retry); its error, if any."""
    for attempt in itertools.count(1):
        try:
            await job()
            return None
        except AlreadyDone as exc:
            return exc
        except Conflict as exc:
            if attempt > RETRIES:
                return exc
            log.info("slack: %s lost a race (%s); trying again", what, exc)
            await asyncio.sleep(0.05 * attempt)
        except Exception as exc:
            return exc
    raise AssertionError("itertools.count() ended")


def transient(error: BaseException) -> bool:
    """Worth trying again later: a lost race, Slack busy or unreachable, the database unreachable."""
    if isinstance(error, Conflict | OSError | asyncio.TimeoutError | aiohttp.ClientError | SlackPostFailed):
        return True
    if isinstance(error, SlackApiError):
        status = int(getattr(error.response, "status_code", 0) or 0)
        return status == 429 or status >= 500 or error.response.get("error") in TRANSIENT_SLACK
    # SQLAlchemy's OperationalError / InterfaceError (the server went away), by name: adapters import no driver.
    return any(cls.__name__ in ("OperationalError", "InterfaceError") for cls in type(error).__mro__)


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:500]
