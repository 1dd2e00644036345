"""Mail in: decide which ticket a mail belongs to, store it, acknowledge new tickets.

Threading, most certain first: our own signed Message-ID in In-Reply-To or
References; any stored Message-ID there; the [#N] subject tag when the sender
is already part of that ticket; otherwise a new ticket. The same Message-ID
delivered twice is stored once. Mail to a merged ticket follows the merge,
unless that would put one customer's mail in another customer's ticket
(bot.handlers.merged_mail). Mail from a reserved `.invalid` address (where our chat
customers' stand-ins live) is a contact of its own, never the chat customer it names,
and is not acknowledged (the address cannot receive mail). An outside expert's answer to a
question we mailed them (bot.handlers.expert_mail) is an internal note on its ticket, before
any of this: it is never the customer's conversation.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain import mail_ids
from bot.domain.autoreply import is_our_loop, suppress_reason
from bot.domain.chat_contacts import is_reserved, mail_contact_address
from bot.domain.inbound import InboundMail
from bot.domain.model import Attachment, Contact, Message, MessageKind, QuarantinedMail, Ticket
from bot.domain.status import Status
from bot.handlers import bounces, events, expert_mail, kb, mail_checks, merged_mail, routing, sla
from bot.handlers.audit import SYSTEM, audit
from bot.handlers.context import Context
from bot.handlers.outgoing import queue_mail
from bot.handlers.ports import Conflict, UnitOfWork
from bot.handlers.snapshots import AttachmentView, TicketView, message_view, ticket_view, ticket_views

log = logging.getLogger(__name__)

InTransaction = Callable[[UnitOfWork], Awaitable[None]]


@dataclass(frozen=True)
class IntakeOutcome:
    action: str  # "created" | "appended" | "duplicate" | "ignored"
    ticket_number: int | None
    detail: str = ""


# A customer reply moves the ticket back to the team's attention.
_ON_CUSTOMER_REPLY = {
    Status.WAITING_ON_CUSTOMER: Status.CUSTOMER_REPLIED,
    Status.WAITING_ON_THIRD_PARTY: Status.CUSTOMER_REPLIED,
    Status.SOLVED: Status.OPEN,
}


async def receive_mail(ctx: Context, mail: InboundMail, *, source: str, also: InTransaction | None = None) -> IntakeOutcome:
    """Store one mail. `also` runs in the same transaction (the IMAP cursor moves with the ticket)."""
    for attempt in range(3):
        try:
            return await _receive_once(ctx, mail, source, also)
        except Conflict:
            # Another instance stored the same mail or contact a moment ago: go again, it will see it.
            log.info("intake race on %s, retrying (%d)", mail.message_id, attempt + 1)
    return await _receive_once(ctx, mail, source, also)


async def _receive_once(ctx: Context, mail: InboundMail, source: str, also: InTransaction | None) -> IntakeOutcome:
    return (await receive_together(ctx, [mail], source=source, also=also))[0]


async def receive_together(ctx: Context, mails: Sequence[InboundMail], *, source: str,
                           also: InTransaction | None = None) -> list[IntakeOutcome]:
    """Store several mails in one transaction, in order: each sees the ones before it (a reply
    finds the ticket its original opened), and they commit together or not at all.

    A mailbox hands mail over in groups; one commit for the group instead of one per mail is
    about a third of what storing a parsed mail costs. Raises like a single mail does; the
    caller then stores them one at a time (MailPipeline.process_many).
    """
    async with ctx.transaction() as uow:
        outcomes = [await _route(ctx, uow, mail) for mail in mails]
        if also is not None:
            await also(uow)
    for mail, outcome in zip(mails, outcomes, strict=True):
        log.info("mail %s from %s via %s: %s #%s", mail.message_id, _mask(mail.from_addr), source, outcome.action,
                 outcome.ticket_number)
    return outcomes


async def _route(ctx: Context, uow: UnitOfWork, mail: InboundMail) -> IntakeOutcome:
    if is_our_loop(mail, _own_addresses(ctx)):
        return IntakeOutcome("ignored", None, "our own mail came back (loop header)")
    seen = await mail_checks.seen_before(uow, mail)
    if seen.duplicate:
        return IntakeOutcome("duplicate", None, "Message-ID already stored")
    outcome = await _place(ctx, uow, seen.mail)
    if outcome.action in ("created", "appended"):  # a message of the mail's own is on that ticket
        await mail_checks.after_stored(uow, seen.mail, seen, outcome.ticket_number, ctx.clock())
    return outcome


async def _place(ctx: Context, uow: UnitOfWork, mail: InboundMail) -> IntakeOutcome:
    if mail.report is not None:  # a bounce, read receipt or abuse report: about our mail, never a ticket
        applied = await bounces.apply(ctx, uow, mail)
        return IntakeOutcome(applied.action, applied.ticket_number, applied.detail)
    now = ctx.clock()
    contact, is_new = await _contact(uow, mail, now)
    expert = await expert_mail.answered(ctx, uow, mail, contact)
    if expert is not None:  # an outside expert's answer: an internal note, never the customer's conversation
        note = await expert_mail.store_answer(ctx, uow, mail, contact, *expert)
        return IntakeOutcome("appended", note.ticket_id, "an outside expert's answer, kept as an internal note")
    found = await _find_ticket(ctx, uow, mail, contact)
    if found is None:
        return await _open(ctx, uow, mail, contact, follow_up_of=None, new_contact=is_new)
    landing = await merged_mail.land(uow, found, contact, new_sender=is_new)
    if landing.own is not None:  # their ticket went on in another customer's: they get one of their own
        return await _open(ctx, uow, mail, contact, follow_up_of=landing.own, new_contact=is_new,
                           merged_into=landing.ticket)
    ticket = landing.ticket
    if ticket.status == Status.CLOSED:
        if not routing.follow_up_reopens(ctx, ticket, now):
            return await _open(ctx, uow, mail, contact, follow_up_of=ticket, new_contact=is_new)
        routing.reopen_closed(uow, ticket, f"contact:{contact.email}", now)
    return await _append(ctx, uow, mail, contact, ticket)


async def _contact(uow: UnitOfWork, mail: InboundMail, now: datetime) -> tuple[Contact, bool]:
    """The sender's contact, and whether it was created just now."""
    address = mail_contact_address(mail.from_addr)  # never a chat customer's stand-in address
    contact = await uow.contacts.by_email(address)
    if contact is None:
        return await uow.contacts.add(Contact(email=address, name=mail.from_name, created_at=now)), True
    if mail.from_name and not contact.name:
        contact.name = mail.from_name
    return contact, False


async def _find_ticket(ctx: Context, uow: UnitOfWork, mail: InboundMail, sender: Contact) -> Ticket | None:
    ids = mail.thread_ids
    for mid in reversed(ids):
        number = mail_ids.ticket_from_message_id(mid, ctx.key)
        if number is not None and (ticket := await uow.tickets.get(number, for_update=True)):
            return ticket
    known = await uow.messages.ticket_of_mail_message_ids(ids)
    if known is not None:
        return await uow.tickets.get(known, for_update=True)
    number = mail_ids.find_subject_tag(mail.subject, ctx.config.subject_tag)
    if number is not None and (ticket := await uow.tickets.get(number, for_update=True)):
        if await _is_participant(uow, ticket, sender):
            return ticket
        log.info("subject tag #%d ignored: sender is not on that ticket", number)
    return None


async def _is_participant(uow: UnitOfWork, ticket: Ticket, contact: Contact) -> bool:
    """The customer, or someone whose mail is part of the customer's conversation (an outside expert's
    answers are notes: they never make the expert a participant)."""
    if ticket.requester_id == contact.id:
        return True
    return any(m.author_contact_id == contact.id and m.kind == MessageKind.INBOUND
               for m in await uow.messages.for_ticket(ticket.number))


async def _store_message(uow: UnitOfWork, ticket: Ticket, mail: InboundMail, contact: Contact, now: datetime) -> Message:
    message = await uow.messages.add(
        Message(
            ticket_id=ticket.number,
            kind=MessageKind.INBOUND,
            created_at=now,
            body_text=mail.text,
            body_display=mail.display_text,
            body_html=mail.html,
            author_contact_id=contact.id,
            author_label=contact.display,
            mail_message_id=mail.message_id,
            in_reply_to=mail.in_reply_to,
        )
    )
    for a in mail.attachments:
        await uow.attachments.add(
            Attachment(message_id=message.id, filename=a.filename, content_type=a.content_type, size=a.size, content=a.content)  # type: ignore[arg-type]
        )
    ticket.remember_inbound(mail.message_id)
    return message


async def _open(
    ctx: Context, uow: UnitOfWork, mail: InboundMail, contact: Contact, follow_up_of: Ticket | None, new_contact: bool,
    merged_into: Ticket | None = None,
) -> IntakeOutcome:
    """A new ticket; `follow_up_of` a closed one it continues (which `merged_into` another customer's ticket)."""
    now = ctx.clock()
    ticket = await uow.tickets.add(
        Ticket(
            subject=mail.subject,
            requester_id=contact.id,  # type: ignore[arg-type]
            created_at=now,
            updated_at=now,
            follow_up_of=follow_up_of.number if follow_up_of else None,
        )
    )
    # Keep the customer's thread intact: their References chain continues in our replies.
    for ref in mail.references:
        ticket.remember_reference(ref)
    message = await _store_message(uow, ticket, mail, contact, now)
    actor = f"contact:{contact.email}"
    audit(uow, ticket, actor, "created", now, detail=f"from mail {mail.message_id}")
    if follow_up_of is not None:
        why = f"follow-up of closed ticket #{follow_up_of.number}"
        if merged_into is not None:
            why = f"follow-up of #{follow_up_of.number}, merged into another customer's #{merged_into.number}"
            audit(uow, merged_into, SYSTEM, "follow_up", now,
                  detail=f"the customer of merged #{follow_up_of.number} wrote again: their own ticket #{ticket.number}")
        audit(uow, ticket, SYSTEM, "follow_up", now, detail=why)
        audit(uow, follow_up_of, SYSTEM, "follow_up", now, detail=f"customer wrote again: follow-up ticket #{ticket.number}")
        ticket.team = follow_up_of.team  # the team that knew the case; a routing rule may still send it elsewhere
    await routing.route_new(ctx, uow, ticket, mail, now)
    await sla.start(ctx, uow, ticket, now)
    await _acknowledge(ctx, uow, ticket, contact, mail, now, new_contact=new_contact)
    # A contact created in this transaction has no other tickets yet: no need to ask.
    others = [] if new_contact else await uow.tickets.recent_for_requester(contact.id, exclude=ticket.number)  # type: ignore[arg-type]
    view, *other_views = await ticket_views(uow, [ticket, *others], new={ticket.number})
    uow.events.append(
        events.TicketOpened(
            ticket=view,
            first_message=message_view(ticket.number, message, _attachment_views(mail)),
            other_tickets=tuple(other_views),
            follow_up_of=follow_up_of.number if follow_up_of else None,
        )
    )
    if merged_into is not None and follow_up_of is not None:
        await _note_merged(uow, view, follow_up_of, merged_into, now)
    await kb.suggest(ctx, uow, ticket, mail.display_text or mail.text, now)  # articles that may help, if any fit
    return IntakeOutcome("created", ticket.number, "follow-up" if follow_up_of else "")


async def _note_merged(uow: UnitOfWork, view: TicketView, own: Ticket, merged_into: Ticket, now: datetime) -> None:
    """Tell the team why this customer got a new ticket rather than landing in the merged one."""
    text = (f"This customer's #{own.number} was merged into #{merged_into.number}, another customer's ticket. "
            "Their new mail opened this ticket, so replies reach them (and only them) here.")
    note = await uow.messages.add(Message(ticket_id=view.number, kind=MessageKind.SYSTEM, created_at=now,
                                          body_text=text, body_display=text, author_label="Tiketti"))
    uow.events.append(events.MessageAdded(ticket=view, message=message_view(view.number, note)))


async def _append(ctx: Context, uow: UnitOfWork, mail: InboundMail, contact: Contact, ticket: Ticket) -> IntakeOutcome:
    now = ctx.clock()
    message = await _store_message(uow, ticket, mail, contact, now)
    ticket.updated_at = now
    actor = f"contact:{contact.email}"
    audit(uow, ticket, actor, "customer_message", now, detail=f"mail {mail.message_id}")
    summary = f"{contact.display} wrote"
    target = _ON_CUSTOMER_REPLY.get(ticket.status)
    if target is not None:
        before = ticket.move_to(target, now)
        audit(uow, ticket, actor, "status", now, field="status", before=before, after=target)
        summary = f"{contact.display} replied: {before.label} → {target.label}"
        await sla.refresh(ctx, uow, ticket, now)
    view = await ticket_view(uow, ticket)
    uow.events.append(events.MessageAdded(ticket=view, message=message_view(ticket.number, message, _attachment_views(mail))))
    uow.events.append(events.TicketChanged(ticket=view, actor=actor, summary=summary))
    return IntakeOutcome("appended", ticket.number)


async def _acknowledge(ctx: Context, uow: UnitOfWork, ticket: Ticket, contact: Contact, mail: InboundMail, now: datetime,
                       *, new_contact: bool) -> None:
    cfg = ctx.config
    if not cfg.ack_enabled:
        return
    reason = suppress_reason(mail, _own_addresses(ctx))
    if reason is None and is_reserved(contact.email):
        reason = "the sender's address is in the reserved .invalid domain: it cannot receive mail"
    reason = reason or bounces.automatic_mail_stopped(contact)
    if reason is None:
        # Automatic mail goes to contacts; one created in this transaction has had none yet.
        sent = 0 if new_contact else await uow.outbox.count_automatic_to(contact.email, now - timedelta(hours=1))
        if sent >= cfg.ack_limit_per_hour:
            reason = f"rate limit: {sent} automatic mails to this sender in the last hour"
    if reason is not None:
        audit(uow, ticket, SYSTEM, "ack_suppressed", now, detail=reason)
        return
    await queue_mail(
        ctx, uow, ticket, contact, template="ack", kind="ack", now=now, automatic=True,
        context={"first_response_text": sla.promise(ctx, ticket, now) or cfg.first_response_text},
    )
    audit(uow, ticket, SYSTEM, "ack_queued", now, detail=f"to {contact.email}")


def _own_addresses(ctx: Context) -> set[str]:
    return {a.lower() for a in ctx.config.own_addresses} | {ctx.config.support_address.lower()}


def _attachment_views(mail: InboundMail) -> list[AttachmentView]:
    return [AttachmentView(a.filename, a.content_type, a.size, a.content is not None) for a in mail.attachments]


def _mask(addr: str) -> str:
    """Addresses are personal data: info-level logs show the domain only."""
    return "***@" + addr.rsplit("@", 1)[-1] if "@" in addr else "***"


async def quarantine(
    ctx: Context, raw: bytes, reason: str, *, source: str, sender: str = "", subject: str = "", also: InTransaction | None = None
) -> int:
    """Keep a mail we could not process, whole, and tell the team. Never raises for the mail's sake."""
    now = ctx.clock()
    sender, subject = sender[:400], subject[:998]
    async with ctx.transaction() as uow:
        await uow.quarantine.forget_failures(raw)
        held = await uow.quarantine.holding(raw, sender, subject)
        if held is not None and held.id is not None:  # delivered again: kept (and announced) once
            if also is not None:
                await also(uow)
            log.info("mail already in quarantine as #%d (%s): not kept twice", held.id, source)
            return held.id
        # Announced by the notice its event leaves (bot.handlers.notices), whichever process quarantined it.
        item = await uow.quarantine.add(
            QuarantinedMail(raw=raw, reason=reason, source=source, received_at=now, sender=sender,
                            subject=subject, announced_at=now)
        )
        assert item.id is not None  # added rows are flushed: the id is known
        item_id = item.id
        audit(uow, None, SYSTEM, "quarantined", now, detail=f"quarantine #{item_id}: {reason}")
        if also is not None:
            await also(uow)
        uow.events.append(events.MailQuarantined(item_id, sender, subject, reason, source))
    # The reason may quote the mail (a parser's or the database's message): only its kind is logged.
    log.warning("mail quarantined as #%d (%s): %s", item_id, source, reason.split(":", 1)[0])
    return item_id


async def resolve_quarantined(ctx: Context, item_id: int, resolution: str) -> None:
    async with ctx.uow() as uow:
        item = await uow.quarantine.get(item_id)
        if item is None:
            raise LookupError(f"quarantined mail #{item_id} does not exist")
        now = ctx.clock()
        item.resolved_at, item.resolution = now, resolution
        audit(uow, None, SYSTEM, "quarantine_resolved", now, detail=f"quarantine #{item_id}: {resolution}")
        await uow.commit()
