"""The one permission check every handler calls before it reads or changes anything for a person.

The decision itself is `bot.domain.access.decide`; this module gathers its facts
(the person's standing from the workflow's roster, the ticket's team, whether
they were pulled in) and makes a refusal private and audited: it raises Denied,
which every door shows to the person alone, and the audit trail records who
tried what, in its own transaction so the refused action's rollback keeps it.
"""

from __future__ import annotations

from bot.domain.access import ADMIN_ONLY, Action, Role, Standing, TicketScope, decide, may_see_team
from bot.handlers.audit import audit
from bot.handlers.context import Actor, Context, ensure_agent
from bot.handlers.errors import NotFound, Refused
from bot.handlers.ports import UnitOfWork


class Denied(Refused):
    """The person's role does not allow this; the message (for them alone) says why."""


def standing(ctx: Context, actor: Actor) -> Standing:
    return ctx.config.workflow.standing(actor.identity)


async def permit(ctx: Context, actor: Actor, action: Action, number: int | None = None) -> Standing:
    """Return the actor's standing if they may; raise Denied (audited) if not, NotFound if an agent
    names a ticket that does not exist. Strangers learn nothing, not even whether #N exists."""
    who = standing(ctx, actor)
    if not (who.role == Role.ADMIN or (who.role == Role.MANAGER and action not in ADMIN_ONLY)):
        scope = None  # managers and admins need no ticket facts: they may touch every ticket
        if number is not None:
            async with ctx.uow() as uow:
                scope = await ticket_scope(ctx, uow, actor, number)
            if scope is None and who.role >= Role.LIGHT:
                raise NotFound(f"ticket #{number} does not exist")
        reason = decide(who, action, scope or (TicketScope(number, None) if number is not None else None))
        if reason:
            await refuse(ctx, actor, action, number if scope else None, reason)
    await ensure_agent(ctx, actor)
    return who


async def may(ctx: Context, actor: Actor, action: Action, number: int | None = None) -> bool:
    """A quiet yes/no for what a door offers (autocomplete, which buttons to show): nothing is audited,
    because nothing was tried. Acting still goes through `permit`."""
    who = standing(ctx, actor)
    if who.role == Role.ADMIN or (who.role == Role.MANAGER and action not in ADMIN_ONLY):
        return True
    scope = None
    if number is not None:
        async with ctx.uow() as uow:
            scope = await ticket_scope(ctx, uow, actor, number)
        if scope is None:
            return False
    return decide(who, action, scope) is None


async def ticket_scope(ctx: Context, uow: UnitOfWork, actor: Actor, number: int) -> TicketScope | None:
    ticket = await uow.tickets.get(number)
    if ticket is None:
        return None
    return ctx.config.workflow.scope(number, ticket.team, pulled_in=await _pulled_in(uow, number, actor))


async def _pulled_in(uow: UnitOfWork, number: int, actor: Actor) -> bool:
    agent = await uow.agents.by_chat_user_id(actor.chat_user_id)
    if agent is None:
        return False
    return any(c.agent_id == agent.id for c in await uow.collaborators.for_ticket(number))


async def refuse(ctx: Context, actor: Actor, action: Action, number: int | None, reason: str) -> None:
    async with ctx.uow() as uow:
        ticket = await uow.tickets.get(number) if number is not None else None
        audit(uow, ticket, actor.audit_name, "refused", ctx.clock(), field=str(action), detail=reason)
        await uow.commit()
    raise Denied(reason)  # noqa: B904 - there is no exception to chain: this is the refusal


async def may_work(ctx: Context, person: Actor, action: Action, number: int) -> str | None:
    """Whether someone else (an assignee, a mentioned colleague) may do `action` on #number: why not, or None."""
    who = standing(ctx, person)
    if who.role >= Role.MANAGER:
        return None
    async with ctx.uow() as uow:
        scope = await ticket_scope(ctx, uow, person, number)
    if scope is None:
        raise NotFound(f"ticket #{number} does not exist")
    return decide(who, action, scope)


def hidden_teams(ctx: Context, who: Standing, *, work: bool = False) -> frozenset[str]:
    """Teams whose tickets this person may not see in lists (private teams they are not in), or with
    `work`, may not take (teams with members they are not one of)."""
    return frozenset(t.name for t in ctx.config.workflow.teams
                     if not may_see_team(who, t.name, t.private)
                     or (work and who.role < Role.MANAGER and (t.members or t.private) and t.name not in who.teams))
