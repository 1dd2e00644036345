"""Reports about mail we sent, applied to the ticket they concern: never a ticket of their own.

A bounce marks the outbox row BOUNCED and tells the team through the same notice as a
mail the outbox gave up on (`events.MailDeliveryFailed`, kept as a notice row by
`bot.handlers.notices`), so the agent who answered learns their reply never arrived.
A read receipt becomes a line in the ticket's thread. An abuse report stops automatic
mail (acknowledgements) to the person who made it, and says so in the thread; the
replies agents write still go out. Every report leaves an audit row.

A report is matched only through Message-IDs we signed (`bot.domain.mail_ids`): a
forged bounce cannot touch a ticket. One that names none of ours (spam backscatter,
a link-code mail, a report about someone else's mail) is kept in the quarantine list
with the reason UNMATCHED (`tiketti quarantine list --system`), not announced in chat:
backscatter comes in floods, and nobody has to act on it.

Runs inside intake's transaction (`bot.handlers.intake`), so a mailbox cursor moves
with it; the same report delivered twice is applied once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.domain import mail_ids
from bot.domain.delivery_report import DeliveryReport, ReportKind
from bot.domain.inbound import InboundMail
from bot.domain.model import Contact, MailState, Message, MessageKind, OutboundMail, QuarantinedMail, Ticket
from bot.handlers import events
from bot.handlers.audit import SYSTEM, audit
from bot.handlers.context import Context
from bot.handlers.ports import UnitOfWork
from bot.handlers.snapshots import message_view, ticket_view

UNMATCHED = "unmatched delivery report"  # the start of the quarantine reason of reports nobody sent us about
_MAX_ERROR = 1000
_DISPOSITIONS = {  # RFC 8098 disposition types, as a sentence about the customer
    "displayed": "read", "deleted": "deleted without reading", "dispatched": "received (not yet read)",
    "processed": "received (not yet read)",
}


@dataclass(frozen=True)
class Applied:
    """What became of a report; intake turns it into its IntakeOutcome."""

    action: str  # "report" | "report_unmatched" | "duplicate"
    ticket_number: int | None
    detail: str


def is_system_quarantine(reason: str) -> bool:
    """A quarantine row that is a delivery report nobody could place, not a mail that broke something."""
    return reason.startswith(UNMATCHED)


def automatic_mail_stopped(contact: Contact) -> str | None:
    """Why no automatic mail may go to `contact`, or None (the acknowledgement checks this)."""
    if contact.automatic_mail_stopped_at is None:
        return None
    return f"automatic mail to this contact is stopped: {contact.automatic_mail_stopped_reason or 'abuse report'}"


async def apply(ctx: Context, uow: UnitOfWork, mail: InboundMail) -> Applied:
    report = mail.report
    assert report is not None, "intake hands over reports only"
    now = ctx.clock()
    ticket, row = await _match(ctx, uow, report)
    if ticket is None:  # even an abuse report naming a contact: spam forging our address is not our mail
        return await _unmatched(uow, mail, report, now)
    if not await _first_time(uow, mail, now):
        return Applied("duplicate", None, f"{report.label} already recorded")
    if report.kind == ReportKind.COMPLAINT:
        await _complaint(uow, mail, report, ticket, row, now)
    elif report.kind == ReportKind.FAILED:
        await _bounced(uow, mail, report, ticket, row, now)
    elif report.kind == ReportKind.DISPOSITION:
        await _read(uow, mail, report, ticket, row, now)
    else:  # delayed, or a success report: worth a line in the history, not a person's attention
        action = "mail_delayed" if report.kind == ReportKind.DELAYED else "mail_delivered"
        audit(uow, ticket, SYSTEM, action, now, detail=_about(mail, report, row))
    return Applied("report", ticket.number, report.label)


async def _first_time(uow: UnitOfWork, mail: InboundMail, now: datetime) -> bool:
    """Remember the report's Message-ID; False when it was applied before (a redelivered mail)."""
    key = "mail-report:" + hashlib.sha256(mail.message_id.encode()).hexdigest()[:40]
    mine = now.isoformat()
    return await uow.kv.put_if_absent(key, mine) == mine


async def _match(ctx: Context, uow: UnitOfWork, report: DeliveryReport) -> tuple[Ticket | None, OutboundMail | None]:
    """The ticket (and outbox row) of the first id we signed; ids we did not sign are never trusted."""
    for mid in report.original_ids:
        number = mail_ids.ticket_from_message_id(mid, ctx.key)
        if number is None:
            continue
        ticket = await uow.tickets.get(number, for_update=True)
        if ticket is None:
            continue
        row = next((r for r in await uow.outbox.for_ticket(number) if r.mail_message_id == mid), None)
        return ticket, row
    return None, None


async def _bounced(uow: UnitOfWork, mail: InboundMail, report: DeliveryReport, ticket: Ticket,
                   row: OutboundMail | None, now: datetime) -> None:
    ticket.updated_at = now  # the root lists undeliverable mail: render it again
    audit(uow, ticket, SYSTEM, "mail_bounced", now, detail=_about(mail, report, row))
    if row is None:  # one of our ids, but not an outbox mail (it was purged, or a message id we only referenced)
        await _note(uow, ticket, f"A mail from this ticket came back undelivered: {report.reason}", now)
        return
    row.state, row.lease_until = MailState.BOUNCED, None
    row.last_error = _short(f"bounced: {report.reason}")
    await uow.flush()
    uow.events.append(events.MailDeliveryFailed(ticket=await ticket_view(uow, ticket), to_addr=row.to_addr,
                                                subject=row.subject, error=row.last_error, outbox_id=row.id))


async def _read(uow: UnitOfWork, mail: InboundMail, report: DeliveryReport, ticket: Ticket,
                row: OutboundMail | None, now: datetime) -> None:
    when = (mail.date or now).astimezone(UTC)
    who = row.to_addr if row is not None else report.recipient or mail.from_addr
    what = f"“{row.subject}”" if row is not None else "a mail from this ticket"
    did = _DISPOSITIONS.get(report.reason, f"answered with “{report.reason}”")
    text = f"Read receipt: {who} {did} {what} at {when:%Y-%m-%d %H:%M} UTC."
    audit(uow, ticket, SYSTEM, "read_receipt", now, field="disposition", after=report.reason,
          detail=_about(mail, report, row))
    await _note(uow, ticket, text, now)


async def _complaint(uow: UnitOfWork, mail: InboundMail, report: DeliveryReport, ticket: Ticket,
                     row: OutboundMail | None, now: datetime) -> None:
    """Stop automatic mail to whoever complained; recorded on the ticket whose mail they reported."""
    address = row.to_addr if row is not None else report.recipient
    contact = await uow.contacts.by_email(address) if address else None
    if contact is None and ticket.requester_id is not None:
        contact = await uow.contacts.get(ticket.requester_id)
    who = contact.email if contact is not None else address or "the recipient"
    stops = contact is not None and report.reason != "not-spam"  # RFC 5965: "not-spam" takes a verdict back
    if stops and contact is not None and contact.automatic_mail_stopped_at is None:
        contact.automatic_mail_stopped_at = now
        contact.automatic_mail_stopped_reason = _short(f"{report.reason} report from {report.reporter or mail.from_addr}")
        audit(uow, ticket, SYSTEM, "automatic_mail_stopped", now, field="automatic_mail", before="on", after="stopped",
              detail=f"{who}: {_about(mail, report, row)}")
    else:
        audit(uow, ticket, SYSTEM, "abuse_report", now, detail=f"{who}: {_about(mail, report, row)}")
    what = f"“{row.subject}”" if row is not None else "a mail from this ticket"
    effect = " Automatic mail (acknowledgements) to them is stopped; replies you write still go out." if stops else ""
    await _note(uow, ticket, f"Abuse report: {who} reported {what} as {report.reason}.{effect}", now)


async def _unmatched(uow: UnitOfWork, mail: InboundMail, report: DeliveryReport, now: datetime) -> Applied:
    """Keep the report whole where agents can read it; no ticket, no acknowledgement, no chat notice.

    Kept once however often it is delivered; it is not remembered as applied, so `tiketti quarantine
    retry` places it if the mail it names turns up later.
    """
    sender, subject = mail.from_addr[:400], mail.subject[:998]
    held = await uow.quarantine.holding(report.raw, sender, subject)
    if held is not None:
        return Applied("duplicate", None, f"{report.label} already kept as quarantine #{held.id}")
    item = await uow.quarantine.add(QuarantinedMail(
        raw=report.raw, reason=_short(f"{UNMATCHED}: {report.label}: {report.reason}"), source="mail",
        received_at=now, sender=sender, subject=subject, announced_at=now,
    ))
    audit(uow, None, SYSTEM, "report_unmatched", now, detail=f"quarantine #{item.id}: {report.label} {mail.message_id}")
    return Applied("report_unmatched", None, f"{report.label} kept as quarantine #{item.id}")


async def _note(uow: UnitOfWork, ticket: Ticket, text: str, now: datetime) -> None:
    """A line in the ticket's thread, from Tiketti (never mailed: SYSTEM messages stay with the team)."""
    note = await uow.messages.add(Message(ticket_id=ticket.number, kind=MessageKind.SYSTEM, created_at=now,
                                          body_text=text, body_display=text, author_label="Tiketti"))
    uow.events.append(events.MessageAdded(ticket=await ticket_view(uow, ticket), message=message_view(ticket.number, note)))


def _about(mail: InboundMail, report: DeliveryReport, row: OutboundMail | None) -> str:
    mailed = f"{row.kind} to {row.to_addr} ({row.mail_message_id})" if row is not None else "mail"
    by = f" by {report.reporter}" if report.reporter else ""
    return _short(f"{report.label}{by} about {mailed}: {report.reason} (report {mail.message_id})")


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_ERROR else text[: _MAX_ERROR - 1] + "…"
