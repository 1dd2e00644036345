"""Time-driven lifecycle: solved tickets close for good after the workflow's grace period."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.status import Status
from bot.handlers import events
from bot.handlers.context import SYSTEM, Context, audit
from bot.handlers.snapshots import ticket_view


async def close_solved(ctx: Context) -> int:
    """Close tickets solved more than `auto_close_days` ago; each is audited as an automatic action."""
    days = ctx.config.workflow.auto_close_days
    async with ctx.uow() as uow:
        now = ctx.clock()
        pending: list[object] = []
        for ticket in await uow.tickets.solved_before(now - timedelta(days=days)):
            before = ticket.move_to(Status.CLOSED, now)
            audit(uow, ticket, SYSTEM, "status", now, field="status", before=before, after=Status.CLOSED,
                  detail=f"closed automatically {days} days after it was solved")
            summary = f"closed automatically ({days} days after solved)"
            pending.append(events.TicketChanged(ticket=await ticket_view(uow, ticket), actor=SYSTEM, summary=summary))
        await uow.commit()
    await ctx.bus.publish(pending)
    return len(pending)
