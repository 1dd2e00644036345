"""Read-only questions: show a ticket, my tickets, the queue, a ticket's history."""

from __future__ import annotations

from dataclasses import replace

from bot.domain.access import Action
from bot.handlers import contact_link
from bot.handlers.context import Actor, Context, load_ticket, others_of_requester, requester_of
from bot.handlers.errors import NotFound
from bot.handlers.permissions import hidden_teams, permit
from bot.handlers.snapshots import AuditLine, TicketDetails, TicketView, message_views, ticket_view, ticket_views


async def show(ctx: Context, actor: Actor, number: int, *, original: bool = False) -> TicketDetails:
    """The ticket with its messages; `original` shows each message whole, as received (quoted history,
    signatures), where chat shows only the new words."""
    await permit(ctx, actor, Action.SHOW, number)
    async with ctx.uow() as uow:
        ticket = await load_ticket(uow, number, for_update=False)
        view = await ticket_view(uow, ticket)
        messages = await message_views(uow, number, await uow.messages.for_ticket(number))
        if original:
            messages = tuple(replace(m, text=m.full_text or m.text) for m in messages)
        others = await others_of_requester(uow, ticket)
        requester = await requester_of(uow, ticket)
        dm = await contact_link.reply_dm(uow, number, requester) if requester else None
        return TicketDetails(ticket=view, messages=messages, other_tickets=tuple(await ticket_views(uow, others)),
                             reply_by_dm=dm[0] if dm else None)


async def mine(ctx: Context, actor: Actor, limit: int = 20) -> list[TicketView]:
    """The caller's active tickets, most urgent first."""
    await permit(ctx, actor, Action.QUEUE)
    async with ctx.uow() as uow:
        agent = await uow.agents.by_chat_user_id(actor.chat_user_id)
        if agent is None:
            return []
        return await ticket_views(uow, list(await uow.tickets.active(assignee_id=agent.id, limit=limit)))


async def queue(ctx: Context, actor: Actor, limit: int = 20) -> list[TicketView]:
    """Active tickets nobody has taken, most urgent first (private teams' only to their members)."""
    who = await permit(ctx, actor, Action.QUEUE)
    hidden = sorted(hidden_teams(ctx, who))
    async with ctx.uow() as uow:
        waiting = await uow.tickets.active(unassigned=True, limit=limit, hidden_teams=hidden)
        return await ticket_views(uow, list(waiting))


async def history(ctx: Context, actor: Actor, number: int) -> list[AuditLine]:
    await permit(ctx, actor, Action.SHOW, number)
    async with ctx.uow() as uow:
        if await uow.tickets.get(number) is None:
            raise NotFound(f"ticket #{number} does not exist")
        return [
            AuditLine(e.created_at, e.actor, e.action, e.field, e.before, e.after, e.detail)
            for e in await uow.audit.for_ticket(number)
        ]
