"""Sorting tickets: category, tags, the team that owns a ticket, and "give me the next one"."""

from __future__ import annotations

from bot.domain.access import Action
from bot.domain.model import Ticket
from bot.domain.status import Status
from bot.domain.workflow import WorkflowError
from bot.handlers import events
from bot.handlers.audit import audit
from bot.handlers.context import Actor, Context, agent_for
from bot.handlers.errors import NotFound, Refused
from bot.handlers.permissions import hidden_teams, permit
from bot.handlers.ports import UnitOfWork
from bot.handlers.routing import auto_assign
from bot.handlers.snapshots import ticket_view
from bot.handlers.tickets import ActionResult, act


async def set_category(ctx: Context, actor: Actor, number: int, name: str) -> ActionResult:
    await permit(ctx, actor, Action.CLASSIFY, number)

    async def change(uow: UnitOfWork, ticket: Ticket) -> str:
        now = ctx.clock()
        await agent_for(uow, actor, now)
        try:
            category = ctx.config.workflow.category(name)
        except WorkflowError as exc:
            raise Refused(str(exc)) from None
        if ticket.category == category:
            raise Refused(f"#{number} is already in {category}")
        before, ticket.category, ticket.updated_at = ticket.category, category, now
        audit(uow, ticket, actor.audit_name, "category", now, field="category", before=before, after=category)
        return f"category: {before or '—'} → {category}"

    return await act(ctx, actor, number, change)


async def tag(ctx: Context, actor: Actor, number: int, add: list[str], remove: list[str]) -> ActionResult:
    """Free tags: `+vip -spam` style. Tags are lower-case words so `VIP` and `vip` are one tag."""
    await permit(ctx, actor, Action.CLASSIFY, number)
    add = [t.lower().lstrip("+#") for t in add if t.strip("+#")]
    remove = [t.lower().lstrip("-#") for t in remove if t.strip("-#")]

    async def change(uow: UnitOfWork, ticket: Ticket) -> str:
        now = ctx.clock()
        await agent_for(uow, actor, now)
        before = list(ticket.tags)
        after = sorted((set(before) | set(add)) - set(remove))
        if after == sorted(before):
            raise Refused(f"#{number} tags are already {', '.join(before) or 'none'}")
        ticket.tags, ticket.updated_at = after, now
        audit(uow, ticket, actor.audit_name, "tags", now, field="tags", before=", ".join(before) or None,
              after=", ".join(after) or None)
        return f"tags: {', '.join(after) or 'none'}"

    return await act(ctx, actor, number, change)


async def move_to_team(ctx: Context, actor: Actor, number: int, team_name: str) -> ActionResult:
    """Hand a ticket to another team; its thread moves to that team's channel (the adapters do the moving)."""
    await permit(ctx, actor, Action.MOVE, number)

    async def change(uow: UnitOfWork, ticket: Ticket) -> str:
        now = ctx.clock()
        await agent_for(uow, actor, now)
        try:
            team = ctx.config.workflow.require_team(team_name)
        except WorkflowError as exc:
            raise Refused(str(exc)) from None
        if ticket.team == team.name:
            raise Refused(f"#{number} is already with {team.name}")
        before, ticket.team, ticket.updated_at = ticket.team, team.name, now
        audit(uow, ticket, actor.audit_name, "moved", now, field="team", before=before, after=team.name)
        if ticket.assignee_id is not None and not await _is_member(uow, ctx, ticket, team.name):
            ticket.assignee_id = None
            audit(uow, ticket, actor.audit_name, "assigned", now, field="assignee", detail="unassigned on the move")
        if ticket.assignee_id is None and ticket.status.is_active:
            await auto_assign(ctx, uow, ticket, now)
        uow.events.append(events.TicketMoved(number, before, team.name))
        return f"moved to {team.name}"

    return await act(ctx, actor, number, change)


async def _is_member(uow: UnitOfWork, ctx: Context, ticket: Ticket, team_name: str) -> bool:
    team = ctx.config.workflow.team(team_name)
    agent = await uow.agents.get(ticket.assignee_id) if ticket.assignee_id else None
    return bool(team and agent and team.has_member(agent.chat_user_id, agent.email))


async def next_ticket(ctx: Context, actor: Actor) -> ActionResult:
    """Assign the caller the most urgent unassigned ticket of their teams (all they may work if they are in none)."""
    who = await permit(ctx, actor, Action.QUEUE)
    teams = sorted(who.teams)
    async with ctx.transaction() as uow:
        now = ctx.clock()
        agent = await agent_for(uow, actor, now)
        candidates = await uow.tickets.active(unassigned=True, teams=teams or None, limit=1, for_update=True,
                                              hidden_teams=sorted(hidden_teams(ctx, who, work=True)))
        if not candidates:
            where = f" in {', '.join(teams)}" if teams else ""
            raise NotFound(f"nothing waiting{where}: the queue is empty")
        ticket = candidates[0]
        ticket.assignee_id, ticket.updated_at = agent.id, now
        audit(uow, ticket, actor.audit_name, "assigned", now, field="assignee", before=None, after=agent.display,
              detail="handle next")
        if ticket.status == Status.NEW:
            before = ticket.move_to(Status.OPEN, now)
            audit(uow, ticket, actor.audit_name, "status", now, field="status", before=before, after=Status.OPEN)
        view = await ticket_view(uow, ticket)
        summary = f"claimed by {agent.display} (next in the queue)"
        uow.events.append(events.TicketChanged(ticket=view, actor=actor.audit_name, summary=summary))
    return ActionResult(ticket=view, summary=f"#{view.number} {summary}")
