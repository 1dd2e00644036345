"""Replies held for their undo window (the held_replies table), and the one statement that takes one back.

Taking a held mail back is a single conditional DELETE on its outbox row: it matches only while the
row is still pending, never tried and inside its window. The outbox worker claims rows by moving them
to SENDING (bot.store.repositories.SqlOutbox.claim_due); on PostgreSQL the DELETE and the claim lock
the same row and the second re-checks the WHERE after the first commits, on SQLite every transaction
holds the write lock from its start (BEGIN IMMEDIATE). Either way exactly one of them wins.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select

from bot.domain.model import MailState
from bot.handlers.toolkit_ports import HeldReply
from bot.store import orm
from bot.store.repositories import _Repo

_h = orm.held_replies.c
_o = orm.outbox.c


class SqlHeldReplies(_Repo):
    async def add(self, held: HeldReply) -> None:
        await self.session.execute(insert(orm.held_replies).values(**vars(held)))

    async def get(self, message_id: int) -> HeldReply | None:
        row = (await self.session.execute(select(orm.held_replies).where(_h.message_id == message_id))).first()
        return _held(row._mapping) if row else None

    async def latest(self, ticket_id: int, agent_id: int | None) -> HeldReply | None:
        q = select(orm.held_replies).where(_h.ticket_id == ticket_id)
        if agent_id is not None:
            q = q.where(_h.agent_id == agent_id)
        row = (await self.session.execute(q.order_by(_h.held_until.desc(), _h.message_id.desc()).limit(1))).first()
        return _held(row._mapping) if row else None

    async def withdraw_mail(self, outbox_id: int, now: datetime) -> bool:
        stmt = delete(orm.outbox).where(_o.id == outbox_id, _o.state == MailState.PENDING, _o.attempts == 0,
                                        _o.next_attempt_at > now)
        result = await self.session.execute(stmt.execution_options(synchronize_session=False))
        return result.rowcount == 1  # type: ignore[attr-defined]

    async def remove(self, message_id: int) -> None:
        await self.session.execute(delete(orm.held_replies).where(_h.message_id == message_id))

    async def purge(self, ticket_id: int, before: datetime) -> int:
        result = await self.session.execute(delete(orm.held_replies).where(_h.ticket_id == ticket_id,
                                                                           _h.held_until < before))
        return int(result.rowcount)  # type: ignore[attr-defined]


def _held(row: Any) -> HeldReply:
    return HeldReply(**{name: row[name] for name in HeldReply.__dataclass_fields__})
