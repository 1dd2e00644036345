"""Queue mail to a ticket's customer: build the headers that keep the conversation threaded."""

from __future__ import annotations

from datetime import datetime

from bot.domain import mail_ids
from bot.domain.model import Contact, OutboundMail, Ticket
from bot.domain.outgoing import OutgoingMail
from bot.handlers.context import Context
from bot.handlers.ports import UnitOfWork


async def queue_mail(
    ctx: Context,
    uow: UnitOfWork,
    ticket: Ticket,
    to: Contact,
    *,
    template: str,
    kind: str,
    now: datetime,
    message_id: str | None = None,
    message_row_id: int | None = None,
    automatic: bool = False,
    context: dict[str, object] | None = None,
    first: bool = False,
    send_at: datetime | None = None,
) -> OutboundMail:
    """Render and record a mail in the outbox, in the caller's transaction.

    Recording before sending is what makes delivery safe: the worker sends only
    committed rows, so a rolled-back reply is never mailed. `first` is for mail
    that starts a conversation (an agent writing to a supplier): no "Re:".
    `send_at`: not before then (a reply held for its undo window, bot.handlers.undo).
    """
    cfg = ctx.config
    mid = message_id or mail_ids.make_message_id(ticket.number, ctx.key, cfg.mail_domain)
    depth = len(ticket.references)
    spec = OutgoingMail(
        template=template,
        to_addr=to.email,
        to_name=to.name,
        subject=(mail_ids.ticket_subject if first else mail_ids.reply_subject)(ticket.subject, cfg.subject_tag,
                                                                            ticket.number),
        message_id=mid,
        thread_index=mail_ids.thread_index(ctx.key, ticket.number, ticket.created_at, now, depth),
        thread_topic=ticket.subject,
        in_reply_to=ticket.last_inbound_message_id,
        references=_references(ticket),
        automatic=automatic,
        context={
            "ticket_number": ticket.number,
            "ticket_tag": mail_ids.subject_tag(cfg.subject_tag, ticket.number),
            "subject": ticket.subject,
            "customer_name": to.name or to.email,
            "support_name": cfg.support_name,
            **(context or {}),
        },
    )
    raw = ctx.composer.compose(spec)
    ticket.remember_reference(mid)
    return await uow.outbox.add(
        OutboundMail(
            kind=kind,
            to_addr=to.email,
            subject=spec.subject,
            mail_message_id=mid,
            raw=raw,
            created_at=now,
            next_attempt_at=send_at or now,
            ticket_id=ticket.number,
            message_id=message_row_id,
        )
    )


def _references(ticket: Ticket) -> tuple[str, ...]:
    """The conversation so far, ending with the mail we answer (RFC 5322: parent's id last)."""
    parent = ticket.last_inbound_message_id
    refs = [r for r in ticket.references if r != parent]
    return tuple([*refs, parent] if parent else refs)
