"""SQLAlchemy implementations of the repository protocols in `bot.handlers.ports`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy import LargeBinary, and_, bindparam, case, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from bot.domain.model import (
    Agent,
    Attachment,
    AuditEvent,
    Contact,
    MailboxCursor,
    MailState,
    Message,
    MessageKind,
    OutboundMail,
    Ticket,
)
from bot.domain.priority import Priority
from bot.domain.status import Status
from bot.handlers.ports import Conflict
from bot.store import orm, prepared

T = TypeVar("T")
ACTIVE = [s for s in Status if s.is_active]
# Values per IN list: asyncpg takes at most 32,767 parameters per statement, SQLite 32,766 (older builds
# 999). A mail's References header can name 40,000 ids; one statement per chunk keeps every list legal.
IN_CHUNK = 900


def chunks(values: Sequence[T]) -> list[list[T]]:
    return [list(values[start:start + IN_CHUNK]) for start in range(0, len(values), IN_CHUNK)]


class _Repo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _flush(self) -> None:
        try:
            await self.session.flush()
        except IntegrityError as exc:
            raise Conflict(str(exc.orig)) from exc

    @property
    def _pg(self) -> bool:
        return self.session.bind.dialect.name == "postgresql"  # type: ignore[union-attr]


class SqlContacts(_Repo):
    async def get(self, contact_id: int) -> Contact | None:
        return await self.session.get(Contact, contact_id)

    async def by_email(self, email: str) -> Contact | None:
        res = await self.session.scalars(prepared.CONTACT_BY_EMAIL(), {"email": email.lower()})
        return res.first()

    async def add(self, contact: Contact) -> Contact:
        contact.email = contact.email.lower()
        self.session.add(contact)
        await self._flush()
        return contact


class SqlAgents(_Repo):
    async def get(self, agent_id: int) -> Agent | None:
        return await self.session.get(Agent, agent_id)

    async def by_email(self, email: str) -> Agent | None:
        a = orm.agents.c
        res = await self.session.scalars(select(Agent).where(func.lower(a.email) == email.lower()).order_by(a.id))
        return res.first()

    async def matching(self, keys: Sequence[str]) -> Sequence[Agent]:
        """Agents named by chat user id or email (how the workflow file lists team members)."""
        a = orm.agents.c
        lowered = [k.lower() for k in keys]
        q = select(Agent).where(or_(a.chat_user_id.in_(list(keys)), func.lower(a.email).in_(lowered))).order_by(a.id)
        return (await self.session.scalars(q)).all()

    async def by_chat_user_id(self, chat_user_id: str) -> Agent | None:
        res = await self.session.scalars(select(Agent).where(orm.agents.c.chat_user_id == chat_user_id))
        return res.first()

    async def add(self, agent: Agent) -> Agent:
        self.session.add(agent)
        await self._flush()
        return agent


class SqlTickets(_Repo):
    async def get(self, number: int, *, for_update: bool = False) -> Ticket | None:
        return await self.session.get(Ticket, number, with_for_update=for_update or None)

    async def add(self, ticket: Ticket) -> Ticket:
        self.session.add(ticket)
        await self._flush()
        return ticket

    async def active(self, *, assignee_id: int | None = None, unassigned: bool = False, limit: int = 50,
                     teams: Sequence[str] | None = None, hidden_teams: Sequence[str] = (),
                     for_update: bool = False) -> Sequence[Ticket]:
        t = orm.tickets.c
        q = select(Ticket).where(t.status.in_(ACTIVE))
        if assignee_id is not None:
            q = q.where(t.assignee_id == assignee_id)
        if unassigned:
            q = q.where(t.assignee_id.is_(None))
        if teams is not None:
            q = q.where(t.team.in_(list(teams)))
        if hidden_teams:  # private teams the asker is not in
            q = q.where(or_(t.team.is_(None), t.team.not_in(list(hidden_teams))))
        if for_update and self._pg:
            q = q.with_for_update(skip_locked=True)  # two agents asking for "next" get different tickets
        # Most urgent first, in SQL: sorting a prefix in Python would miss an urgent ticket behind a long queue.
        # The ranks come from the domain rule (Priority.rank), so the order is defined in one place.
        rank = case(*((t.priority == p, p.rank) for p in Priority), else_=Priority.NORMAL.rank)
        # With service levels, the nearest due time comes first (a first-reply due time counts until answered).
        first = case((t.first_response_at.is_(None), t.first_response_due_at), else_=None)
        due = case((first.is_(None), t.resolution_due_at), (t.resolution_due_at.is_(None), first),
                   (first < t.resolution_due_at, first), else_=t.resolution_due_at)
        q = q.order_by(due.is_(None), due, rank.desc(), t.created_at, t.id).limit(limit)
        return (await self.session.scalars(q)).all()

    async def sla_due(self, horizon: datetime, limit: int = 500) -> Sequence[Ticket]:
        """Active, unpaused tickets with an unbreached due time before `horizon` (now plus the warning lead)."""
        t = orm.tickets.c
        first = and_(t.first_response_at.is_(None), t.first_response_breached_at.is_(None),
                     t.first_response_due_at <= horizon)
        resolution = and_(t.resolution_breached_at.is_(None), t.resolution_due_at <= horizon)
        q = (select(Ticket).where(t.status.in_(ACTIVE), t.sla_paused_since.is_(None), or_(first, resolution))
             .order_by(t.id).limit(limit))
        if self._pg:
            q = q.with_for_update(skip_locked=True)  # one post per warning, whichever instance looks first
        return (await self.session.scalars(q)).all()

    async def children(self, parent_id: int) -> Sequence[Ticket]:
        t = orm.tickets.c
        return (await self.session.scalars(select(Ticket).where(t.parent_id == parent_id).order_by(t.id))).all()

    async def child_states(self, parent_ids: Sequence[int]) -> Sequence[tuple[int, int, Status]]:
        """(parent, child, status) for the children of several tickets, in one query of three columns."""
        rows = await self.session.execute(prepared.CHILD_STATES(), {"parents": list(parent_ids)})
        return [(int(p), int(c), Status(s)) for p, c, s in rows.all()]

    async def active_counts(self, agent_ids: Sequence[int]) -> dict[int, int]:
        """Active tickets per agent: the load that least-loaded assignment balances."""
        t = orm.tickets.c
        q = (select(t.assignee_id, func.count()).where(t.assignee_id.in_(list(agent_ids)), t.status.in_(ACTIVE))
             .group_by(t.assignee_id))
        counts = {int(a): int(n) for a, n in (await self.session.execute(q)).all()}
        return {a: counts.get(a, 0) for a in agent_ids}

    async def solved_before(self, moment: datetime, limit: int = 500) -> Sequence[Ticket]:
        t = orm.tickets.c
        q = select(Ticket).where(t.status == Status.SOLVED, t.solved_at < moment).order_by(t.solved_at).limit(limit)
        if self._pg:
            q = q.with_for_update(skip_locked=True)
        return (await self.session.scalars(q)).all()

    async def recent_for_requester(self, requester_id: int, *, exclude: int | None = None, limit: int = 5) -> Sequence[Ticket]:
        params = {"requester": requester_id, "exclude": -1 if exclude is None else exclude, "limit": limit}
        return (await self.session.scalars(prepared.RECENT_FOR_REQUESTER(), params)).all()

    async def merged_of_requester(self, requester_id: int, limit: int = 20) -> Sequence[Ticket]:
        """The customer's tickets that were merged into another, latest first (bot.handlers.merged_mail)."""
        t = orm.tickets.c
        q = (select(Ticket).where(t.requester_id == requester_id, t.merged_into.is_not(None))
             .order_by(t.id.desc()).limit(limit))
        return (await self.session.scalars(q)).all()


class SqlMessages(_Repo):
    async def add(self, message: Message) -> Message:
        self.session.add(message)
        await self._flush()
        return message

    async def has_mail_message_id(self, mail_message_id: str) -> bool:
        """Asked of every mail (is it a re-delivery?): one indexed column, no message loaded."""
        return (await self.session.execute(prepared.HAS_MAIL_ID(), {"mid": mail_message_id})).first() is not None

    async def ticket_of_mail_message_ids(self, mail_message_ids: Sequence[str]) -> int | None:
        """The ticket holding the latest of these mails (the best evidence of which ticket is meant)."""
        found: dict[str, int] = {}
        for some in chunks(list(dict.fromkeys(mail_message_ids))):
            rows = await self.session.execute(prepared.TICKETS_OF_MAIL_IDS(), {"mids": some})
            found.update((mid, ticket) for mid, ticket in rows.all())
        return next((int(found[mid]) for mid in reversed(mail_message_ids) if mid in found), None)

    async def by_mail_message_id(self, mail_message_id: str) -> Message | None:
        """The stored mail with this Message-ID (intake compares a second mail claiming it)."""
        res = await self.session.scalars(select(Message).where(orm.messages.c.mail_message_id == mail_message_id))
        return res.first()

    async def for_ticket(self, ticket_id: int) -> Sequence[Message]:
        m = orm.messages.c
        q = select(Message).where(m.ticket_id == ticket_id).order_by(m.created_at, m.id)
        return (await self.session.scalars(q)).all()

    async def latest_reply_by(self, agent_id: int) -> Message | None:
        """The agent's latest reply to a customer, on any ticket (`/ticket replies save`)."""
        m = orm.messages.c
        q = (select(Message).where(m.author_agent_id == agent_id, m.kind == MessageKind.REPLY)
             .order_by(m.created_at.desc(), m.id.desc()).limit(1))
        return (await self.session.scalars(q)).first()

    async def move(self, from_ticket: int, to_ticket: int) -> list[int]:
        """Move a ticket's messages to another ticket (a merge); their chat refs go, as they now live elsewhere."""
        m = orm.messages.c
        ids = list((await self.session.scalars(select(m.id).where(m.ticket_id == from_ticket))).all())
        for some in chunks(ids):
            stmt = update(Message).where(m.id.in_(some)).values(ticket_id=to_ticket, chat_ref=None)
            await self.session.execute(stmt.execution_options(synchronize_session="fetch"))
        return ids

    async def forget_chat_refs(self, ticket_id: int, prefix: str) -> None:
        """The ticket's messages from one platform are to be shown again there (its thread moved)."""
        m = orm.messages.c
        stmt = update(Message).where(m.ticket_id == ticket_id, m.chat_ref.startswith(prefix)).values(chat_ref=None)
        await self.session.execute(stmt.execution_options(synchronize_session="fetch"))

    async def by_chat_ref(self, chat_ref: str) -> Message | None:
        res = await self.session.scalars(select(Message).where(orm.messages.c.chat_ref == chat_ref))
        return res.first()


# PostgreSQL: asyncpg copies a bytea parameter into its write buffer and asyncio copies it again
# into the socket's send buffer, 3.9 copies of a 25 MB file at peak (bench/ingest.py). Sent in
# slices, only one slice is copied at a time. Same transaction: the row is still all or nothing.
_PG_SLICE = 4 * 1024 * 1024


class SqlAttachments(_Repo):
    async def add(self, attachment: Attachment) -> Attachment:
        content = attachment.content
        if not self._pg or content is None or len(content) <= _PG_SLICE:
            self.session.add(attachment)
            return attachment
        attachment.content = b""
        self.session.add(attachment)
        await self._flush()
        a, view = orm.attachments.c, memoryview(content)
        append = update(orm.attachments).where(a.id == attachment.id).values(content=a.content.concat(bindparam("piece", type_=LargeBinary)))
        for start in range(0, len(content), _PG_SLICE):
            await self.session.execute(append, {"piece": view[start:start + _PG_SLICE].tobytes()})
        set_committed_value(attachment, "content", content)  # what the row now holds; no UPDATE at commit
        return attachment

    async def for_messages(self, message_ids: Sequence[int]) -> Sequence[Attachment]:
        if not message_ids:
            return []
        a = orm.attachments.c
        # Metadata only: content stays in the database until someone downloads it.
        q = select(a.id, a.message_id, a.filename, a.content_type, a.size, (a.content.is_not(None)).label("stored"))
        rows = [row for some in chunks(message_ids)
                for row in (await self.session.execute(q.where(a.message_id.in_(some)))).all()]
        rows.sort(key=lambda r: r.id)
        return [
            Attachment(message_id=r.message_id, filename=r.filename, content_type=r.content_type, size=r.size,
                       content=b"" if r.stored else None, id=r.id)
            for r in rows
        ]


class SqlAudit(_Repo):
    """Audit rows are written together, in one multi-row INSERT, just before the transaction
    commits (or before anything reads them): nothing needs their ids, and a mail's three
    or four rows cost one statement instead of one each."""

    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self._pending: list[dict[str, object]] = []

    def add(self, event: AuditEvent) -> None:
        self._pending.append({
            "ticket_id": event.ticket_id, "action": event.action, "actor": event.actor, "created_at": event.created_at,
            "field": event.field, "before": event.before, "after": event.after, "detail": event.detail,
        })

    async def write_pending(self) -> None:
        if self._pending:
            rows, self._pending = self._pending, []
            await self.session.execute(insert(orm.audit_events), rows)

    async def count_since(self, actor: str, action: str, since: datetime) -> int:
        await self.write_pending()
        a = orm.audit_events.c
        q = select(func.count()).select_from(orm.audit_events).where(
            a.actor == actor, a.action == action, a.created_at >= since)
        return int((await self.session.execute(q)).scalar_one())

    async def for_ticket(self, ticket_id: int) -> Sequence[AuditEvent]:
        await self.write_pending()
        a = orm.audit_events.c
        q = select(AuditEvent).where(a.ticket_id == ticket_id).order_by(a.created_at, a.id)
        return (await self.session.scalars(q)).all()


class SqlOutbox(_Repo):
    async def add(self, mail: OutboundMail) -> OutboundMail:
        # No flush: nothing needs the row's id before commit, so the INSERT joins the commit's flush.
        self.session.add(mail)
        return mail

    async def get(self, outbox_id: int) -> OutboundMail | None:
        return await self.session.get(OutboundMail, outbox_id)

    async def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> Sequence[OutboundMail]:
        o = orm.outbox.c
        q = (
            select(OutboundMail)
            .where(o.state == MailState.PENDING, o.next_attempt_at <= now)
            .order_by(o.next_attempt_at, o.id)
            .limit(limit)
        )
        if self._pg:
            # Several bot instances share the outbox: each row goes to exactly one of them.
            q = q.with_for_update(skip_locked=True)
        rows = (await self.session.scalars(q)).all()
        for row in rows:
            row.state = MailState.SENDING
            row.lease_until = lease_until
            row.attempts += 1
        await self._flush()
        return rows

    async def expired_leases(self, now: datetime) -> Sequence[OutboundMail]:
        o = orm.outbox.c
        q = select(OutboundMail).where(o.state == MailState.SENDING, o.lease_until < now)
        if self._pg:
            q = q.with_for_update(skip_locked=True)
        return (await self.session.scalars(q)).all()

    async def count_automatic_to(self, to_addr: str, since: datetime) -> int:
        return int((await self.session.execute(prepared.AUTOMATIC_TO(), {"to": to_addr.lower(), "since": since})).scalar_one())

    async def for_ticket(self, ticket_id: int) -> Sequence[OutboundMail]:
        o = orm.outbox.c
        q = select(OutboundMail).where(o.ticket_id == ticket_id).order_by(o.id)
        return (await self.session.scalars(q)).all()

    async def failures(self, ticket_ids: Sequence[int]) -> Sequence[tuple[int, str, str | None]]:
        """(ticket, to, error) of failed mail for several tickets in one query, without loading the mails."""
        if not ticket_ids:
            return []
        rows = await self.session.execute(prepared.FAILURES(), {"tickets": list(ticket_ids)})
        return [(r.ticket_id, r.to_addr, r.last_error) for r in rows]


class SqlCursors(_Repo):
    async def get(self, mailbox: str) -> MailboxCursor | None:
        c = orm.mailbox_cursors.c
        stmt = select(MailboxCursor).where(c.mailbox == mailbox)
        if self._pg:
            stmt = stmt.with_for_update()
        return (await self.session.scalars(stmt)).first()

    async def add(self, cursor: MailboxCursor) -> MailboxCursor:
        self.session.add(cursor)
        await self._flush()
        return cursor


class SqlKeyValue(_Repo):
    async def get(self, key: str) -> str | None:
        return (await self.session.execute(select(orm.kv.c.value).where(orm.kv.c.key == key))).scalar_one_or_none()

    async def put_if_absent(self, key: str, value: str) -> str:
        insert = pg_insert if self._pg else sqlite_insert
        await self.session.execute(insert(orm.kv).values(key=key, value=value).on_conflict_do_nothing(index_elements=["key"]))
        stored = await self.get(key)
        assert stored is not None
        return stored
