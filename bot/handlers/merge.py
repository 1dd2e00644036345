"""One case, several tickets: merging duplicates into one, splitting a ticket into child tickets.

Merging moves the source's conversation into the target (so the target's
thread shows it), leaves a notice on the source and closes it; later mail to
the source is threaded into the target by intake, and the customer is answered
from the target only. A child ticket belongs to a parent that cannot be solved
while a child is still open.
"""

from __future__ import annotations

from datetime import datetime

from bot.domain.access import Action
from bot.domain.model import Agent, Message, MessageKind, Ticket
from bot.domain.status import Status
from bot.handlers import events
from bot.handlers.context import Actor, Context, Refused, agent_for, audit, load_ticket
from bot.handlers.permissions import permit
from bot.handlers.ports import UnitOfWork
from bot.handlers.routing import auto_assign
from bot.handlers.snapshots import message_view, ticket_view
from bot.handlers.tickets import ActionResult


async def merge(ctx: Context, actor: Actor, source_number: int, target_number: int) -> ActionResult:
    if source_number == target_number:
        raise Refused("a ticket cannot be merged into itself")
    await permit(ctx, actor, Action.MERGE, source_number)
    await permit(ctx, actor, Action.MERGE, target_number)
    async with ctx.uow() as uow:
        # Lock in a fixed order so two opposite merges cannot deadlock.
        first, second = sorted((source_number, target_number))
        locked = {first: await load_ticket(uow, first), second: await load_ticket(uow, second)}
        source, target = locked[source_number], locked[target_number]
        for t in (source, target):
            if t.merged_into is not None:
                raise Refused(f"#{t.number} was already merged into #{t.merged_into}")
        if target.status == Status.CLOSED:
            raise Refused(f"#{target.number} is closed; merge into an open ticket")
        now = ctx.clock()
        agent = await agent_for(uow, actor, now)
        moved = await uow.messages.move(source.number, target.number)
        await uow.chat_posts.forget_messages(moved)  # so the target's thread shows them
        for ref in source.references:
            target.remember_reference(ref)
        source.merged_into, source.status, source.status_label = target.number, Status.CLOSED, None
        source.closed_at = source.solved_at = source.updated_at = target.updated_at = now
        text = f"Merged into #{target.number} by {agent.display}: the conversation continues there."
        notice = await uow.messages.add(Message(ticket_id=source.number, kind=MessageKind.SYSTEM, created_at=now,
                                                body_text=text, body_display=text, author_label="Tiketti"))
        audit(uow, source, actor.audit_name, "merged", now, field="merged_into", after=f"#{target.number}",
              detail=f"{len(moved)} messages moved")
        audit(uow, target, actor.audit_name, "merged", now, detail=f"#{source.number} merged in ({len(moved)} messages)")
        source_view, target_view = await ticket_view(uow, source), await ticket_view(uow, target)
        summary = f"#{source.number} merged into #{target.number}"
        uow.events += [
            events.MessageAdded(ticket=source_view, message=message_view(source.number, notice)),
            events.TicketChanged(ticket=source_view, actor=actor.audit_name, summary=summary),
            events.TicketChanged(ticket=target_view, actor=actor.audit_name, summary=summary),
        ]
        await uow.commit()
        pending = list(uow.events)
    await ctx.bus.publish(pending)
    return ActionResult(ticket=target_view, summary=summary)


async def split_child(ctx: Context, actor: Actor, parent_number: int, subject: str, team: str | None = None,
                      text: str = "") -> ActionResult:
    """A child ticket for part of the work (another team's), linked to its parent."""
    if not subject.strip():
        raise Refused("a child ticket needs a subject")
    await permit(ctx, actor, Action.CHILD, parent_number)
    async with ctx.uow() as uow:
        parent = await load_ticket(uow, parent_number)
        if not parent.status.is_active:
            raise Refused(f"#{parent_number} is {parent.status.label}; reopen it first")
        now = ctx.clock()
        agent = await agent_for(uow, actor, now)
        note = text.strip() or f"Split from #{parent.number} by {agent.display}."
        child, first = await create_child(ctx, uow, parent, subject, team, now, agent, note)
        parent.updated_at = now
        child_view, parent_view = await ticket_view(uow, child), await ticket_view(uow, parent)
        summary = f"child ticket #{child.number} opened" + (f" for {child.team}" if child.team else "")
        uow.events += [
            events.TicketOpened(ticket=child_view, first_message=message_view(child.number, first)),
            events.TicketChanged(ticket=parent_view, actor=actor.audit_name, summary=summary),
        ]
        await uow.commit()
        pending = list(uow.events)
    await ctx.bus.publish(pending)
    return ActionResult(ticket=child_view, summary=f"#{parent_number} {summary}")


async def create_child(ctx: Context, uow: UnitOfWork, parent: Ticket, subject: str, team: str | None,
                       now: datetime, agent: Agent, note: str) -> tuple[Ticket, Message]:
    """The child ticket and its first (internal) message; shared by splitting and by templates."""
    team_name = parent.team
    if team is not None:
        found = ctx.config.workflow.team(team)
        if found is None:
            raise Refused(f"no team called {team!r}")
        team_name = found.name
    child = await uow.tickets.add(Ticket(subject=subject.strip(), requester_id=parent.requester_id, created_at=now,
                                         updated_at=now, priority=parent.priority, team=team_name,
                                         category=parent.category, parent_id=parent.number))
    actor = f"agent:{agent.chat_user_id}"
    audit(uow, child, actor, "created", now, detail=f"child of #{parent.number}")
    audit(uow, parent, actor, "child_opened", now, detail=f"#{child.number}: {subject.strip()}")
    first = await uow.messages.add(Message(ticket_id=child.number, kind=MessageKind.NOTE, created_at=now,
                                           body_text=note, body_display=note, author_agent_id=agent.id,
                                           author_label=agent.display))
    await auto_assign(ctx, uow, child, now)
    return child, first
