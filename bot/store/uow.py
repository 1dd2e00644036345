"""The unit of work: one transaction per handler call, events collected for after commit."""

from __future__ import annotations

from typing import Self

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.handlers.ports import WORKING_ON, AlreadyDone, Conflict, Working
from bot.store import orm
from bot.store.chat import SqlChatPosts, SqlChatThreads, SqlCollaborators
from bot.store.contact_links import SqlContactLinks
from bot.store.db import READ_ONLY, session_factory
from bot.store.experts import SqlExpertAsks
from bot.store.held_replies import SqlHeldReplies
from bot.store.inbox import SqlInbox
from bot.store.notices import SqlNotices
from bot.store.operations import SqlJobRuns, SqlTicketCounts
from bot.store.quarantine import SqlQuarantine
from bot.store.reports import SqlReports
from bot.store.repositories import (
    SqlAgents,
    SqlAttachments,
    SqlAudit,
    SqlContacts,
    SqlCursors,
    SqlKeyValue,
    SqlMessages,
    SqlOutbox,
    SqlTickets,
)
from bot.store.search import SqlSearch
from bot.store.time_entries import SqlTimeEntries
from bot.store.workflow_repos import SqlReplyDrafts, SqlTasks


class SqlUnitOfWork:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], read_only: bool = False) -> None:
        self._sessions = sessions
        self._read_only = read_only
        self.events: list[object] = []

    async def __aenter__(self) -> Self:
        self.session = self._sessions()
        s = self.session
        if self._read_only:
            # Before the transaction begins: on SQLite it then begins DEFERRED, not IMMEDIATE (bot.store.db).
            await s.connection(execution_options={READ_ONLY: True})
        self.contacts = SqlContacts(s)
        self.agents = SqlAgents(s)
        self.tickets = SqlTickets(s)
        self.messages = SqlMessages(s)
        self.attachments = SqlAttachments(s)
        self.audit = SqlAudit(s)
        self.outbox = SqlOutbox(s)
        self.quarantine = SqlQuarantine(s)
        self.cursors = SqlCursors(s)
        self.kv = SqlKeyValue(s)
        self.chat_threads = SqlChatThreads(s)
        self.chat_posts = SqlChatPosts(s)
        self.collaborators = SqlCollaborators(s)
        self.tasks = SqlTasks(s)
        self.time_entries = SqlTimeEntries(s)
        self.reply_drafts = SqlReplyDrafts(s)
        self.reports = SqlReports(s)
        self.job_runs = SqlJobRuns(s)
        self.ticket_counts = SqlTicketCounts(s)
        self.contact_links = SqlContactLinks(s)
        self.inbox = SqlInbox(s)
        self.notices = SqlNotices(s)
        self.search = SqlSearch(s)
        self.held_replies = SqlHeldReplies(s)
        self.expert_asks = SqlExpertAsks(s)
        self.events = []
        return self

    async def __aexit__(self, *exc: object) -> None:
        # Anything not committed explicitly is rolled back: a handler that raises leaves no trace.
        # Detach first, so what was read stays readable after the transaction (rollback would expire it).
        self.session.expunge_all()
        await self.session.rollback()
        await self.session.close()

    async def flush(self) -> None:
        try:
            await self.audit.write_pending()
            await self.session.flush()
        except IntegrityError as exc:
            raise Conflict(str(exc.orig)) from exc

    async def commit(self) -> None:
        working = self._finishing()
        try:
            await self.audit.write_pending()
            if working is not None and not await self.inbox.finish(working.item_id, working.clock()):
                raise AlreadyDone(f"inbound item {working.item_id} was done by another run")
            await self.session.commit()
        except IntegrityError as exc:
            raise Conflict(str(exc.orig)) from exc
        if working is not None:
            working.done = True

    def _finishing(self) -> Working | None:
        """The kept inbound item (bot.handlers.inbox) this commit completes: the one this task works on,
        when this is the first commit of its work that changes something (one with events)."""
        working = WORKING_ON.get()
        return working if working is not None and not working.done and self.events else None

    async def rollback(self) -> None:
        await self.session.rollback()


class SqlUnitOfWorkFactory:
    def __init__(self, engine: AsyncEngine) -> None:
        orm.start_mappers()
        self.engine = engine
        self._sessions = session_factory(engine)

    def __call__(self, *, read_only: bool = False) -> SqlUnitOfWork:
        """`read_only`: a unit of work that only reads (a search), so need not wait for or block the writers."""
        return SqlUnitOfWork(self._sessions, read_only)
