"""Snapshots: the plain, frozen read models handlers return and events carry, and how they are taken.

A snapshot (`TicketView`, `MessageView`, `TicketDetails`, …) is what a ticket or a message looked
like when the handler's transaction read it, so adapters render without touching the store, and a
rolled-back change is never shown. In the core a "view" is one of these and nothing else. Rendering
them is the adapters' business: `ticket_blocks.py` in bot/adapters/slack (Block Kit, and the modals
Slack calls views), `embeds.py` in bot/adapters/discord (embeds and text), `render.py` on the console;
each platform's `controls.py` holds its buttons and menus.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.model import Message, MessageKind, Ticket
from bot.domain.priority import Priority
from bot.domain.status import Status
from bot.handlers.ports import UnitOfWork

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
    time_spent_minutes: int = 0  # what agents logged on it (bot.handlers.time_tracking), corrections counted

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


# --- taking snapshots of stored objects ---


async def ticket_view(uow: UnitOfWork, ticket: Ticket) -> TicketView:
    return (await ticket_views(uow, [ticket]))[0]


async def ticket_views(uow: UnitOfWork, tickets: Sequence[Ticket], *, new: Collection[int] = ()) -> list[TicketView]:
    """Views of several tickets with one query each for their failed mail, their children and the
    time logged on them (a new ticket lists the customer's others).

    `new` names tickets created in this transaction: they can have neither yet, so a mail that
    opens a ticket for a new customer asks the store nothing here (it is half the intake path).
    """
    numbers = [t.number for t in tickets if t.number not in new]
    failed: dict[int, list[str]] = {}
    children: dict[int, list[tuple[int, Status]]] = {}
    spent: dict[int, int] = {}
    if numbers:
        spent = await uow.time_entries.totals(numbers)
        for number, to_addr, error in await uow.outbox.failures(numbers):
            failed.setdefault(number, []).append(f"mail to {to_addr} failed: {error}")
        for parent, child, status in await uow.tickets.child_states(numbers):
            children.setdefault(parent, []).append((child, status))
    return [await _view(uow, t, tuple(failed.get(t.number, ())), tuple(children.get(t.number, ())),
                        spent.get(t.number, 0)) for t in tickets]


async def _view(uow: UnitOfWork, ticket: Ticket, failed: tuple[str, ...],
                children: tuple[tuple[int, Status], ...] = (), spent: int = 0) -> TicketView:
    requester = await uow.contacts.get(ticket.requester_id) if ticket.requester_id is not None else None
    assignee = await uow.agents.get(ticket.assignee_id) if ticket.assignee_id else None
    return TicketView(
        number=ticket.number,
        subject=ticket.subject,
        requester=requester.display if requester else INTERNAL if ticket.internal else "?",
        requester_email=requester.email if requester else "",
        status=ticket.status,
        priority=ticket.priority,
        assignee=assignee.display if assignee else None,
        assignee_chat_id=assignee.chat_user_id if assignee else None,
        team=ticket.team,
        tags=tuple(ticket.tags),
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        first_response_at=ticket.first_response_at,
        solved_at=ticket.solved_at,
        failed_mail=failed,
        category=ticket.category,
        status_label=ticket.status_label,
        parent=ticket.parent_id,
        children=children,
        merged_into=ticket.merged_into,
        follow_up_of=ticket.follow_up_of,
        first_response_due_at=ticket.first_response_due_at,
        resolution_due_at=ticket.resolution_due_at,
        sla_paused=ticket.sla_paused_since is not None,
        first_response_breached_at=ticket.first_response_breached_at,
        resolution_breached_at=ticket.resolution_breached_at,
        internal=ticket.internal,
        time_spent_minutes=spent,
    )


async def message_views(uow: UnitOfWork, ticket_number: int, messages: Sequence[Message]) -> tuple[MessageView, ...]:
    ids = [m.id for m in messages if m.id is not None]
    by_msg: dict[int, list[AttachmentView]] = {}
    for a in await uow.attachments.for_messages(ids):
        by_msg.setdefault(a.message_id, []).append(AttachmentView(a.filename, a.content_type, a.size, a.stored))
    sent_to: dict[int, str] = {}
    if any(m.kind == MessageKind.REPLY for m in messages):  # where each reply was mailed: its outbox row
        sent_to = {o.message_id: o.to_addr for o in await uow.outbox.for_ticket(ticket_number)
                   if o.message_id is not None}
    return tuple(message_view(ticket_number, m, by_msg.get(m.id or 0, ()), sent_to.get(m.id or 0))
                 for m in messages)


def message_view(ticket_number: int, m: Message, attachments: Sequence[AttachmentView] = (), sent_to: str | None = None) -> MessageView:
    assert m.id is not None
    return MessageView(
        id=m.id,
        ticket_number=ticket_number,
        kind=m.kind,
        author=m.author_label,
        created_at=m.created_at,
        text=m.body_display or m.body_text,
        full_text=m.body_text,
        attachments=tuple(attachments),
        sent_to=sent_to if m.kind == MessageKind.REPLY else None,
    )
