"""Inbound chat work kept before the ack (the chat_inbox table): add once by key, lease, finish, retry, fail.

Every statement is one short UPDATE or INSERT keyed by id, so taking and finishing an item never
reads and then writes: two instances (or a worker and a restarted worker) racing for the same item
are settled by the WHERE clause, and whoever's UPDATE matched no row knows it lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.handlers.ports import InboxItem
from bot.store import orm
from bot.store.repositories import _Repo

_c = orm.chat_inbox.c
PENDING, DONE, FAILED = "pending", "done", "failed"
ERROR_CHARS = 2000
CHUNK = 1000  # ids per IN (…): well inside SQLite's limit on bound parameters


class SqlInbox(_Repo):
    async def add(self, items: Sequence[InboxItem], owner: str, until: datetime) -> list[int | None]:
        """One INSERT … ON CONFLICT DO NOTHING for the lot: a kept key inserts nothing (on PostgreSQL a
        concurrent insert of the same key waits for the first to commit, then inserts nothing). A key
        given twice in `items` is kept for its first occurrence."""
        if not items:
            return []
        insert = pg_insert if self._pg else sqlite_insert
        rows = [dict(platform=i.platform, key=i.key, what=i.what, payload=dict(i.payload), state=PENDING,
                     attempts=i.attempts, received_at=i.received_at, next_attempt_at=i.received_at,
                     lease_owner=owner, lease_until=until) for i in items]
        stmt = (
            insert(orm.chat_inbox)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["platform", "key"])
            .returning(_c.id, _c.platform, _c.key)
        )
        kept = {(row.platform, row.key): row.id for row in await self.session.execute(stmt)}
        return [kept.pop((i.platform, i.key), None) for i in items]

    async def claim(self, item_id: int, owner: str, now: datetime, until: datetime) -> InboxItem | None:
        stmt = (
            update(orm.chat_inbox)
            .where(_c.id == item_id, _c.state == PENDING,
                   or_(_c.lease_owner.is_(None), _c.lease_owner == owner, _c.lease_until < now))
            .values(lease_owner=owner, lease_until=until, attempts=_c.attempts + 1)
            .returning(_c.platform, _c.key, _c.what, _c.payload, _c.received_at, _c.attempts)
        )
        row = (await self.session.execute(stmt)).one_or_none()
        if row is None:
            return None
        return InboxItem(platform=row.platform, key=row.key, what=row.what, payload=row.payload,
                         received_at=row.received_at, attempts=row.attempts, id=item_id)

    async def finish(self, item_id: int, now: datetime) -> bool:
        stmt = (
            update(orm.chat_inbox)
            .where(_c.id == item_id, _c.state == PENDING)
            .values(state=DONE, finished_at=now, lease_owner=None, lease_until=None)
        )
        return (await self.session.execute(stmt)).rowcount == 1  # type: ignore[attr-defined]

    async def retry_at(self, item_id: int, when: datetime, error: str) -> None:
        """Free the item for whoever sweeps first once `when` has come (this instance or another)."""
        stmt = (
            update(orm.chat_inbox)
            .where(_c.id == item_id, _c.state == PENDING)
            .values(next_attempt_at=when, lease_owner=None, lease_until=None, last_error=error[:ERROR_CHARS])
        )
        await self.session.execute(stmt)

    async def fail(self, item_id: int, now: datetime, error: str) -> None:
        stmt = (
            update(orm.chat_inbox)
            .where(_c.id == item_id, _c.state == PENDING)
            .values(state=FAILED, finished_at=now, lease_owner=None, lease_until=None, last_error=error[:ERROR_CHARS])
        )
        await self.session.execute(stmt)

    async def due(self, platform: str, now: datetime, limit: int) -> Sequence[int]:
        """Pending items whose time has come and whose lease is free or ran out (its holder crashed)."""
        q = (
            select(_c.id)
            .where(_c.platform == platform, _c.state == PENDING, _c.next_attempt_at <= now,
                   or_(_c.lease_until.is_(None), _c.lease_until < now))
            .order_by(_c.id)
            .limit(limit)
        )
        return (await self.session.scalars(q)).all()

    async def renew(self, item_ids: Sequence[int], owner: str, until: datetime | None) -> None:
        """Extend `owner`'s leases on these items; with `until` None, give them up (free for anyone now)."""
        for start in range(0, len(item_ids), CHUNK):
            stmt = (
                update(orm.chat_inbox)
                .where(_c.id.in_(list(item_ids[start:start + CHUNK])), _c.state == PENDING, _c.lease_owner == owner)
                .values(lease_until=until, lease_owner=owner if until is not None else None)
            )
            await self.session.execute(stmt)

    async def purge(self, platform: str, done_before: datetime, failed_before: datetime) -> int:
        stmt = delete(orm.chat_inbox).where(
            _c.platform == platform,
            or_((_c.state == DONE) & (_c.finished_at < done_before), (_c.state == FAILED) & (_c.finished_at < failed_before)),
        )
        return (await self.session.execute(stmt)).rowcount  # type: ignore[attr-defined,no-any-return]
