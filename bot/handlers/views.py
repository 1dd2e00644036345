"""Plain snapshots the handlers return, so adapters can render without touching the store."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.model import MessageKind
from bot.domain.priority import Priority
from bot.domain.status import Status

INTERNAL = "nobody outside (internal ticket)"  # what a ticket without a customer shows as its requester


@dataclass(frozen=True)
class TicketView:
    number: int
    subject: str
    requester: str  # "Mia Customer <mia@example.com>"; INTERNAL for a ticket without a customer
    requester_email: str  # "" for an internal ticket
    status: Status
    priority: Priority
    assignee: str | None  # display name
    assignee_chat_id: str | None
    team: str | None
    tags: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None
    solved_at: datetime | None
    failed_mail: tuple[str, ...] = ()  # one line per mail we could not deliver
    category: str | None = None
    status_label: str | None = None  # the team's own name for the status, if it has one
    parent: int | None = None
    children: tuple[tuple[int, Status], ...] = ()  # (number, status) of tickets split from this one
    merged_into: int | None = None
    follow_up_of: int | None = None
    # Service levels (bot.domain.sla): None when no SLA applies
    first_response_due_at: datetime | None = None
    resolution_due_at: datetime | None = None
    sla_paused: bool = False  # waiting on the customer: the clocks stand still
    first_response_breached_at: datetime | None = None
    resolution_breached_at: datetime | None = None
    internal: bool = False  # no customer: nothing is mailed from it (a child split off for another team)

    @property
    def status_text(self) -> str:
        """The status as the team says it: "on hold at vendor" rather than "waiting on third party"."""
        return self.status_label or self.status.label

    @property
    def open_children(self) -> tuple[int, ...]:
        return tuple(n for n, s in self.children if s.is_active)


@dataclass(frozen=True)
class AttachmentView:
    filename: str
    content_type: str
    size: int
    stored: bool


@dataclass(frozen=True)
class MessageView:
    id: int
    ticket_number: int
    kind: MessageKind
    author: str
    created_at: datetime
    text: str  # what chat shows (quotes stripped for mail)
    full_text: str
    attachments: tuple[AttachmentView, ...] = ()
    sent_to: str | None = None  # for replies: the address mailed

    @property
    def is_internal(self) -> bool:
        return self.kind in (MessageKind.NOTE, MessageKind.SYSTEM)


@dataclass(frozen=True)
class TicketDetails:
    ticket: TicketView
    messages: tuple[MessageView, ...]
    other_tickets: tuple[TicketView, ...] = field(default_factory=tuple)
    reply_by_dm: str | None = None  # the chat platform whose DM a reply goes to (a DM ticket); None: by mail


@dataclass(frozen=True)
class AuditLine:
    created_at: datetime
    actor: str
    action: str
    field: str | None
    before: str | None
    after: str | None
    detail: str | None
