"""Time spent on tickets: logged by the agent who did the work, summed on the card and in reports.

An entry is logged on its own (`/ticket time N 25m what`) or with a reply (the Reply form's
"Time spent" field, `record` inside the reply's transaction), so a reply and its time stand or
fall together. Mistakes are corrected, never erased: `/ticket time N -15m` writes a negative
entry of the same agent, allowed only up to what that agent logged on the ticket, so nobody's
total and no ticket's total goes below zero, and the audit trail keeps both rows.
"""

from __future__ import annotations

from datetime import datetime

from bot.domain.access import Action
from bot.domain.model import Agent, Ticket
from bot.domain.time_spent import MAX_MINUTES, TimeEntry, spent_text
from bot.handlers.audit import audit
from bot.handlers.context import Actor, Context, agent_for
from bot.handlers.errors import Refused
from bot.handlers.permissions import permit
from bot.handlers.ports import UnitOfWork
from bot.handlers.tickets import ActionResult, act

NOTE_CHARS = 500  # a line of what was done, not a report


async def log_time(ctx: Context, actor: Actor, number: int, minutes: int, note: str = "", *,
                   source: str = "command") -> ActionResult:
    """Log `minutes` on ticket `number` for the person acting; negative minutes correct their own entries."""
    if abs(minutes) > MAX_MINUTES:
        raise Refused(f"{spent_text(abs(minutes))} is more than a day; log each day's work as its own entry")
    await permit(ctx, actor, Action.TIME, number)

    async def change(uow: UnitOfWork, ticket: Ticket) -> str:
        now = ctx.clock()
        agent = await agent_for(uow, actor, now)
        return await record(uow, ticket, agent, actor, minutes, note, now, source=source)

    return await act(ctx, actor, number, change)


async def record(uow: UnitOfWork, ticket: Ticket, agent: Agent, actor: Actor, minutes: int, note: str,
                 now: datetime, *, source: str = "command") -> str:
    """Write one entry (and its audit row) in the caller's transaction; the summary line for the agent.

    The caller has asked the policy for Action.TIME; the card shows the new total once the caller
    publishes its TicketChanged.
    """
    assert agent.id is not None
    if minutes == 0:
        raise Refused("no time given")
    if minutes < 0:  # the caller holds the ticket's row (load_ticket): two corrections at once cannot both pass
        logged = await uow.time_entries.agent_total(ticket.number, agent.id)
        if logged + minutes < 0:
            have = f"only {spent_text(logged)}" if logged > 0 else "no time"
            raise Refused(f"you logged {have} on #{ticket.number}; a correction takes back at most that")
        source = "correction"
    text = " ".join(note.split())[:NOTE_CHARS]
    await uow.time_entries.add(TimeEntry(ticket.number, agent.id, minutes, text, now, source))
    ticket.updated_at = now
    audit(uow, ticket, actor.audit_name, "time_logged" if minutes > 0 else "time_corrected", now,
          field="time_spent", after=minutes, detail=text or None)
    if minutes > 0:
        return f"{spent_text(minutes)} logged by {agent.display}" + (f": {text}" if text else "")
    return f"{spent_text(-minutes)} taken back by {agent.display}" + (f": {text}" if text else "")
