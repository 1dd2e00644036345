"""Mail to and from outside experts: the question's threaded mail, and an answer's place on its ticket.

An expert's answer is the ticket's business but not the customer's conversation. It is stored as an
internal note, so nothing about it is ever shown or mailed to the customer, and it moves no status, first
response or SLA clock the way a customer's mail would. It is known by the Message-IDs of the exchange
(what the expert's client puts in In-Reply-To/References), or by the ticket's subject tag when it comes
from an address we asked about that ticket; the agent who asked is told by a notice (ExpertAnswered,
mentioning them in the ticket's thread on every platform). An out-of-office or other automatic answer is
kept the same way, marked as such: nothing here ever mails anyone back, so there is no loop to break.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.domain import mail_ids
from bot.domain.autoreply import suppress_reason
from bot.domain.experts import Direction, ExpertMail
from bot.domain.inbound import InboundMail
from bot.domain.model import Attachment, Contact, Message, MessageKind, OutboundMail, Ticket
from bot.domain.outgoing import OutgoingMail
from bot.handlers import events
from bot.handlers.audit import audit
from bot.handlers.context import Context
from bot.handlers.ports import UnitOfWork
from bot.handlers.snapshots import AttachmentView, message_view, ticket_view

TEMPLATE = "expert"  # bot/mail/templates/expert.txt.j2 and expert.html.j2
OUTBOX_KIND = "expert"
_MAX_REFERENCES = 20  # as for the customer's thread (Ticket.remember_reference): the first and the last count


async def queue_question(ctx: Context, uow: UnitOfWork, ticket: Ticket, expert: str, *, question: str,
                         agent_name: str, customer_message: str | None, earlier: Sequence[ExpertMail],
                         message_row_id: int | None, now: datetime) -> OutboundMail:
    """The question as a mail in the outbox, threaded under the exchange's `earlier` mails (a follow-up
    answers the latest of them, with "Re:"). Never the customer's References: the expert is not in
    that conversation, and the ticket's own threading headers stay as they were."""
    cfg = ctx.config
    mid = mail_ids.make_message_id(ticket.number, ctx.key, cfg.mail_domain)
    chain = [m.mail_message_id for m in earlier]
    if len(chain) > _MAX_REFERENCES:
        chain = chain[:1] + chain[-(_MAX_REFERENCES - 1):]
    subject = (mail_ids.reply_subject if earlier else mail_ids.ticket_subject)(ticket.subject, cfg.subject_tag,
                                                                            ticket.number)
    spec = OutgoingMail(
        template=TEMPLATE, to_addr=expert, to_name="", subject=subject, message_id=mid,
        thread_index=mail_ids.thread_index(ctx.key, ticket.number, ticket.created_at, now, len(earlier)),
        thread_topic=ticket.subject, in_reply_to=chain[-1] if chain else None, references=tuple(chain),
        context={
            "question": question, "customer_message": customer_message, "agent_name": agent_name,
            "support_name": cfg.support_name, "subject": ticket.subject,
            "ticket_tag": mail_ids.subject_tag(cfg.subject_tag, ticket.number),
        },
    )
    return await uow.outbox.add(OutboundMail(
        kind=OUTBOX_KIND, to_addr=expert, subject=subject, mail_message_id=mid, raw=ctx.composer.compose(spec),
        created_at=now, next_attempt_at=now, ticket_id=ticket.number, message_id=message_row_id))


async def answered(ctx: Context, uow: UnitOfWork, mail: InboundMail, sender: Contact) -> tuple[Ticket, str] | None:
    """The ticket (locked) and the expert whose exchange this mail continues; None when it is not an
    expert's mail, and intake goes on with it as a customer's. The ticket's customer is always a customer."""
    known = await uow.expert_asks.naming(mail.thread_ids)
    if known is not None:
        ticket = await _live(uow, known.ticket_id)
        return (ticket, known.expert) if ticket is not None and ticket.requester_id != sender.id else None
    if any(mail_ids.ticket_from_message_id(mid, ctx.key) is not None for mid in mail.thread_ids):
        return None  # it answers one of our mails to a customer: that conversation decides
    number = mail_ids.find_subject_tag(mail.subject, ctx.config.subject_tag)
    if number is None or not await uow.expert_asks.asked(number, sender.email):
        return None
    ticket = await _live(uow, number)
    return (ticket, sender.email) if ticket is not None and ticket.requester_id != sender.id else None


async def _live(uow: UnitOfWork, number: int) -> Ticket | None:
    """The ticket, or the one it was merged into (where its conversation, notes and agents went on)."""
    ticket = await uow.tickets.get(number, for_update=True)
    for _ in range(10):  # merges chain rarely; a loop in the data must not hang intake
        if ticket is None or ticket.merged_into is None:
            return ticket
        ticket = await uow.tickets.get(ticket.merged_into, for_update=True)
    return ticket


async def store_answer(ctx: Context, uow: UnitOfWork, mail: InboundMail, sender: Contact, ticket: Ticket,
                       expert: str) -> Message:
    """The expert's mail as an internal note on `ticket`, in intake's transaction. Nothing is mailed and the
    ticket's status, first response, SLA and customer threading stay as they are."""
    now = ctx.clock()
    exchange = await uow.expert_asks.exchange(ticket.number, expert)
    asker = next((m.asked_by for m in reversed(exchange) if m.direction == Direction.QUESTION), None)
    own = {a.lower() for a in ctx.config.own_addresses} | {ctx.config.support_address.lower()}
    automatic = suppress_reason(mail, own)
    head = f"from {sender.email} by mail"
    if asker is not None:
        head += f", answering {await _agent_name(uow, asker)}'s question"
    if automatic is not None:
        head += f" (an automatic reply: {automatic})"
    shown = mail.display_text or mail.text
    note = await uow.messages.add(Message(
        ticket_id=ticket.number, kind=MessageKind.NOTE, created_at=now, body_text=mail.text,
        body_display=f"{head}:\n\n{shown}", body_html=mail.html, author_contact_id=sender.id,
        author_label=f"{sender.email} by mail", mail_message_id=mail.message_id, in_reply_to=mail.in_reply_to))
    for a in mail.attachments:
        await uow.attachments.add(Attachment(message_id=note.id, filename=a.filename,  # type: ignore[arg-type]
                                             content_type=a.content_type, size=a.size, content=a.content))
    await uow.expert_asks.add(ExpertMail(ticket_id=ticket.number, expert=expert, mail_message_id=mail.message_id,
                                         direction=Direction.ANSWER, created_at=now, message_id=note.id))
    ticket.updated_at = now
    audit(uow, ticket, f"contact:{sender.email}", "expert_answered", now,
          detail=f"mail {mail.message_id}" + (f" (automatic: {automatic})" if automatic else ""))
    views = [AttachmentView(a.filename, a.content_type, a.size, a.content is not None) for a in mail.attachments]
    view = await ticket_view(uow, ticket)
    uow.events.append(events.MessageAdded(ticket=view, message=message_view(ticket.number, note, views)))
    if asker is not None and note.id is not None:  # the agent who asked is told, mentioned in the thread
        uow.events.append(events.ExpertAnswered(view, sender.email, note.id, asker.removeprefix("agent:")))
    return note


async def _agent_name(uow: UnitOfWork, audit_name: str) -> str:
    """'agent:U123' -> the agent's name as chat shows it."""
    user = audit_name.removeprefix("agent:")
    agent = await uow.agents.by_chat_user_id(user)
    return agent.display if agent is not None else user
