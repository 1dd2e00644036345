"""Quarantined mail, and the count of failed tries that sends a mail there whatever its error.

A mail is kept once: delivered again (an IMAP folder read anew, a client sending twice) it is
recognised by its exact bytes and no second row is added. The failure count is kept in the `kv`
table (key `mail-failures:<sha256 of the raw mail>`), so it survives restarts and is shared by
every process that takes in mail (`tiketti ingest` starts afresh for each try an MTA makes).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.domain.model import QuarantinedMail
from bot.store import orm
from bot.store.repositories import _Repo

_FAILURES = "mail-failures:"


class SqlQuarantine(_Repo):
    async def add(self, item: QuarantinedMail) -> QuarantinedMail:
        self.session.add(item)
        await self._flush()
        return item

    async def get(self, item_id: int) -> QuarantinedMail | None:
        return await self.session.get(QuarantinedMail, item_id)

    async def holding(self, raw: bytes, sender: str, subject: str) -> QuarantinedMail | None:
        """The row already keeping exactly these bytes, if any.

        Narrowed by sender, subject and size first (the size is in each value's header on both
        databases, so only candidates of the same length are compared byte for byte).
        """
        q = orm.quarantine.c
        stmt = (select(QuarantinedMail)
                .where(q.sender == sender, q.subject == subject, func.length(q.raw) == len(raw), q.raw == raw)
                .order_by(q.id).limit(1))
        return (await self.session.scalars(stmt)).first()

    async def unresolved(self, limit: int = 100) -> Sequence[QuarantinedMail]:
        q = orm.quarantine.c
        stmt = select(QuarantinedMail).where(q.resolved_at.is_(None)).order_by(q.id).limit(limit)
        return (await self.session.scalars(stmt)).all()

    async def count_failure(self, raw: bytes) -> int:
        """One more failed try of this mail (these exact bytes); how many there have been now."""
        key, kv = _key(raw), orm.kv
        insert = pg_insert if self._pg else sqlite_insert
        await self.session.execute(insert(kv).values(key=key, value="0").on_conflict_do_nothing(index_elements=["key"]))
        current = (await self.session.execute(select(kv.c.value).where(kv.c.key == key).with_for_update())).scalar_one()
        count = (int(current) if current.isdigit() else 0) + 1
        await self.session.execute(update(kv).where(kv.c.key == key).values(value=str(count)))
        return count

    async def forget_failures(self, raw: bytes) -> None:
        """The mail is stored or quarantined: its failed tries no longer matter."""
        await self.session.execute(delete(orm.kv).where(orm.kv.c.key == _key(raw)))


def _key(raw: bytes) -> str:
    return _FAILURES + hashlib.sha256(raw).hexdigest()
