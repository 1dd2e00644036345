"""Undo send: a reply taken back while its mail is held, before the outbox may send it.

A reply to a customer's mail waits `undo_seconds` in the outbox (bot.handlers.replies). Within
that window its author (or a manager or admin) may take it back: the outbox row is deleted by one
conditional statement that only matches an unclaimed row inside its window
(bot.store.held_replies), so the outbox worker and an undo can never both win; after the window
the mail goes out and an undo is refused as too late.

Taking back undoes what the reply did, where it is still as the reply left it: the status it set
returns to what it was, a first response it recorded is cleared, an assignment it made is
dropped. The stored reply stays on the ticket as an internal note marked as taken back (what was
written is kept, nothing pretends it reached the customer), and a line in the thread tells the
team, as threads are only ever appended to (bot.chat.thread_sync).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.access import Action, Role
from bot.domain.model import Message, MessageKind, Ticket
from bot.domain.status import Status
from bot.handlers import events, sla
from bot.handlers.audit import audit
from bot.handlers.context import Actor, Context, load_ticket
from bot.handlers.delivery import mask
from bot.handlers.errors import Refused
from bot.handlers.permissions import permit, refuse
from bot.handlers.ports import UnitOfWork
from bot.handlers.snapshots import message_view, ticket_view
from bot.handlers.tickets import ActionResult
from bot.handlers.toolkit_ports import HeldReply

TAKEN_BACK = "↩️ Taken back before it was mailed; the customer never got it:"


@dataclass(frozen=True)
class Undone:
    """What an undo gives the agent back: the change, the text to put back in a Reply form, and its address."""

    result: ActionResult
    text: str
    to_addr: str


async def undo_reply(ctx: Context, actor: Actor, number: int, message_id: int | None = None) -> tuple[ActionResult, str]:
    """Take back the held reply on #`number` (the latest of the actor's, or the one `message_id` names)."""
    undone = await take_back(ctx, actor, number, message_id)
    return undone.result, undone.text


async def take_back(ctx: Context, actor: Actor, number: int, message_id: int | None = None) -> Undone:
    who = await permit(ctx, actor, Action.REPLY, number)
    anyone = who.role >= Role.MANAGER  # managers and admins may take back a colleague's reply
    async with ctx.uow() as uow:  # which reply, and whose: decided before the change's transaction
        agent = await uow.agents.by_chat_user_id(actor.chat_user_id)
        mine = agent.id if agent is not None else -1
        held = await _find(uow, number, message_id, mine, anyone)
        taken_back = held is None and message_id is not None and any(
            m.id == message_id and m.body_text.startswith(TAKEN_BACK) for m in await uow.messages.for_ticket(number))
    if taken_back:  # the same Undo pressed again
        raise Refused(f"#{number}'s reply was taken back already; nothing was sent")
    if held is None:
        raise Refused(_nothing_held(ctx, number, message_id))
    if held.agent_id != mine and not anyone:
        await refuse(ctx, actor, Action.REPLY, number, f"only the agent who wrote #{number}'s reply, or a manager, "
                     "may take it back")
    async with ctx.transaction() as uow:
        ticket = await load_ticket(uow, number)  # locked: the reply's changes are put back as one
        now = ctx.clock()
        mail = await uow.outbox.get(held.outbox_id)
        to_addr = mail.to_addr if mail is not None else ""
        await uow.held_replies.remove(held.message_id)  # first: it refers to the outbox row
        if held.held_until <= now or not await uow.held_replies.withdraw_mail(held.outbox_id, now):
            raise Refused(too_late(ctx, number))
        message = next((m for m in await uow.messages.for_ticket(number) if m.id == held.message_id), None)
        if message is None:  # merged away meanwhile: the mail is stopped, there is nothing to put back
            raise Refused(f"#{number}'s reply is no longer on #{number} (merged?); nothing was taken back")
        text = message.body_text
        restored = _put_back(uow, ticket, held, message, actor, now)
        _withdraw(ticket, message, text)
        await sla.refresh(ctx, uow, ticket, now)
        ticket.updated_at = now
        said = f"↩️ {message.author_label} took back their reply before it was mailed; nothing reached the customer."
        line = await uow.messages.add(Message(ticket_id=number, kind=MessageKind.SYSTEM, created_at=now,
                                              author_label="Tiketti", body_text=said, body_display=said))
        audit(uow, ticket, actor.audit_name, "reply_undone", now,
              detail=f"to {to_addr}, message {held.message_id}" + (f"; {', '.join(restored)}" if restored else ""))
        view = await ticket_view(uow, ticket)
        summary = f"#{number} reply to {mask(to_addr)} taken back: nothing was sent"
        uow.events.append(events.MessageAdded(ticket=view, message=message_view(number, line)))
        uow.events.append(events.TicketChanged(ticket=view, actor=actor.audit_name, summary=summary))
    return Undone(ActionResult(ticket=view, summary=summary), text, to_addr)


async def _find(uow: UnitOfWork, number: int, message_id: int | None, mine: int, anyone: bool) -> HeldReply | None:
    if message_id is not None:
        held = await uow.held_replies.get(message_id)
        return held if held is not None and held.ticket_id == number else None
    return await uow.held_replies.latest(number, mine) or (await uow.held_replies.latest(number, None) if anyone else None)


def _put_back(uow: UnitOfWork, ticket: Ticket, held: HeldReply, message: Message, actor: Actor, now: datetime) -> list[str]:
    """Undo the reply's own changes, each only where nothing changed it since. Returns what was put back."""
    restored: list[str] = []
    if held.status_after and held.status_before and ticket.status == Status(held.status_after):
        before = Status(held.status_before)
        ticket.status, ticket.status_label = before, held.status_label_before
        audit(uow, ticket, actor.audit_name, "status", now, field="status", before=held.status_after, after=before)
        restored.append(f"status back to {before}")
    if held.first_response and ticket.first_response_at == message.created_at:
        ticket.first_response_at = None
        restored.append("first response cleared")
    if held.took_assignee and ticket.assignee_id == held.agent_id:
        ticket.assignee_id = None
        audit(uow, ticket, actor.audit_name, "assigned", now, field="assignee", before=message.author_label,
              after=None)
        restored.append("unassigned")
    return restored


def _withdraw(ticket: Ticket, message: Message, text: str) -> None:
    """The reply becomes an internal note saying it was taken back. Its Message-ID, never mailed, leaves the
    ticket's References; the note keeps it (which mail was withheld). Only non-key columns of the message
    change: on PostgreSQL that lock does not wait for a thread sync recording the message's post (its
    foreign key's KEY SHARE), which in turn waits for this transaction's ticket: no deadlock."""
    message.kind = MessageKind.NOTE
    message.body_text = message.body_display = f"{TAKEN_BACK}\n\n{text}"
    if message.mail_message_id:
        ticket.references = [r for r in ticket.references if r != message.mail_message_id]


def too_late(ctx: Context, number: int) -> str:
    return (f"#{number}'s reply was already sent: it can be taken back only in the {ctx.config.undo_seconds:g} s "
            "after sending")


def _nothing_held(ctx: Context, number: int, message_id: int | None) -> str:
    if message_id is not None or not ctx.config.undo_seconds:
        return too_late(ctx, number) if ctx.config.undo_seconds else "replies are sent at once here: there is no undo"
    return (f"no reply on #{number} is waiting to be sent: a reply can be taken back only in the "
            f"{ctx.config.undo_seconds:g} s after sending")
