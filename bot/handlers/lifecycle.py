"""Time-driven lifecycle: solved tickets close for good after the workflow's grace period."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.status import Status
from bot.handlers import events
from bot.handlers.audit import SYSTEM, audit
from bot.handlers.context import Context
from bot.handlers.snapshots import ticket_view


async def close_solved(ctx: Context) -> int:
    """Close tickets solved more than `auto_close_days` ago; each is audited as an automatic action."""
    days = ctx.config.workflow.auto_close_days
    closed = 0
    async with ctx.transaction() as uow:
        now = ctx.clock()
        for ticket in await uow.tickets.solved_before(now - timedelta(days=days)):
            before = ticket.move_to(Status.CLOSED, now)
            audit(uow, ticket, SYSTEM, "status", now, field="status", before=before, after=Status.CLOSED,
                  detail=f"closed automatically {days} days after it was solved")
            summary = f"closed automatically ({days} days after solved)"
            uow.events.append(events.TicketChanged(ticket=await ticket_view(uow, ticket), actor=SYSTEM, summary=summary))
            closed += 1
    return closed
