"""The scheduler: each firing runs on exactly one instance, once, across restarts; jobs on the right triggers.

Firings are driven directly (`Scheduler.run(name, fire_at)`, what APScheduler calls at a
firing) so the tests need no waiting for the clock; claims are real `job_runs` rows in a
real database, shared by the instances as they would share it in production.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from bot.app import Core, build_core
from bot.domain.model import JobRun
from bot.domain.status import Status
from bot.handlers import lifecycle, notices, reports, sla, tasks, tickets
from bot.handlers.context import Actor
from bot.scheduler import JobSpec, Scheduler, default_jobs
from tests.conftest import make_settings
from tests.support.db import Database, make_database
from tests.support.mails import deliver, raw_mail

SLOT = datetime(2026, 3, 2, 9, 15, 0, 400_000, tzinfo=UTC)  # APScheduler's fire time; the claim keeps whole seconds


class Body:
    """A job body that counts its runs and holds on for a moment, so rival instances overlap."""

    def __init__(self, hold: float = 0.2) -> None:
        self.runs = 0
        self.hold = hold

    async def __call__(self, _ctx: object) -> None:
        self.runs += 1
        await asyncio.sleep(self.hold)


def job(body: object, name: str = "job") -> JobSpec:
    return JobSpec(name, CronTrigger(minute="*", timezone=UTC), body)  # type: ignore[arg-type]


async def runs(core: Core, name: str = "job") -> list[JobRun]:
    async with core.ctx.uow() as uow:
        return list(await uow.job_runs.recent(name))


@pytest.fixture
async def postgres(tmp_path: Path) -> AsyncIterator[Database]:
    async for db in make_database("postgres", tmp_path):
        yield db


async def test_two_instances_on_postgres_run_one_firing_once(postgres: Database, tmp_path: Path) -> None:
    # Two instances: two engines (connection pools) on the same PostgreSQL schema.
    a = await build_core(make_settings(postgres, tmp_path), engine=postgres.engine())
    b = await build_core(make_settings(postgres, tmp_path), engine=postgres.engine())
    try:
        body = Body()
        first, second = Scheduler(a.ctx, [job(body)], instance="a"), Scheduler(b.ctx, [job(body)], instance="b")
        outcomes = await asyncio.gather(first.run("job", SLOT), second.run("job", SLOT))
        assert sorted(outcomes) == [False, True]
        assert body.runs == 1
        [row] = await runs(a)
        assert row.instance == ("a" if outcomes[0] else "b")
        assert row.fire_at == SLOT.replace(microsecond=0)
        assert row.finished_at is not None and row.finished_at >= row.started_at
        # Many firings raced by both: every one runs exactly once, shared out between them.
        slots = [SLOT + timedelta(minutes=i) for i in range(1, 11)]
        fast = Body(hold=0)
        first.jobs["job"] = second.jobs["job"] = job(fast)
        results = await asyncio.gather(*(s.run("job", t) for t in slots for s in (first, second)))
        assert fast.runs == 10 and sum(results) == 10
        assert sorted(r.fire_at for r in await runs(b)) == [SLOT.replace(microsecond=0), *slots_whole(slots)]
    finally:
        await a.close()
        await b.close()


def slots_whole(slots: list[datetime]) -> list[datetime]:
    return [s.replace(microsecond=0) for s in slots]


async def test_a_restart_does_not_fire_a_past_slot_again(database: Database, tmp_path: Path) -> None:
    body = Body(hold=0)
    core = await build_core(make_settings(database, tmp_path), engine=database.engine())
    assert await Scheduler(core.ctx, [job(body)]).run("job", SLOT)
    await core.close()
    # A new process (new engine, new instance name) is handed the same firing again.
    core = await build_core(make_settings(database, tmp_path), engine=database.engine())
    try:
        again = Scheduler(core.ctx, [job(body)])
        assert not await again.run("job", SLOT)
        assert not await again.run("job", SLOT + timedelta(milliseconds=300))  # the same second
        assert body.runs == 1
        assert await again.run("job", SLOT + timedelta(minutes=1))  # the next slot is its own
        assert body.runs == 2
    finally:
        await core.close()


async def test_a_firing_claimed_elsewhere_is_skipped_and_a_failing_job_is_left_unfinished(
    database: Database, tmp_path: Path
) -> None:
    core = await build_core(make_settings(database, tmp_path), engine=database.engine())
    try:
        async with core.ctx.uow() as uow:
            assert await uow.job_runs.claim("job", SLOT.replace(microsecond=0), "elsewhere", SLOT)
            await uow.commit()
        body = Body(hold=0)
        assert not await Scheduler(core.ctx, [job(body)]).run("job", SLOT)
        assert body.runs == 0

        async def broken(_ctx: object) -> None:
            raise RuntimeError("boom")

        later = SLOT + timedelta(minutes=5)
        assert await Scheduler(core.ctx, [job(broken)], instance="me").run("job", later)  # claimed; never raises
        row = next(r for r in await runs(core) if r.instance == "me")
        assert row.finished_at is None  # job_runs shows it started and never finished
    finally:
        await core.close()


async def test_the_real_jobs_run_through_claims(database: Database, tmp_path: Path) -> None:
    """Auto-close through the scheduler: a ticket solved long ago is closed by the one claimed firing."""
    core = await build_core(make_settings(database, tmp_path), engine=database.engine())
    try:
        number = (await deliver(core, raw_mail())).ticket_number
        assert number is not None
        await tickets.close(core.ctx, Actor("U0ANA", "Ana", in_tickets_channel=True), number)
        real_clock = core.ctx.clock
        core.ctx.clock = lambda: real_clock() + timedelta(days=30)
        scheduler = Scheduler.from_settings(core.ctx, core.settings)
        fire = datetime(2030, 1, 1, 12, 15, tzinfo=UTC)
        assert await scheduler.run("auto_close", fire)
        assert not await scheduler.run("auto_close", fire)
        async with core.ctx.uow() as uow:
            ticket = await uow.tickets.get(number)
            assert ticket is not None and ticket.status == Status.CLOSED
            [row] = await uow.job_runs.recent("auto_close")
            assert row.fire_at == fire and row.finished_at is not None
    finally:
        await core.close()


def test_the_job_table_holds_the_handlers_themselves(tmp_path: Path) -> None:
    """Jobs name their handler by reference: a renamed handler fails at import, not as a job that never runs."""
    settings = make_settings(Database("sqlite", "sqlite+aiosqlite://"), tmp_path, timezone="Europe/Helsinki",
                             slack_managers_channel="C0MANAGERS")
    bodies = {j.name: j.body for j in default_jobs(settings)}
    assert bodies["task_reminders"] is tasks.remind_due
    assert bodies["sla_check"] is sla.check_sla
    assert bodies["auto_close"] is lifecycle.close_solved
    assert bodies["notice_purge"] is notices.purge
    digest = bodies["daily_digest"]
    assert isinstance(digest, partial) and digest.func is reports.publish_digest
    assert digest.keywords == {"tz": "Europe/Helsinki"}
    for body in bodies.values():
        assert inspect.iscoroutinefunction(getattr(body, "func", body))


async def test_the_scheduler_schedules_every_job_on_its_trigger(sqlite_database: Database, tmp_path: Path) -> None:
    settings = make_settings(sqlite_database, tmp_path, timezone="Europe/Helsinki", digest_time="07:30",
                             slack_managers_channel="C0MANAGERS")
    core = await build_core(settings, engine=sqlite_database.engine())
    scheduler = Scheduler.from_settings(core.ctx, settings)
    aps = scheduler.start()
    try:
        jobs = {j.id: j for j in aps.get_jobs()}
        assert set(jobs) == {"task_reminders", "sla_check", "auto_close", "notice_purge", "daily_digest"}
        fields = {name: {f.name: str(f) for f in j.trigger.fields} for name, j in jobs.items()}
        assert fields["task_reminders"]["minute"] == "*" and fields["sla_check"]["minute"] == "*"
        assert fields["auto_close"]["minute"] == "*/15"
        assert (fields["notice_purge"]["hour"], fields["notice_purge"]["minute"]) == ("3", "17")
        assert (fields["daily_digest"]["hour"], fields["daily_digest"]["minute"]) == ("7", "30")
        assert str(jobs["daily_digest"].trigger.timezone) == "Europe/Helsinki"
        digest_at = jobs["daily_digest"].next_run_time
        assert (digest_at.hour, digest_at.minute, str(digest_at.tzinfo)) == (7, 30, "Europe/Helsinki")
        for name in ("task_reminders", "sla_check"):
            assert jobs[name].next_run_time.second == 0  # the same instant on every instance
        # And it really fires, handing the job its scheduled time (the claim key).
        body = Body(hold=0)
        scheduler.jobs["probe"] = job(body, "probe")
        at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
        aps.add_job(scheduler.run, DateTrigger(at), args=["probe"], id="probe")
        for _ in range(50):
            if body.runs:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.2)
        [row] = await runs(core, "probe")
        assert body.runs == 1 and row.fire_at == at and row.instance == scheduler.instance
    finally:
        await scheduler.shutdown()
        await core.close()


def test_without_a_managers_channel_there_is_no_digest(tmp_path: Path) -> None:
    settings = make_settings(Database("sqlite", "sqlite+aiosqlite://"), tmp_path)
    assert [j.name for j in default_jobs(settings)] == ["task_reminders", "sla_check", "auto_close", "notice_purge"]


async def test_the_daily_digest_is_published_once_per_firing_by_either_instance(
    postgres: Database, tmp_path: Path
) -> None:
    from bot.handlers import events

    settings = make_settings(postgres, tmp_path, timezone="Europe/Helsinki", slack_managers_channel="C0MANAGERS")
    a = await build_core(settings, engine=postgres.engine())
    b = await build_core(settings, engine=postgres.engine())
    published: list[object] = []

    async def seen(event: object) -> None:
        published.append(event)

    try:
        for core in (a, b):
            core.ctx.bus.subscribe(events.DigestReady, seen)
        await deliver(a, raw_mail())
        fire = datetime(2026, 3, 3, 6, 0, tzinfo=UTC)  # 08:00 in Helsinki
        instances = [Scheduler.from_settings(a.ctx, settings), Scheduler.from_settings(b.ctx, settings)]
        outcomes = await asyncio.gather(*(s.run("daily_digest", fire) for s in instances))
        assert sorted(outcomes) == [False, True] and len(published) == 1
        assert not await instances[0].run("daily_digest", fire)  # and not again
        assert len(published) == 1
    finally:
        await a.close()
        await b.close()
