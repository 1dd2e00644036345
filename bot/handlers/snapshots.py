"""Turn stored objects into the plain views adapters render."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from bot.domain.model import Message, MessageKind, Ticket
from bot.domain.status import Status
from bot.handlers.ports import UnitOfWork
from bot.handlers.views import INTERNAL, AttachmentView, MessageView, TicketView


async def ticket_view(uow: UnitOfWork, ticket: Ticket) -> TicketView:
    return (await ticket_views(uow, [ticket]))[0]


async def ticket_views(uow: UnitOfWork, tickets: Sequence[Ticket], *, new: Collection[int] = ()) -> list[TicketView]:
    """Views of several tickets with one query each for their failed mail and their children
    (a new ticket lists the customer's others).

    `new` names tickets created in this transaction: they can have neither yet, so a mail that
    opens a ticket for a new customer asks the store nothing here (it is half the intake path).
    """
    numbers = [t.number for t in tickets if t.number not in new]
    failed: dict[int, list[str]] = {}
    children: dict[int, list[tuple[int, Status]]] = {}
    if numbers:
        for number, to_addr, error in await uow.outbox.failures(numbers):
            failed.setdefault(number, []).append(f"mail to {to_addr} failed: {error}")
        for parent, child, status in await uow.tickets.child_states(numbers):
            children.setdefault(parent, []).append((child, status))
    return [await _view(uow, t, tuple(failed.get(t.number, ())), tuple(children.get(t.number, ()))) for t in tickets]


async def _view(uow: UnitOfWork, ticket: Ticket, failed: tuple[str, ...],
                children: tuple[tuple[int, Status], ...] = ()) -> TicketView:
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
    )


async def message_views(uow: UnitOfWork, ticket_number: int, messages: Sequence[Message]) -> tuple[MessageView, ...]:
    ids = [m.id for m in messages if m.id is not None]
    by_msg: dict[int, list[AttachmentView]] = {}
    for a in await uow.attachments.for_messages(ids):
        by_msg.setdefault(a.message_id, []).append(AttachmentView(a.filename, a.content_type, a.size, a.stored))
    return tuple(message_view(ticket_number, m, by_msg.get(m.id or 0, ())) for m in messages)


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
