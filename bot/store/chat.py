"""Repositories for where tickets are shown in chat: threads, posted messages, collaborators."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, delete, exists, not_, or_, select, union_all, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.domain.model import ChatPost, ChatThread, Collaborator
from bot.store import orm
from bot.store.repositories import _Repo

_t = orm.chat_threads.c
_p = orm.chat_posts.c


class SqlChatThreads(_Repo):
    async def get(self, platform: str, ticket_id: int) -> ChatThread | None:
        q = select(ChatThread).where(_t.platform == platform, _t.ticket_id == ticket_id)
        return (await self.session.scalars(q.execution_options(populate_existing=True))).first()

    async def by_root(self, platform: str, channel: str | None, root_ref: str) -> ChatThread | None:
        """The thread whose root is `root_ref`; in `channel`, or in any channel when None (not indexed)."""
        q = select(ChatThread).where(_t.platform == platform, _t.root_ref == root_ref)
        if channel is not None:
            q = q.where(_t.channel == channel)
        return (await self.session.scalars(q)).first()

    async def ensure(self, platform: str, ticket_id: int, channel: str, now: datetime) -> None:
        insert = pg_insert if self._pg else sqlite_insert
        stmt = insert(orm.chat_threads).values(
            platform=platform, ticket_id=ticket_id, channel=channel, post_attempts=0, created_at=now
        ).on_conflict_do_nothing(index_elements=["platform", "ticket_id"])
        await self.session.execute(stmt)

    async def acquire(self, platform: str, ticket_id: int, owner: str, now: datetime, until: datetime) -> bool:
        """Take the thread's lease: one worker, of any instance, syncs a ticket at a time."""
        stmt = (
            update(orm.chat_threads)
            .where(_t.platform == platform, _t.ticket_id == ticket_id,
                   or_(_t.lease_until.is_(None), _t.lease_until < now, _t.lease_owner == owner))
            .values(lease_owner=owner, lease_until=until)
        )
        return (await self.session.execute(stmt)).rowcount == 1  # type: ignore[attr-defined]

    async def release(self, platform: str, ticket_id: int, owner: str) -> None:
        stmt = (
            update(orm.chat_threads)
            .where(_t.platform == platform, _t.ticket_id == ticket_id, _t.lease_owner == owner)
            .values(lease_owner=None, lease_until=None)
        )
        await self.session.execute(stmt)

    async def needing_sync(self, platform: str, since: datetime, limit: int, *, existing_only: bool = False,
                           exclude_teams: Sequence[str] = ()) -> Sequence[int]:
        """Recent tickets whose chat view is behind: no root yet, a stale root, or messages not shown.

        `existing_only`: only tickets that already have a thread row on `platform` (a customer's DM
        thread is created with its ticket; other tickets are never shown there). `exclude_teams`:
        teams not shown on `platform`; their tickets only while a root of theirs is still up there."""
        tk, m = orm.tickets.c, orm.messages.c
        thread = orm.chat_threads.alias("th")
        unposted = exists().where(
            m.ticket_id == tk.id,
            or_(m.chat_ref.is_(None), not_(m.chat_ref.startswith(f"{platform}:"))),
            ~exists().where(_p.platform == platform, _p.message_id == m.id),
        )
        q = (
            select(tk.id)
            .select_from((orm.tickets.join if existing_only else orm.tickets.outerjoin)(
                thread, and_(thread.c.ticket_id == tk.id, thread.c.platform == platform)))
            .where(tk.updated_at >= since)
            .where(or_(thread.c.root_ref.is_(None), thread.c.rendered_at.is_(None),
                       thread.c.rendered_at < tk.updated_at, unposted))
            .order_by(tk.id)
            .limit(limit)
        )
        if exclude_teams:
            q = q.where(or_(tk.team.is_(None), tk.team.not_in(list(exclude_teams)), thread.c.root_ref.is_not(None)))
        return (await self.session.scalars(q)).all()


class SqlChatPosts(_Repo):
    async def add(self, post: ChatPost) -> ChatPost:
        self.session.add(post)
        await self._flush()
        return post

    async def posted_message_ids(self, platform: str, ticket_id: int) -> set[int]:
        q = select(_p.message_id).where(_p.platform == platform, _p.ticket_id == ticket_id)
        return set((await self.session.scalars(q)).all())

    async def forget_messages(self, message_ids: Sequence[int], *, platform: str | None = None) -> None:
        """These messages are to be shown again: on every platform (they moved to another ticket's
        thread), or on `platform` only (the ticket's thread there moved to another channel)."""
        if message_ids:
            stmt = delete(orm.chat_posts).where(_p.message_id.in_(list(message_ids)))
            if platform is not None:
                stmt = stmt.where(_p.platform == platform)
            await self.session.execute(stmt)

    async def by_ref(self, platform: str, ref: str) -> ChatPost | None:
        q = select(ChatPost).where(_p.platform == platform, _p.ref == ref)
        return (await self.session.scalars(q)).first()

    async def seen_refs(self, platform: str, ticket_id: int) -> Sequence[str]:
        """What the store knows of this ticket's thread on `platform`: our posts' refs, and the chat_refs
        of the messages people typed there (notes)."""
        m = orm.messages.c
        posts = select(_p.ref).where(_p.platform == platform, _p.ticket_id == ticket_id)
        typed = select(m.chat_ref).where(m.ticket_id == ticket_id, m.chat_ref.startswith(f"{platform}:"))
        return (await self.session.scalars(union_all(posts, typed))).all()  # type: ignore[arg-type]


class SqlCollaborators(_Repo):
    async def add_if_absent(self, item: Collaborator) -> bool:
        """True if the person was not on the ticket yet."""
        insert = pg_insert if self._pg else sqlite_insert
        stmt = insert(orm.collaborators).values(
            ticket_id=item.ticket_id, agent_id=item.agent_id, added_at=item.added_at, added_by=item.added_by
        ).on_conflict_do_nothing(index_elements=["ticket_id", "agent_id"])
        return (await self.session.execute(stmt)).rowcount == 1  # type: ignore[attr-defined]

    async def for_ticket(self, ticket_id: int) -> Sequence[Collaborator]:
        c = orm.collaborators.c
        q = select(Collaborator).where(c.ticket_id == ticket_id).order_by(c.added_at, c.id)
        return (await self.session.scalars(q)).all()
