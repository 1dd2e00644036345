"""Repositories for operating the bot: scheduled job firings (the row is the claim) and the counts /metrics shows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.domain.model import JobRun
from bot.domain.status import Status
from bot.store import orm
from bot.store.repositories import _Repo

_r = orm.job_runs.c


class SqlJobRuns(_Repo):
    async def claim(self, job: str, fire_at: datetime, instance: str, now: datetime) -> bool:
        """Insert the (job, fire_at) row; False when another instance (or an earlier life of this one) has it.

        ON CONFLICT DO NOTHING rather than catching the unique violation: on PostgreSQL a
        concurrent insert of the same key waits for the first to commit and then inserts
        nothing, and the transaction stays usable either way.
        """
        insert = pg_insert if self._pg else sqlite_insert
        stmt = (
            insert(orm.job_runs)
            .values(job=job, fire_at=fire_at, instance=instance, started_at=now)
            .on_conflict_do_nothing(index_elements=["job", "fire_at"])
        )
        return (await self.session.execute(stmt)).rowcount == 1  # type: ignore[attr-defined]

    async def finish(self, job: str, fire_at: datetime, instance: str, now: datetime) -> None:
        stmt = (
            update(orm.job_runs)
            .where(_r.job == job, _r.fire_at == fire_at, _r.instance == instance)
            .values(finished_at=now)
        )
        await self.session.execute(stmt)

    async def recent(self, job: str, limit: int = 20) -> Sequence[JobRun]:
        q = select(JobRun).where(_r.job == job).order_by(_r.fire_at.desc()).limit(limit)
        return (await self.session.scalars(q)).all()


class SqlTicketCounts(_Repo):
    async def by_status(self) -> dict[Status, int]:
        """Every status, zero included: a series that vanishes at zero reads as 'no data' in Prometheus."""
        t = orm.tickets.c
        rows = (await self.session.execute(select(t.status, func.count()).group_by(t.status))).all()
        counts = {s: 0 for s in Status}
        counts.update({Status(status): n for status, n in rows})
        return counts
