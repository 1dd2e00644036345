"""The figures behind the managers' digest and `/ticket report`, read in SQL.

Each method is one query over `tickets` (or `audit_events`), filtered to a period
[start, end) and optionally one team. Counting and grouping happen in the
database so a million tickets never cross the wire; only durations for the
percentiles are fetched (PostgreSQL and SQLite share no percentile function),
and only for the tickets of the period.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, DateTime, and_, case, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.status import Status
from bot.store import orm

T = orm.tickets
A = orm.audit_events
AG = orm.agents

# A solved ticket taken up again: back to open, or the customer wrote (see bot.domain.status.ALLOWED).
REOPENED_TO = [Status.OPEN.value, Status.CUSTOMER_REPLIED.value]

Durations = list[tuple[int | None, float]]  # (assignee id, seconds)


def _in(col: ColumnElement[datetime], start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(col >= start, col < end)


def _team(team: str | None) -> ColumnElement[bool]:
    return T.c.team == team if team is not None else literal(True)


def _active_at(moment: datetime) -> ColumnElement[bool]:
    """Open at `moment`: created before it and not yet solved or closed by then.

    Solved and closed times are what the ticket holds now, so a ticket solved, reopened and
    still open counts as open throughout: the trend errs towards showing work, not hiding it.
    """
    return and_(T.c.created_at < moment,
                or_(T.c.solved_at.is_(None), T.c.solved_at >= moment),
                or_(T.c.closed_at.is_(None), T.c.closed_at >= moment))


def _solved_in(start: datetime, end: datetime) -> ColumnElement[bool]:
    """Solved in the period, and not by a merge: a merged ticket's case goes on in another ticket
    (older merges did set solved_at, so merged tickets are left out by their merged_into)."""
    return and_(_in(T.c.solved_at, start, end), T.c.merged_into.is_(None))


def _count_if(cond: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)


def _seconds(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds()


class SqlReports:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def counts(self, start: datetime, end: datetime, team: str | None = None) -> tuple[int, int, int]:
        """New, solved and active-at-end tickets, in one pass with conditional sums."""
        row = (await self.session.execute(
            select(_count_if(_in(T.c.created_at, start, end)),
                   _count_if(_solved_in(start, end)),
                   _count_if(_active_at(end)))
            .where(_team(team), T.c.created_at < end)
        )).one()
        return int(row[0]), int(row[1]), int(row[2])

    async def reopened(self, start: datetime, end: datetime, team: str | None = None) -> int:
        """Status changes from solved back to work, as the audit trail recorded them."""
        query = (select(func.count()).select_from(A.join(T, T.c.id == A.c.ticket_id))
                 .where(A.c.action == "status", A.c.field == "status", A.c.before == Status.SOLVED.value,
                        A.c.after.in_(REOPENED_TO), _in(A.c.created_at, start, end), _team(team)))
        return int((await self.session.execute(query)).scalar_one())

    async def merged(self, start: datetime, end: datetime, team: str | None = None) -> int:
        """Tickets merged into another in the period (counted apart from the solved ones)."""
        query = (select(func.count()).select_from(T)
                 .where(T.c.merged_into.is_not(None), _in(T.c.closed_at, start, end), _team(team)))
        return int((await self.session.execute(query)).scalar_one())

    async def first_responses(self, start: datetime, end: datetime, team: str | None = None) -> Durations:
        """Seconds from creation to first answer, for tickets first answered in the period."""
        rows = await self.session.execute(
            select(T.c.assignee_id, T.c.created_at, T.c.first_response_at)
            .where(_in(T.c.first_response_at, start, end), _team(team)))
        return [(a, _seconds(done, made)) for a, made, done in rows]

    async def resolutions(self, start: datetime, end: datetime, team: str | None = None) -> Durations:
        """Seconds from creation to solved, for tickets solved in the period."""
        rows = await self.session.execute(
            select(T.c.assignee_id, T.c.created_at, T.c.solved_at).where(_solved_in(start, end), _team(team)))
        return [(a, _seconds(done, made)) for a, made, done in rows]

    async def sla(self, start: datetime, end: datetime, team: str | None = None) -> tuple[int, int, int]:
        """(tickets solved in the period that had a due time, of them never breached, active tickets breached now)."""
        has_sla = or_(T.c.first_response_due_at.is_not(None), T.c.resolution_due_at.is_not(None))
        unbreached = and_(T.c.first_response_breached_at.is_(None), T.c.resolution_breached_at.is_(None))
        breached = or_(T.c.first_response_breached_at.is_not(None), T.c.resolution_breached_at.is_not(None))
        solved = _solved_in(start, end)

        row = (await self.session.execute(
            select(_count_if(and_(solved, has_sla)), _count_if(and_(solved, has_sla, unbreached)),
                   _count_if(and_(_active_at(end), breached)))
            .where(_team(team), has_sla, T.c.created_at < end)
        )).one()
        return int(row[0]), int(row[1]), int(row[2])

    async def by_column(self, column: str, start: datetime, end: datetime,
                        team: str | None = None) -> list[tuple[str | None, int]]:
        """New tickets in the period grouped by `category` or `team`, most first."""
        col = T.c[column]
        rows = await self.session.execute(
            select(col, func.count()).where(_in(T.c.created_at, start, end), _team(team))
            .group_by(col).order_by(func.count().desc(), col))
        return [(key, int(n)) for key, n in rows]

    async def hourly(self, start: datetime, end: datetime, team: str | None = None) -> list[tuple[datetime, int]]:
        """New tickets per UTC hour of the period (hours without tickets left out).

        Hours, not local weekdays, are grouped here: the caller turns each hour into its
        own time zone exactly, which the two databases would each do differently.
        """
        dialect = self.session.get_bind().dialect.name
        if dialect == "sqlite":
            bucket: ColumnElement[object] = func.strftime("%Y-%m-%d %H:00:00", T.c.created_at)
        else:
            bucket = func.date_trunc("hour", T.c.created_at, type_=DateTime())
        rows = await self.session.execute(
            select(bucket.label("hour"), func.count()).where(_in(T.c.created_at, start, end), _team(team))
            .group_by(bucket).order_by(bucket))
        out = []
        for hour, n in rows:
            moment = datetime.fromisoformat(hour) if isinstance(hour, str) else hour
            out.append((moment.replace(tzinfo=UTC), int(n)))
        return out

    async def backlog_at(self, moments: Sequence[datetime], team: str | None = None) -> list[int]:
        """Active tickets at each moment, all in one scan."""
        if not moments:
            return []
        sums = [_count_if(_active_at(m)) for m in moments]
        row = (await self.session.execute(select(*sums).where(_team(team), T.c.created_at < max(moments)))).one()
        return [int(v) for v in row]

    async def agent_names(self, agent_ids: Sequence[int]) -> dict[int, str]:
        if not agent_ids:
            return {}
        rows = await self.session.execute(select(AG.c.id, AG.c.name, AG.c.chat_user_id).where(AG.c.id.in_(agent_ids)))
        return {i: (name or chat_id) for i, name, chat_id in rows}

    async def oldest_active(self, end: datetime, team: str | None = None,
                            limit: int = 5) -> list[tuple[int, str, datetime, str, str | None]]:
        """(number, subject, created, status, assignee name) of the longest-waiting active tickets."""
        active = [s.value for s in Status if s.is_active]
        rows = await self.session.execute(
            select(T.c.id, T.c.subject, T.c.created_at, T.c.status, AG.c.name)
            .select_from(T.outerjoin(AG, AG.c.id == T.c.assignee_id))
            .where(T.c.status.in_(active), T.c.created_at < end, _team(team))
            .order_by(T.c.created_at, T.c.id).limit(limit))
        return [(int(n), subject, created, str(status), name) for n, subject, created, status, name in rows]
