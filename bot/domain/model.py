"""The long-lived things of a helpdesk: tickets, their messages, the people around them.

These are plain classes. `bot.store.orm` maps them onto tables imperatively, so
the rules below run the same in a unit test as inside a database transaction.
Relations are held as ids, not object graphs: a handler loads what it needs
explicitly, which keeps async database access free of hidden lazy loads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot.domain.priority import Priority
from bot.domain.status import Status, check_transition


class MessageKind(StrEnum):
    INBOUND = "inbound"  # mail from the customer or a collaborator
    REPLY = "reply"  # agent's answer, mailed to the customer
    NOTE = "note"  # internal; never leaves the team
    SYSTEM = "system"  # automatic notices (acknowledgements, merges...)


class MailState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    BOUNCED = "bounced"  # sent, then returned by a delivery report (bot.handlers.bounces)


@dataclass(eq=False)
class Contact:
    email: str
    name: str = ""
    created_at: datetime | None = None
    # Set when they reported our mail as spam or abuse (an ARF report): no more automatic mail to them.
    automatic_mail_stopped_at: datetime | None = None
    automatic_mail_stopped_reason: str | None = None
    id: int | None = None

    @property
    def display(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email


@dataclass(eq=False)
class Agent:
    """A member of the support team, known by the id their chat platform gives them."""

    chat_user_id: str
    name: str = ""
    email: str | None = None
    created_at: datetime | None = None
    id: int | None = None

    @property
    def display(self) -> str:
        return self.name or self.chat_user_id


@dataclass(eq=False)
class Ticket:
    subject: str
    # The customer replies are mailed to; None for an internal ticket (a child split off for another
    # team): nobody outside hears of it, so nothing is ever mailed from it.
    requester_id: int | None
    created_at: datetime
    updated_at: datetime
    status: Status = Status.NEW
    priority: Priority = Priority.NORMAL
    assignee_id: int | None = None
    team: str | None = None
    tags: list[str] = field(default_factory=list)
    first_response_at: datetime | None = None
    solved_at: datetime | None = None
    closed_at: datetime | None = None
    # Message-ID of the customer's latest mail: the reply threads under it.
    last_inbound_message_id: str | None = None
    # References chain so replies keep the whole conversation together in mail clients.
    references: list[str] = field(default_factory=list)
    follow_up_of: int | None = None  # the closed ticket this one continues
    category: str | None = None
    status_label: str | None = None  # a team's own name for the status ("on hold at vendor")
    parent_id: int | None = None  # the ticket this one was split from
    merged_into: int | None = None  # where this ticket's conversation went on
    # Service levels (bot.domain.sla): due times in UTC, computed in business hours; paused while
    # the ball is in the customer's court; `sla_events` names the warnings and breaches already posted.
    sla_policy: str | None = None
    first_response_due_at: datetime | None = None
    resolution_due_at: datetime | None = None
    sla_paused_since: datetime | None = None
    first_response_breached_at: datetime | None = None
    resolution_breached_at: datetime | None = None
    sla_events: list[str] = field(default_factory=list)
    id: int | None = None

    @property
    def internal(self) -> bool:
        return self.requester_id is None

    @property
    def number(self) -> int:
        """The number people quote. It is the primary key: unique across instances for free."""
        assert self.id is not None, "ticket not flushed yet"
        return self.id

    def move_to(self, target: Status, now: datetime) -> Status:
        """Change status following the lifecycle; returns the previous status."""
        check_transition(self.status, target)
        before = self.status
        self.status = target
        self.status_label = None
        self.updated_at = now
        if target == Status.SOLVED:
            self.solved_at = now
        elif target == Status.CLOSED:
            self.closed_at = now
            self.solved_at = self.solved_at or now
        elif before in (Status.SOLVED,):
            self.solved_at = None
        return before

    def record_first_response(self, now: datetime) -> bool:
        if self.first_response_at is None:
            self.first_response_at = now
            return True
        return False

    def remember_inbound(self, message_id: str | None) -> None:
        if not message_id:
            return
        self.last_inbound_message_id = message_id
        self.remember_reference(message_id)

    def remember_reference(self, message_id: str) -> None:
        # Keep the chain bounded: RFC 5322 clients cope with long References, but
        # the first and the last few are what threading actually uses.
        if message_id in self.references:
            return
        refs = [*self.references, message_id]
        if len(refs) > 20:
            refs = refs[:1] + refs[-19:]
        self.references = refs


@dataclass(eq=False)
class Attachment:
    message_id: int
    filename: str
    content_type: str
    size: int
    content: bytes | None = None  # None when larger than the configured limit
    id: int | None = None

    @property
    def stored(self) -> bool:
        return self.content is not None


@dataclass(eq=False)
class Message:
    ticket_id: int
    kind: MessageKind
    created_at: datetime
    body_text: str = ""  # the whole text as received or written
    body_display: str = ""  # what chat shows: quotes and signatures stripped
    body_html: str | None = None  # sanitised original HTML
    author_contact_id: int | None = None
    author_agent_id: int | None = None
    author_label: str = ""  # who, as shown: "Ana Agent" or "mia@example.com"
    mail_message_id: str | None = None  # RFC 5322 Message-ID, inbound or ours
    in_reply_to: str | None = None
    chat_ref: str | None = None  # platform id of the chat message, for edits
    id: int | None = None


@dataclass(eq=False)
class AuditEvent:
    """One row for every change: who, what, when, before and after."""

    ticket_id: int | None
    action: str
    actor: str  # "agent:U123", "contact:mia@example.com", "system"
    created_at: datetime
    field: str | None = None
    before: str | None = None
    after: str | None = None
    detail: str | None = None
    id: int | None = None


@dataclass(eq=False)
class OutboundMail:
    """A mail committed for sending. The outbox worker delivers each row at most once."""

    kind: str  # "reply" | "ack"
    to_addr: str
    subject: str
    mail_message_id: str
    raw: bytes
    created_at: datetime
    next_attempt_at: datetime
    ticket_id: int | None = None
    message_id: int | None = None
    state: MailState = MailState.PENDING
    attempts: int = 0
    last_error: str | None = None
    lease_until: datetime | None = None
    sent_at: datetime | None = None
    id: int | None = None


@dataclass(eq=False)
class QuarantinedMail:
    """A mail we could not turn into a ticket message, kept whole until someone looks."""

    raw: bytes
    reason: str
    source: str  # "imap:INBOX", "pipe", "smtp"
    received_at: datetime
    sender: str = ""
    subject: str = ""
    resolved_at: datetime | None = None
    resolution: str | None = None
    announced_at: datetime | None = None  # when its notice was kept (bot.handlers.notices); None: never told
    id: int | None = None


@dataclass(eq=False)
class MailboxCursor:
    """How far the IMAP fetcher has got in one folder; moved in the same transaction as the ticket."""

    mailbox: str  # "user@host/INBOX"
    uidvalidity: int
    last_uid: int = 0
    id: int | None = None


@dataclass(eq=False)
class ChatThread:
    """Where one ticket is shown on one chat platform: the channel and the root message.

    The row exists before the root is posted, so posting can be leased to one worker
    (of any instance) and an attempt that may have reached the platform is known.
    """

    platform: str  # "slack", "discord"
    ticket_id: int
    channel: str
    root_ref: str | None = None  # the platform's id of the root message (Slack: its ts)
    post_attempts: int = 0  # root posts begun; more than one means an earlier try may have landed
    rendered_at: datetime | None = None  # the ticket's updated_at that the root shows
    lease_owner: str | None = None
    lease_until: datetime | None = None
    created_at: datetime | None = None
    # After a move to another team's channel: the old thread, to link both ways once the new root is up.
    moved_from_channel: str | None = None
    moved_from_root: str | None = None
    id: int | None = None


@dataclass(eq=False)
class ChatPost:
    """A ticket message shown in its chat thread, so it is never shown twice."""

    platform: str
    message_id: int
    ticket_id: int
    ref: str  # the platform's id of the posted message
    id: int | None = None


@dataclass(eq=False)
class Collaborator:
    """Someone from the team pulled into a ticket (an expert mentioned in its thread)."""

    ticket_id: int
    agent_id: int
    added_at: datetime
    added_by: str
    id: int | None = None


@dataclass(eq=False)
class Task:
    """A to-do on a ticket ("call the customer back"), optionally due at a time; its assignee is reminded."""

    ticket_id: int
    text: str
    created_at: datetime
    created_by: str
    assignee_id: int | None = None
    due_at: datetime | None = None
    done_at: datetime | None = None
    reminded_at: datetime | None = None
    id: int | None = None


@dataclass(eq=False)
class ReplyDraft:
    """An agent has the Reply form open on a ticket: what collision warnings are made of."""

    ticket_id: int
    agent_id: int
    opened_at: datetime
    id: int | None = None


@dataclass(eq=False)
class JobRun:
    """One firing of a scheduled job. Unique per (job, fire time): the instance that inserts it runs it."""

    job: str
    fire_at: datetime
    instance: str
    started_at: datetime
    finished_at: datetime | None = None
    id: int | None = None
