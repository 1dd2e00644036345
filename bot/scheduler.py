"""Time-driven work: task reminders, SLA checks, auto-close, the daily digest.

APScheduler's AsyncIOScheduler decides *when*; the `job_runs` table decides *who*. Every
instance schedules every job on the same wall-clock triggers (cron triggers, so a firing
means the same instant on every instance, whenever each started), and a firing first
inserts its (job, fire time) row in its own committed transaction. The instance whose
insert lands runs the job; the others find the row and skip. A restarted instance meets
the rows its earlier life wrote, so a slot is never run twice; the cost is that a crash in
the middle of a job loses that one firing (the next one catches up: every job works from
the store's state, not from what the previous firing did).

Each job names its handler by function reference (`JobSpec.body`), so a renamed or
misspelled handler is an import error at start-up, never a job that silently skips.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from bot import metrics
from bot.handlers import lifecycle, notices, reports, sla, tasks
from bot.handlers.context import Context
from bot.settings import Settings

log = logging.getLogger(__name__)

JobBody = Callable[[Context], Awaitable[object]]


@dataclass(frozen=True)
class JobSpec:
    name: str
    trigger: BaseTrigger
    body: JobBody  # the handler itself (functools.partial for arguments such as the digest's time zone)
    misfire_grace_seconds: int = 60
    periodic: bool = True  # run by Runtime.housekeeping() too (the digest is not)


def default_jobs(settings: Settings) -> list[JobSpec]:
    """The bot's schedule. Cron triggers on UTC for the periodic jobs: every instance agrees on each slot."""
    utc = ZoneInfo("UTC")
    jobs = [
        JobSpec("task_reminders", CronTrigger(minute="*", timezone=utc), tasks.remind_due),
        JobSpec("sla_check", CronTrigger(minute="*", timezone=utc), sla.check_sla),
        JobSpec("auto_close", CronTrigger(minute="*/15", timezone=utc), lifecycle.close_solved),
        JobSpec("notice_purge", CronTrigger(hour=3, minute=17, timezone=utc), notices.purge),
    ]
    if settings.slack_managers_channel or settings.discord_managers_channel:
        at = time.fromisoformat(settings.digest_time)
        trigger = CronTrigger(hour=at.hour, minute=at.minute, timezone=ZoneInfo(settings.timezone))
        # An hour of grace: a digest posted a little late beats none when the loop was busy at 08:00.
        digest = partial(reports.publish_digest, tz=settings.timezone)  # "yesterday", locally
        jobs.append(JobSpec("daily_digest", trigger, digest,
                            misfire_grace_seconds=3600, periodic=False))
    return jobs


def instance_name() -> str:
    """Which instance ran a firing, for operators reading job_runs: host, pid, and a nonce against pid reuse."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Scheduler:
    def __init__(self, ctx: Context, jobs: Sequence[JobSpec], *, instance: str | None = None) -> None:
        self.ctx = ctx
        self.jobs = {job.name: job for job in jobs}
        self.instance = instance or instance_name()
        self._aps: AsyncIOScheduler | None = None
        self._inflight: set[asyncio.Task[Any]] = set()  # firings running now, awaited at shutdown

    @classmethod
    def from_settings(cls, ctx: Context, settings: Settings) -> Scheduler:
        return cls(ctx, default_jobs(settings))

    # --- the AsyncIOScheduler ---

    def start(self) -> AsyncIOScheduler:
        """Schedule every job on the running event loop. Runs are claimed, so start it on every instance."""
        # APScheduler logs every run at INFO (two lines a minute per job); our own log says what matters.
        logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)
        aps = AsyncIOScheduler(executors={"default": _FireTimeExecutor()}, timezone=ZoneInfo("UTC"),
                               job_defaults={"coalesce": True, "max_instances": 1})
        for job in self.jobs.values():
            aps.add_job(self.run, job.trigger, args=[job.name], id=job.name, name=job.name,
                        misfire_grace_time=job.misfire_grace_seconds)
        aps.start()
        self._aps = aps
        log.info("scheduler %s: %s", self.instance,
                 ", ".join(f"{j.id} next at {j.next_run_time:%Y-%m-%d %H:%M %Z}" for j in aps.get_jobs()))
        return aps

    async def shutdown(self, grace: float = 10.0) -> None:
        """Stop scheduling, then let firings in progress finish (cancelled after `grace` seconds).

        Waiting matters: a job still running when the runtime closes the store would be left
        awaiting a connection that no longer exists, and the process could not exit.
        """
        if self._aps is not None and self._aps.running:
            self._aps.shutdown(wait=False)
        self._aps = None
        running = [t for t in self._inflight if not t.done()]
        if running:
            _, late = await asyncio.wait(running, timeout=grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    # --- one firing ---

    async def run(self, name: str, fire_at: datetime | None = None) -> bool:
        """Claim the firing of `name` at `fire_at` and, if this instance got it, run the job. True if it ran.

        fire_at is the scheduled time (not now; _FireTimeExecutor passes it), truncated to the
        second: the key every instance computes the same for the same firing. Never raises: a
        failed job is logged and the next firing tries again.
        """
        task = asyncio.current_task()
        if task is not None:
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)
        body = self.jobs[name].body
        slot = (fire_at or self.ctx.clock()).replace(microsecond=0)
        try:
            if not await self._claim(name, slot):
                log.debug("job %s at %s: another instance has it", name, slot.isoformat())
                metrics.JOB_RUNS.labels(name, "skipped").inc()
                return False
        except Exception:
            log.exception("job %s at %s: could not claim the firing; skipping it", name, slot.isoformat())
            metrics.JOB_RUNS.labels(name, "failed").inc()
            return False
        try:
            await body(self.ctx)
        except Exception:
            # finished_at stays empty: job_runs shows the firing as started and not finished.
            log.exception("job %s at %s failed; the next firing tries again", name, slot.isoformat())
            metrics.JOB_RUNS.labels(name, "failed").inc()
            return True
        metrics.JOB_RUNS.labels(name, "ran").inc()
        try:
            async with self.ctx.uow() as uow:
                await uow.job_runs.finish(name, slot, self.instance, self.ctx.clock())
                await uow.commit()
        except Exception:
            log.warning("job %s at %s: ran, but its finish time was not recorded", name, slot.isoformat(), exc_info=True)
        return True

    async def run_periodic_now(self) -> None:
        """Run the periodic jobs once, now, unclaimed (tests and the demo: each handler is safe to repeat)."""
        for job in self.jobs.values():
            if not job.periodic:
                continue
            try:
                await job.body(self.ctx)
            except Exception:
                log.exception("job %s failed; will try again", job.name)

    async def _claim(self, name: str, slot: datetime) -> bool:
        async with self.ctx.uow() as uow:
            won = await uow.job_runs.claim(name, slot, self.instance, self.ctx.clock())
            await uow.commit()
        return won


class _FireTimeExecutor(AsyncIOExecutor):
    """Hands each run its scheduled fire time, which APScheduler 3 otherwise keeps to itself.

    The fire time is the claim key, so it must be the trigger's time, the same on every
    instance, not the moment this instance got round to it. With coalesce=True only the
    latest of several missed times is run.
    """

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        super()._do_submit_job(_AtFireTime(job, run_times[-1]), run_times[-1:])


class _AtFireTime:
    """The job as the executor sees it, with the fire time added to its call."""

    def __init__(self, job: Any, fire_at: datetime) -> None:
        self._job = job
        self.func = partial(job.func, fire_at=fire_at)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._job, name)

    def __str__(self) -> str:
        return str(self._job)
