"""Time entries (the time_entries table): written one by one, read as sums.

Cards show a ticket's total and reports group totals; both ask the database to sum, so a
list of fifty tickets costs one query and a year of entries never crosses the wire.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, func, insert, literal, select

from bot.domain.time_spent import TimeEntry
from bot.handlers.toolkit_ports import TimeSpent
from bot.store import orm
from bot.store.repositories import _Repo

_e = orm.time_entries.c
T = orm.tickets
AG = orm.agents
C = orm.contacts


class SqlTimeEntries(_Repo):
    async def add(self, entry: TimeEntry) -> int:
        stmt = insert(orm.time_entries).values(
            ticket_id=entry.ticket_id, agent_id=entry.agent_id, minutes=entry.minutes, note=entry.note,
            source=entry.source, created_at=entry.created_at).returning(_e.id)
        return int((await self.session.execute(stmt)).scalar_one())

    async def totals(self, ticket_ids: Sequence[int]) -> dict[int, int]:
        """Minutes per ticket, for the tickets that have any (one query however many tickets)."""
        if not ticket_ids:
            return {}
        rows = await self.session.execute(
            select(_e.ticket_id, func.sum(_e.minutes)).where(_e.ticket_id.in_(list(ticket_ids)))
            .group_by(_e.ticket_id))
        return {int(t): int(m) for t, m in rows if m}

    async def agent_total(self, ticket_id: int, agent_id: int) -> int:
        total = await self.session.scalar(
            select(func.coalesce(func.sum(_e.minutes), 0)).where(_e.ticket_id == ticket_id, _e.agent_id == agent_id))
        return int(total or 0)

    async def spent(self, start: datetime, end: datetime, team: str | None = None) -> list[TimeSpent]:
        """Minutes logged in [start, end), summed per agent, customer and the ticket's team."""
        agent = func.coalesce(func.nullif(AG.c.name, ""), AG.c.chat_user_id)
        minutes = func.sum(_e.minutes)
        rows = await self.session.execute(
            select(agent, C.c.email, T.c.team, minutes)
            .select_from(orm.time_entries.join(T, T.c.id == _e.ticket_id).join(AG, AG.c.id == _e.agent_id)
                         .outerjoin(C, C.c.id == T.c.requester_id))
            .where(and_(_e.created_at >= start, _e.created_at < end),
                   T.c.team == team if team is not None else literal(True))
            .group_by(agent, C.c.email, T.c.team))
        return [TimeSpent(a, email, t, int(m)) for a, email, t, m in rows if m]
