"""Chat users linked to a mail contact, and the codes that prove an address (`bot.handlers.contact_link`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, insert, select, update

from bot.handlers.ports import LinkCode
from bot.store import orm
from bot.store.repositories import _Repo

_l = orm.contact_links.c
_c = orm.link_codes.c


class SqlContactLinks(_Repo):
    async def contact_for(self, chat_address: str) -> int | None:
        q = select(_l.contact_id).where(_l.chat_address == chat_address.lower())
        return (await self.session.scalars(q)).first()

    async def chat_addresses_of(self, contact_id: int) -> Sequence[str]:
        q = select(_l.chat_address).where(_l.contact_id == contact_id).order_by(_l.id)
        return (await self.session.scalars(q)).all()

    async def link(self, chat_address: str, contact_id: int, now: datetime) -> None:
        await self.session.execute(insert(orm.contact_links).values(
            chat_address=chat_address.lower(), contact_id=contact_id, created_at=now))
        await self._flush()

    async def add_code(self, code: LinkCode) -> None:
        await self.session.execute(insert(orm.link_codes).values(
            chat_address=code.chat_address, email=code.email, code_hash=code.code_hash,
            expires_at=code.expires_at, tries=code.tries, created_at=code.created_at))

    async def codes_since(self, chat_address: str, since: datetime) -> int:
        q = select(func.count()).select_from(orm.link_codes).where(
            _c.chat_address == chat_address, _c.created_at >= since)
        return int((await self.session.scalar(q)) or 0)

    async def codes_to_since(self, email: str, since: datetime) -> int:
        """Codes mailed to one address, whoever asked for them: no address is mailed codes without end."""
        q = select(func.count()).select_from(orm.link_codes).where(_c.email == email.lower(), _c.created_at >= since)
        return int((await self.session.scalar(q)) or 0)

    async def latest_code(self, chat_address: str, *, for_update: bool = False) -> LinkCode | None:
        q = (select(_c.id, _c.chat_address, _c.email, _c.code_hash, _c.expires_at, _c.tries, _c.created_at)
             .where(_c.chat_address == chat_address).order_by(_c.created_at.desc(), _c.id.desc()).limit(1))
        if for_update:
            q = q.with_for_update()
        row = (await self.session.execute(q)).first()
        if row is None:
            return None
        return LinkCode(id=row.id, chat_address=row.chat_address, email=row.email, code_hash=row.code_hash,
                        expires_at=row.expires_at, tries=row.tries, created_at=row.created_at)

    async def update_code(self, code_id: int, *, tries: int, expires_at: datetime) -> None:
        await self.session.execute(update(orm.link_codes).where(_c.id == code_id).values(
            tries=tries, expires_at=expires_at))

    async def tickets_of(self, contact_id: int) -> Sequence[int]:
        t = orm.tickets.c
        return (await self.session.scalars(select(t.id).where(t.requester_id == contact_id).order_by(t.id))).all()

    async def move_messages(self, ticket_ids: Sequence[int], from_contact: int, to_contact: int) -> None:
        m = orm.messages.c
        if ticket_ids:
            await self.session.execute(update(orm.messages).where(
                m.ticket_id.in_(list(ticket_ids)), m.author_contact_id == from_contact).values(
                author_contact_id=to_contact))

    async def dm_platforms(self, ticket_id: int) -> Sequence[str]:
        """The platforms on which the ticket is shown in its customer's direct messages ("discord-dm")."""
        t = orm.chat_threads.c
        q = select(t.platform).where(t.ticket_id == ticket_id, t.platform.endswith("-dm")).order_by(t.platform)
        return (await self.session.scalars(q)).all()
