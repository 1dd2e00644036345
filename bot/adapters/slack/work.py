"""Work that follows an acknowledgement: run by a few workers, so a burst queues instead of swamping.

Slack wants every request acknowledged within 3 seconds. Listeners acknowledge,
hand the rest here and return, so the HTTP answer goes out at once (Bolt runs
with process_before_response=True: the response waits for the listener, which
is quick). Bolt's own way (a task per request, polled for its ack every 10 ms)
let a burst of clicks start hundreds of transactions at once: connections ran
out, garbage collection stalled the loop, and acks waited half a second
(bench/slack.py). Work that must start within Slack's trigger window (opening a
modal) uses `soon`, which skips the queue. A job whose transaction lost a race (Conflict: the core
rolled it back) runs again, as the port promises is safe; it would otherwise be lost after the ack.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from bot.handlers.ports import Conflict

log = logging.getLogger(__name__)

RETRIES = 2  # a job that lost a race (bot.handlers.ports.Conflict) is run again, at most this often

Job = Callable[[], Awaitable[None]]


class Backlog:
    def __init__(self, workers: int = 4) -> None:
        self.workers = workers
        self._queue: asyncio.Queue[tuple[Job, str]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._urgent: set[asyncio.Task[None]] = set()

    def later(self, job: Job, what: str) -> None:
        self._queue.put_nowait((job, what))

    def soon(self, job: Job, what: str) -> None:
        task = asyncio.create_task(self._run(job, what), name=f"slack-{what}")
        self._urgent.add(task)
        task.add_done_callback(self._urgent.discard)

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._worker(), name=f"slack-work-{i}") for i in range(self.workers)]

    async def idle(self) -> None:
        """Until everything handed in so far is done (tests wait on this)."""
        await self._queue.join()
        while self._urgent:
            await asyncio.gather(*list(self._urgent), return_exceptions=True)

    async def stop(self, grace: float = 10.0) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.idle(), timeout=grace)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _worker(self) -> None:
        while True:
            job, what = await self._queue.get()
            try:
                await self._run(job, what)
            finally:
                self._queue.task_done()

    @staticmethod
    async def _run(job: Job, what: str) -> None:
        for attempt in range(1, RETRIES + 2):
            try:
                await job()
                return
            except Conflict as exc:  # lost a race (two first actions of one person at once): the core says retry
                if attempt > RETRIES:
                    log.exception("slack: %s kept losing races; given up", what)
                    return
                log.info("slack: %s lost a race (%s); trying again", what, exc)
                await asyncio.sleep(0.05 * attempt)
            except Exception:  # the request was acknowledged: log it, and keep the workers alive
                log.exception("slack: %s failed after it was acknowledged", what)
                return
