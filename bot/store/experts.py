"""The mails of outside-expert exchanges (`bot.handlers.experts`), in SQLAlchemy Core."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, insert, select

from bot.domain.experts import Direction, ExpertMail
from bot.store import orm
from bot.store.repositories import _Repo

_e = orm.expert_asks.c
_COLUMNS = (_e.id, _e.ticket_id, _e.expert, _e.mail_message_id, _e.direction, _e.asked_by, _e.message_id,
            _e.created_at)


class SqlExpertAsks(_Repo):
    async def add(self, mail: ExpertMail) -> None:
        await self.session.execute(insert(orm.expert_asks).values(
            ticket_id=mail.ticket_id, expert=mail.expert.lower(), mail_message_id=mail.mail_message_id,
            direction=str(mail.direction), asked_by=mail.asked_by, message_id=mail.message_id,
            created_at=mail.created_at))
        await self._flush()

    async def exchange(self, ticket_id: int, expert: str) -> Sequence[ExpertMail]:
        """The exchange's mails, oldest first."""
        q = select(*_COLUMNS).where(_e.ticket_id == ticket_id, _e.expert == expert.lower()).order_by(_e.id)
        return [_mail(row) for row in (await self.session.execute(q)).all()]

    async def naming(self, mail_message_ids: Sequence[str]) -> ExpertMail | None:
        """The exchange mail among these Message-IDs that came last in the list (a reply's parent is last)."""
        ids = list(dict.fromkeys(mail_message_ids))
        if not ids:
            return None
        rows = (await self.session.execute(select(*_COLUMNS).where(_e.mail_message_id.in_(ids[-100:])))).all()
        found = {row.mail_message_id: _mail(row) for row in rows}
        return next((found[mid] for mid in reversed(ids) if mid in found), None)

    async def asked(self, ticket_id: int, expert: str) -> bool:
        """Whether we ever mailed this expert about this ticket."""
        q = select(_e.id).where(_e.ticket_id == ticket_id, _e.expert == expert.lower(),
                                _e.direction == str(Direction.QUESTION)).limit(1)
        return (await self.session.scalar(q)) is not None


def _mail(r: Row[Any]) -> ExpertMail:
    return ExpertMail(ticket_id=r.ticket_id, expert=r.expert, mail_message_id=r.mail_message_id,
                      direction=Direction(r.direction), created_at=r.created_at, asked_by=r.asked_by,
                      message_id=r.message_id, id=r.id)
