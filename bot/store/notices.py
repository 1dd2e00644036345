"""Notices and their deliveries (the notices and notice_deliveries tables): kept once, shown once per platform.

A notice is one row, keyed; each chat platform that shows it has a delivery row made
when it first claims the notice. Claiming, finishing and retrying are single UPDATEs
whose WHERE clause settles a race between workers or instances, as in `bot.store.inbox`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.handlers.ports import NoticeRow
from bot.store import orm
from bot.store.repositories import _Repo

_n = orm.notices.c
_d = orm.notice_deliveries.c
ERROR_CHARS = 2000


class SqlNotices(_Repo):
    def _insert(self) -> Any:
        return pg_insert if self._pg else sqlite_insert

    async def add(self, key: str, kind: str, ticket_id: int | None, data: Mapping[str, Any], now: datetime) -> bool:
        stmt = self._insert()(orm.notices).values(key=key, kind=kind, ticket_id=ticket_id, data=dict(data),
                                                  created_at=now).on_conflict_do_nothing(index_elements=["key"])
        return (await self.session.execute(stmt)).rowcount == 1  # type: ignore[attr-defined]

    async def due(self, platform: str, since: datetime, now: datetime, limit: int) -> Sequence[int]:
        q = (
            select(_n.id)
            .select_from(orm.notices.outerjoin(orm.notice_deliveries,
                                               and_(_d.notice_id == _n.id, _d.platform == platform)))
            .where(_n.created_at >= since)
            .where(or_(_d.notice_id.is_(None),
                       and_(_d.delivered_at.is_(None), _d.given_up_at.is_(None), _d.next_attempt_at <= now,
                            or_(_d.lease_until.is_(None), _d.lease_until < now))))
            .order_by(_n.id)
            .limit(limit)
        )
        return (await self.session.scalars(q)).all()

    async def claim(self, notice_id: int, platform: str, owner: str, now: datetime, until: datetime) -> NoticeRow | None:
        await self.session.execute(self._insert()(orm.notice_deliveries).values(
            notice_id=notice_id, platform=platform, attempts=0, next_attempt_at=now,
        ).on_conflict_do_nothing(index_elements=["notice_id", "platform"]))
        stmt = (
            update(orm.notice_deliveries)
            .where(_d.notice_id == notice_id, _d.platform == platform, _d.delivered_at.is_(None),
                   _d.given_up_at.is_(None), _d.next_attempt_at <= now,
                   or_(_d.lease_until.is_(None), _d.lease_until < now, _d.lease_owner == owner))
            .values(lease_owner=owner, lease_until=until, attempts=_d.attempts + 1)
            .returning(_d.attempts)
        )
        attempts = (await self.session.execute(stmt)).scalar_one_or_none()
        if attempts is None:
            return None
        row = (await self.session.execute(select(orm.notices).where(_n.id == notice_id))).one()
        return NoticeRow(id=row.id, key=row.key, kind=row.kind, ticket_id=row.ticket_id, data=row.data,
                         created_at=row.created_at, attempts=attempts)

    def _mine(self, notice_id: int, platform: str, owner: str) -> Any:
        return update(orm.notice_deliveries).where(_d.notice_id == notice_id, _d.platform == platform,
                                                   _d.lease_owner == owner, _d.delivered_at.is_(None))

    async def delivered(self, notice_id: int, platform: str, owner: str, ref: str, now: datetime) -> None:
        await self.session.execute(self._mine(notice_id, platform, owner).values(
            ref=ref[:64], delivered_at=now, lease_owner=None, lease_until=None))

    async def retry_at(self, notice_id: int, platform: str, owner: str, when: datetime, error: str) -> None:
        await self.session.execute(self._mine(notice_id, platform, owner).values(
            next_attempt_at=when, lease_owner=None, lease_until=None, last_error=error[:ERROR_CHARS]))

    async def give_up(self, notice_id: int, platform: str, owner: str, now: datetime, error: str) -> None:
        await self.session.execute(self._mine(notice_id, platform, owner).values(
            given_up_at=now, lease_owner=None, lease_until=None, last_error=error[:ERROR_CHARS]))

    async def purge(self, before: datetime) -> int:
        old = select(_n.id).where(_n.created_at < before).scalar_subquery()
        await self.session.execute(delete(orm.notice_deliveries).where(_d.notice_id.in_(old)))
        return (await self.session.execute(delete(orm.notices).where(_n.created_at < before))).rowcount  # type: ignore[attr-defined,no-any-return]
