"""Repositories for the ticket workflow: tasks and open Reply forms."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.domain.model import ReplyDraft, Task
from bot.store import orm
from bot.store.repositories import _Repo

_task = orm.tasks.c
_draft = orm.reply_drafts.c


class SqlTasks(_Repo):
    async def add(self, task: Task) -> Task:
        self.session.add(task)
        await self._flush()
        return task

    async def get(self, task_id: int) -> Task | None:
        return await self.session.get(Task, task_id)

    async def for_ticket(self, ticket_id: int) -> Sequence[Task]:
        q = select(Task).where(_task.ticket_id == ticket_id).order_by(_task.id)
        return (await self.session.scalars(q)).all()

    async def open_for(self, assignee_id: int, limit: int = 50) -> Sequence[Task]:
        q = (select(Task).where(_task.assignee_id == assignee_id, _task.done_at.is_(None))
             .order_by(_task.due_at.is_(None), _task.due_at, _task.id).limit(limit))
        return (await self.session.scalars(q)).all()

    async def due_unreminded(self, now: datetime, limit: int = 100) -> Sequence[Task]:
        q = (select(Task).where(_task.done_at.is_(None), _task.reminded_at.is_(None), _task.due_at <= now)
             .order_by(_task.due_at).limit(limit))
        if self._pg:
            q = q.with_for_update(skip_locked=True)  # one reminder, whichever instance looks first
        return (await self.session.scalars(q)).all()


class SqlReplyDrafts(_Repo):
    async def opened(self, ticket_id: int, agent_id: int, now: datetime) -> None:
        insert = pg_insert if self._pg else sqlite_insert
        stmt = insert(orm.reply_drafts).values(ticket_id=ticket_id, agent_id=agent_id, opened_at=now)
        stmt = stmt.on_conflict_do_update(index_elements=["ticket_id", "agent_id"], set_={"opened_at": now})
        await self.session.execute(stmt)

    async def others(self, ticket_id: int, agent_id: int, since: datetime) -> Sequence[ReplyDraft]:
        q = (select(ReplyDraft).where(_draft.ticket_id == ticket_id, _draft.agent_id != agent_id,
                                      _draft.opened_at >= since).order_by(_draft.opened_at))
        return (await self.session.scalars(q)).all()

    async def closed(self, ticket_id: int, agent_id: int) -> None:
        await self.session.execute(delete(orm.reply_drafts).where(_draft.ticket_id == ticket_id,
                                                                  _draft.agent_id == agent_id))
