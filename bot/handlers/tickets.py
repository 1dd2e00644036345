"""What agents do to a ticket: claim, assign, note, status, priority, close, reopen."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from bot.domain.access import Action
from bot.domain.model import Collaborator, Message, MessageKind, Ticket
from bot.domain.priority import Priority
from bot.domain.status import InvalidTransition, Status
from bot.handlers import events, sla
from bot.handlers.audit import SYSTEM, audit
from bot.handlers.context import Actor, Context, agent_for, ensure_agent, load_ticket
from bot.handlers.errors import Refused
from bot.handlers.permissions import may_work, permit
from bot.handlers.ports import Conflict, UnitOfWork
from bot.handlers.snapshots import MessageView, TicketView, message_view, ticket_view


@dataclass(frozen=True)
class ActionResult:
    ticket: TicketView
    summary: str  # one line for the person who acted: "#12 claimed by Ana"
    message: MessageView | None = None
    held_until: datetime | None = None  # a reply's mail waits until then: its author may undo it (bot.handlers.undo)


Change = Callable[[UnitOfWork, Ticket], Awaitable[str]]


async def act(ctx: Context, actor: Actor, number: int, change: Change) -> ActionResult:
    """Run one change in one transaction; publish TicketChanged after commit."""
    async with ctx.transaction() as uow:
        ticket = await load_ticket(uow, number)
        summary = await change(uow, ticket)
        await sla.refresh(ctx, uow, ticket, ctx.clock())  # status, priority or team may have changed
        view = await ticket_view(uow, ticket)
        uow.events.append(events.TicketChanged(ticket=view, actor=actor.audit_name, summary=summary))
    return ActionResult(ticket=view, summary=f"#{number} {summary}")


async def _move(ctx: Context, uow: UnitOfWork, ticket: Ticket, actor: Actor, target: Status,
                detail: str | None = None) -> str:
    """`detail` says what made the change in the audit trail (a macro)."""
    now = ctx.clock()
    if not target.is_active:
        children = [c.number for c in await uow.tickets.children(ticket.number) if c.status.is_active]
        if children:
            listed = ", ".join(f"#{n}" for n in children)
            raise Refused(f"#{ticket.number} cannot be {target.label} while its child tickets are open: {listed}")
    try:
        before = ticket.move_to(target, now)
    except InvalidTransition as exc:
        raise Refused(f"#{ticket.number}: {exc}") from None
    audit(uow, ticket, actor.audit_name, "status", now, field="status", before=before, after=target, detail=detail)
    if ticket.parent_id is not None:  # the parent shows its children's states
        parent = await load_ticket(uow, ticket.parent_id)
        parent.updated_at = now
        await uow.flush()  # the parent's view reads its children's states from the database
        summary = f"child #{ticket.number}: {before.label} → {target.label}"
        uow.events.append(events.TicketChanged(ticket=await ticket_view(uow, parent), actor=actor.audit_name,
                                               summary=summary))
    return f"{before.label} → {target.label}"


async def claim(ctx: Context, actor: Actor, number: int) -> ActionResult:
    await permit(ctx, actor, Action.CLAIM, number)

    async def change(uow: UnitOfWork, ticket: Ticket) -> str:
        now = ctx.clock()
        agent = await agent_for(uow, actor, now)
        if ticket.assignee_id == agent.id:
            raise Refused(f"#{number} is already yours")
        if not ticket.status.is_active:
            raise Refused(f"#{number} is {ticket.status.label}; reopen it first")
        before = await _assignee_name(uow, ticket)
        ticket.assignee_id = agent.id
        ticket.updated_at = now
        audit(uow, ticket, actor.audit_name, "assigned", now, field="assignee", before=before, after=agent.display)
        if ticket.status == Status.NEW:
            await _move(ctx, uow, ticket, actor, Status.OPEN)
        return f"claimed by {agent.display}"

    return await act(ctx, actor, number, change)


async def assign(ctx: Context, actor: Actor, number: int, assignee: Actor) -> ActionResult:
    await permit(ctx, actor, Action.ASSIGN, number)
    if await may_work(ctx, assignee, Action.CLAIM, number):
        raise Refused(f"{assignee.name or assignee.chat_user_id} is not an agent who can work #{number}")

    async def change(uow: UnitOfWork, ticket: Ticket) -> str:
        now = ctx.clock()
        await agent_for(uow, actor, now)
        agent = await agent_for(uow, assignee, now)
        if ticket.assignee_id == agent.id:
            raise Refused(f"#{number} is already assigned to {agent.display}")
        if not ticket.status.is_active:
            raise Refused(f"#{number} is {ticket.status.label}; reopen it first")
        before = await _assignee_name(uow, ticket)
        ticket.assignee_id = agent.id
        ticket.updated_at = now
        audit(uow, ticket, actor.audit_name, "assigned", now, field="assignee", before=before, after=agent.display)
        if ticket.status == Status.NEW:
            await _move(ctx, uow, ticket, actor, Status.OPEN)
        return f"assigned to {agent.display}"

    return await act(ctx, actor, number, change)


async def _assignee_name(uow: UnitOfWork, ticket: Ticket) -> str | None:
    if ticket.assignee_id is None:
        return None
    agent = await uow.agents.get(ticket.assignee_id)
    return agent.display if agent else None


async def set_status(ctx: Context, actor: Actor, number: int, target: Status) -> ActionResult:
    await permit(ctx, actor, Action.STATUS, number)

    async def change(uow: UnitOfWork, ticket: Ticket) -> str:
        await agent_for(uow, actor, ctx.clock())
        return "status: " + await _move(ctx, uow, ticket, actor, target)

    return await act(ctx, actor, number, change)


async def close(ctx: Context, actor: Actor, number: int) -> ActionResult:
    """'Close' as agents say it: the ticket is solved, and closes for good after the grace period."""
    return await set_status(ctx, actor, number, Status.SOLVED)


async def reopen(ctx: Context, actor: Actor, number: int) -> ActionResult:
    return await set_status(ctx, actor, number, Status.OPEN)


async def set_priority(ctx: Context, actor: Actor, number: int, priority: Priority) -> ActionResult:
    await permit(ctx, actor, Action.PRIORITY, number)

    async def change(uow: UnitOfWork, ticket: Ticket) -> str:
        now = ctx.clock()
        await agent_for(uow, actor, now)
        if ticket.priority == priority:
            raise Refused(f"#{number} already has priority {priority}")
        before, ticket.priority, ticket.updated_at = ticket.priority, priority, now
        audit(uow, ticket, actor.audit_name, "priority", now, field="priority", before=before, after=priority)
        return f"priority: {before} → {priority}"

    return await act(ctx, actor, number, change)


async def add_note(ctx: Context, actor: Actor, number: int, text: str, *, chat_ref: str | None = None) -> ActionResult:
    """An internal note. Nothing here can send mail: notes never reach the customer.

    `chat_ref` names the chat message it was typed as: stored once, however often (and by however
    many instances at once) the platform delivers it; the store's unique key settles a race."""
    await permit(ctx, actor, Action.NOTE, number)
    if not text.strip():
        raise Refused("an empty note was not saved")
    try:
        return await _add_note(ctx, actor, number, text, chat_ref)
    except Conflict:
        if chat_ref and await _stored(ctx, chat_ref):
            raise Refused("that chat message is already stored") from None
        raise


async def _add_note(ctx: Context, actor: Actor, number: int, text: str, chat_ref: str | None) -> ActionResult:
    async with ctx.transaction() as uow:
        ticket = await load_ticket(uow, number)
        now = ctx.clock()
        agent = await agent_for(uow, actor, now)
        if chat_ref and await uow.messages.by_chat_ref(chat_ref):
            raise Refused("that chat message is already stored")
        note = await uow.messages.add(
            Message(ticket_id=number, kind=MessageKind.NOTE, created_at=now, body_text=text, body_display=text,
                    author_agent_id=agent.id, author_label=agent.display, chat_ref=chat_ref)
        )
        ticket.updated_at = now
        audit(uow, ticket, actor.audit_name, "note", now, detail=f"note {note.id}")
        view = await ticket_view(uow, ticket)
        msg = message_view(number, note)
        uow.events.append(events.MessageAdded(ticket=view, message=msg))
    return ActionResult(ticket=view, summary=f"#{number} note saved (internal, not sent to the customer)", message=msg)


async def _stored(ctx: Context, chat_ref: str) -> bool:
    async with ctx.uow() as uow:
        return await uow.messages.by_chat_ref(chat_ref) is not None


async def edit_note(ctx: Context, actor: Actor, chat_ref: str, text: str) -> bool:
    """A chat message was edited: keep the stored note in step. Returns False if it is not a note of ours."""
    async with ctx.uow() as uow:
        note = await uow.messages.by_chat_ref(chat_ref)
        number = note.ticket_id if note is not None and note.kind == MessageKind.NOTE else None
    if number is None:
        return False
    await permit(ctx, actor, Action.NOTE, number)
    async with ctx.uow() as uow:
        note = await uow.messages.by_chat_ref(chat_ref)
        if note is None or note.kind != MessageKind.NOTE:
            return False
        now = ctx.clock()
        before = note.body_text
        note.body_text = note.body_display = text
        ticket = await load_ticket(uow, note.ticket_id)
        audit(uow, ticket, actor.audit_name, "note_edited", now, before=before, after=text)
        await uow.commit()
    return True


async def add_collaborator(ctx: Context, actor: Actor, number: int, expert: Actor) -> bool:
    """Pull a colleague (an expert) into a ticket. False if they were already on it."""
    await permit(ctx, actor, Action.MENTION, number)
    await ensure_agent(ctx, expert)  # pulled into several tickets at once, they race for their record here, not below
    async with ctx.uow() as uow:
        ticket = await load_ticket(uow, number, for_update=False)
        now = ctx.clock()
        await agent_for(uow, actor, now)
        agent = await agent_for(uow, expert, now)
        assert agent.id is not None
        added = await uow.collaborators.add_if_absent(
            Collaborator(ticket_id=number, agent_id=agent.id, added_at=now, added_by=actor.audit_name))
        if added:
            audit(uow, ticket, actor.audit_name, "collaborator_added", now, field="collaborators", after=agent.display)
        await uow.commit()
    return added


async def note_deleted(ctx: Context, chat_ref: str) -> bool:
    """The chat message behind a note was deleted. The note stays (the record is the record); the trail says so."""
    async with ctx.uow() as uow:
        note = await uow.messages.by_chat_ref(chat_ref)
        if note is None or note.kind != MessageKind.NOTE:
            return False
        ticket = await load_ticket(uow, note.ticket_id)
        audit(uow, ticket, SYSTEM, "note_deleted_in_chat", ctx.clock(), detail=f"note {note.id}")
        await uow.commit()
    return True


async def set_status_named(ctx: Context, actor: Actor, number: int, text: str) -> ActionResult:
    """A status as an agent types it: one of ours, or the ticket's team's own name for one."""
    await permit(ctx, actor, Action.STATUS, number)

    async def change(uow: UnitOfWork, ticket: Ticket) -> str:
        await agent_for(uow, actor, ctx.clock())
        custom = ctx.config.workflow.custom_status(ticket.team, text)
        if custom is None:
            target = Status.parse(text)  # InvalidTransition lists the choices
            return "status: " + await _move(ctx, uow, ticket, actor, target)
        before_text = ticket.status_label or ticket.status.label
        if ticket.status != custom.category:
            await _move(ctx, uow, ticket, actor, custom.category)
        elif ticket.status_label == custom.name:
            raise Refused(f"#{number} is already {custom.name}")
        ticket.status_label, ticket.updated_at = custom.name, ctx.clock()
        audit(uow, ticket, actor.audit_name, "status", ctx.clock(), field="status_label", before=before_text,
              after=custom.name)
        return f"status: {before_text} → {custom.name}"

    return await act(ctx, actor, number, change)
