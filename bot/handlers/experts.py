"""Asking an outside expert (a supplier, a specialist) about a ticket by mail, without a ticket of its own.

The question is mailed from the helpdesk's address and kept in the ticket's thread as an internal note;
the expert's answer comes back to the same ticket as a note too (bot.handlers.expert_mail). Only what the
agent chose leaves: the question, the ticket's subject and, when asked for, the customer's last message;
never the internal notes. Asking the same expert again about the same ticket continues that mail thread.
"""

from __future__ import annotations

from bot.domain.access import Action
from bot.domain.chat_contacts import is_reserved
from bot.domain.experts import Direction, ExpertMail, expert_address
from bot.domain.model import Message, MessageKind, Ticket
from bot.handlers import events
from bot.handlers.audit import audit
from bot.handlers.context import Actor, Context, agent_for, load_ticket, requester_of
from bot.handlers.creation import ASKED_EXPERT, within_send_limit
from bot.handlers.errors import Refused
from bot.handlers.expert_mail import queue_question
from bot.handlers.permissions import permit
from bot.handlers.ports import UnitOfWork
from bot.handlers.snapshots import message_view, ticket_view
from bot.handlers.tickets import ActionResult

ASKED_EXPERT_AGAIN = "expert_asked_again"  # a follow-up in an exchange (the first question: creation.ASKED_EXPERT)


async def ask_expert(ctx: Context, actor: Actor, number: int, address: str, question: str, *,
                     with_customer_message: bool = False) -> ActionResult:
    """Mail `question` to the expert at `address` about ticket `number`, in one transaction: the exchange's
    record, the note agents see, and the outbox row the worker mails after commit."""
    expert = expert_address(address)  # what was typed, before anything is looked up
    question = question.strip()
    if not question:
        raise Refused("an empty question was not sent; /ticket ask N expert@example.com | question…")
    await permit(ctx, actor, Action.ASK, number)
    async with ctx.transaction() as uow:
        ticket = await load_ticket(uow, number)
        await _check_recipient(ctx, uow, ticket, expert)
        now = ctx.clock()
        agent = await agent_for(uow, actor, now)
        earlier = await uow.expert_asks.exchange(number, expert)
        if not earlier:  # a new outside address: counted with `/ticket new … send` (a follow-up is not)
            await within_send_limit(ctx, uow, actor, now)
        quoted = await _customer_message(uow, number) if with_customer_message else None
        again = " again" if earlier else ""
        context = " (with the customer's last message as context)" if quoted else ""
        text = f"asked {expert}{again} by mail{context}: {question}"
        note = await uow.messages.add(Message(
            ticket_id=number, kind=MessageKind.NOTE, created_at=now, body_text=text, body_display=text,
            author_agent_id=agent.id, author_label=agent.display))
        mail = await queue_question(ctx, uow, ticket, expert, question=question, agent_name=agent.display,
                                    customer_message=quoted, earlier=earlier, message_row_id=note.id, now=now)
        await uow.expert_asks.add(ExpertMail(ticket_id=number, expert=expert, mail_message_id=mail.mail_message_id,
                                             direction=Direction.QUESTION, created_at=now,
                                             asked_by=actor.audit_name, message_id=note.id))
        ticket.updated_at = now
        audit(uow, ticket, actor.audit_name, ASKED_EXPERT_AGAIN if earlier else ASKED_EXPERT, now,
              detail=f"to {expert}, {mail.mail_message_id}" + (", with the customer's last message" if quoted else ""))
        view = await ticket_view(uow, ticket)
        msg = message_view(number, note)
        uow.events.append(events.MessageAdded(ticket=view, message=msg))
    missing = " (there was no customer message to quote)" if with_customer_message and not quoted else ""
    return ActionResult(ticket=view, message=msg,
                        summary=f"#{number} question mailed to {expert}{missing}; their answer will appear "
                                "in the thread as an internal note")


async def _check_recipient(ctx: Context, uow: UnitOfWork, ticket: Ticket, expert: str) -> None:
    cfg = ctx.config
    if ticket.merged_into is not None:
        raise Refused(f"#{ticket.number} was merged into #{ticket.merged_into}: ask about #{ticket.merged_into}")
    if expert in {a.lower() for a in cfg.own_addresses} | {cfg.support_address.lower()}:
        raise Refused(f"{expert} is the helpdesk's own address; name the outside expert's address")
    if is_reserved(expert):
        raise Refused(f"{expert} is in the reserved .invalid domain and cannot receive mail")
    requester = await requester_of(uow, ticket)
    if requester is not None and requester.email.lower() == expert:
        raise Refused(f"{expert} is #{ticket.number}'s customer: answer them with /ticket reply, "
                      "which the customer's conversation keeps")


async def _customer_message(uow: UnitOfWork, number: int) -> str | None:
    """The text of the customer's latest mail (as chat shows it: quotes and signature stripped), or None."""
    inbound = [m for m in await uow.messages.for_ticket(number) if m.kind == MessageKind.INBOUND]
    if not inbound:
        return None
    last = inbound[-1]
    return (last.body_display or last.body_text).strip() or None
