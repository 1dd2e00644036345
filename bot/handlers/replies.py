"""Answering the customer: the only path by which words typed in chat leave as mail."""

from __future__ import annotations

from datetime import timedelta

from bot.domain import mail_ids
from bot.domain.access import Action
from bot.domain.chat_contacts import is_reserved
from bot.domain.model import Message, MessageKind, Ticket
from bot.domain.status import Status
from bot.handlers import contact_link, events, reply_text, sla, time_tracking
from bot.handlers.audit import audit
from bot.handlers.context import Actor, Context, agent_for, load_ticket, requester_of
from bot.handlers.errors import Refused
from bot.handlers.outgoing import queue_mail
from bot.handlers.permissions import permit
from bot.handlers.snapshots import message_view, ticket_view
from bot.handlers.tickets import ActionResult
from bot.handlers.toolkit_ports import HeldReply

# After we answer, the ball is in the customer's court.
_AFTER_REPLY = {Status.NEW: Status.WAITING_ON_CUSTOMER, Status.OPEN: Status.WAITING_ON_CUSTOMER,
                Status.CUSTOMER_REPLIED: Status.WAITING_ON_CUSTOMER}


async def reply(ctx: Context, actor: Actor, number: int, text: str, *, minutes: int = 0) -> ActionResult:
    """Store the reply and queue it in the outbox, in one transaction; the worker mails it after commit.

    `minutes`: time spent, from the Reply form's field, logged in the same transaction (no reply, no entry)."""
    if not text.strip():
        raise Refused("an empty reply was not sent")
    await permit(ctx, actor, Action.REPLY, number)
    if minutes:
        await permit(ctx, actor, Action.TIME, number)
    text = await reply_text.expand(ctx, actor, number, text)  # `:canned-reply`, `:kb:article`
    async with ctx.transaction() as uow:
        ticket = await load_ticket(uow, number)
        if ticket.status == Status.CLOSED:
            raise Refused(f"#{number} is closed; the customer's next mail opens a follow-up ticket")
        requester = await requester_of(uow, ticket)
        if requester is None:
            raise Refused(internal_refusal(ticket))
        chat = await contact_link.reply_dm(uow, number, requester)
        if chat is None and is_reserved(requester.email):
            raise Refused(f"#{number}'s sender wrote from a reserved .invalid address, which cannot receive mail; "
                          "nothing was sent")
        now = ctx.clock()
        agent = await agent_for(uow, actor, now)
        mid = mail_ids.make_message_id(number, ctx.key, ctx.config.mail_domain)
        message = await uow.messages.add(
            Message(ticket_id=number, kind=MessageKind.REPLY, created_at=now, body_text=text, body_display=text,
                    author_agent_id=agent.id, author_label=agent.display, mail_message_id=mid,
                    in_reply_to=ticket.last_inbound_message_id)
        )
        # Held for its undo window (bot.handlers.undo); a chat DM is not: the customer's thread sync posts it.
        hold = ctx.config.undo_seconds if chat is None else 0
        held_until = now + timedelta(seconds=hold) if hold else None
        if chat is None:
            mail = await queue_mail(ctx, uow, ticket, requester, template="reply", kind="reply", now=now, message_id=mid,
                                    message_row_id=message.id, context={"body": text, "agent_name": agent.display},
                                    send_at=held_until)
            audit(uow, ticket, actor.audit_name, "reply_queued", now,
                  detail=f"to {requester.email}, {mid}" + (f", held {hold:g} s for undo" if hold else ""))
            summary = (f"reply to {requester.email} goes out in {hold:g} s (/ticket undo {number} takes it back)"
                       if hold else f"reply sent to {requester.email}")
        else:  # a chat customer's DM ticket (bot.handlers.chat_intake, also once linked to a mail address):
            # their adapter delivers the reply to their DM
            audit(uow, ticket, actor.audit_name, "reply_to_chat", now, detail=f"to {chat[0]} user {chat[1]}")
            summary = f"reply sent to {requester.name or requester.email} by {chat[0]} DM"
        first = ticket.record_first_response(now)
        if first:
            audit(uow, ticket, actor.audit_name, "first_response", now)
        took = ticket.assignee_id is None
        if took:
            ticket.assignee_id = agent.id
            audit(uow, ticket, actor.audit_name, "assigned", now, field="assignee", before=None, after=agent.display)
        if minutes:
            summary += "; " + await time_tracking.record(uow, ticket, agent, actor, minutes, "with the reply", now,
                                                         source="reply-form")
        before, label = None, ticket.status_label
        if (target := _AFTER_REPLY.get(ticket.status)) is not None:
            before = ticket.move_to(target, now)
            audit(uow, ticket, actor.audit_name, "status", now, field="status", before=before, after=target)
        if held_until is not None:  # what this reply changed, so an undo can put exactly that back
            await uow.flush()  # the outbox row's id
            # This ticket's windows that are over can never be undone. Only this ticket's: its lock is held,
            # so two replies never delete the same rows (in two orders: a deadlock on PostgreSQL).
            await uow.held_replies.purge(number, now)
            assert message.id is not None and mail.id is not None and agent.id is not None
            await uow.held_replies.add(HeldReply(
                message_id=message.id, ticket_id=number, outbox_id=mail.id, agent_id=agent.id, held_until=held_until,
                status_before=str(before) if before else None, status_label_before=label if before else None,
                status_after=str(target) if before else None, first_response=first, took_assignee=took))
        await sla.refresh(ctx, uow, ticket, now)  # waiting on the customer: the clocks pause
        ticket.updated_at = now
        view = await ticket_view(uow, ticket)
        msg = message_view(number, message, sent_to=requester.email)
        uow.events.append(events.MessageAdded(ticket=view, message=msg))
        uow.events.append(events.TicketChanged(ticket=view, actor=actor.audit_name, summary=summary))
    return ActionResult(ticket=view, summary=f"#{number} {summary}", message=msg,
                        held_until=held_until)


def internal_refusal(ticket: Ticket) -> str:
    """Why an internal ticket cannot be answered, and what to do instead."""
    parent = f" (split from #{ticket.parent_id})" if ticket.parent_id else ""
    return (f"#{ticket.number} is an internal ticket{parent}: it has no customer, so nothing is mailed from it. "
            "Write a note instead; to mail a supplier, open an outbound child ticket "
            "(/ticket child N subject… | to name@example.com) or /ticket new.")
