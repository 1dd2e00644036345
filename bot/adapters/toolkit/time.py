"""`/ticket time N 25m [what]`: time spent on a ticket; `-15m` takes back time logged by mistake."""

from __future__ import annotations

from bot.adapters.commands import TicketCommand
from bot.domain.access import Action
from bot.domain.errors import InvalidInput
from bot.domain.time_spent import split_spent
from bot.handlers import time_tracking
from bot.handlers.context import Actor, Context
from bot.handlers.permissions import permit
from bot.handlers.tickets import ActionResult


async def perform(ctx: Context, actor: Actor, cmd: TicketCommand) -> ActionResult | str:
    """/ticket time: the entry logged; the card's total follows from the TicketChanged it publishes."""
    try:
        minutes, note = split_spent(cmd.text)
    except InvalidInput:
        await permit(ctx, actor, Action.TIME, cmd.number or 0)  # someone who may not log time is told that first
        raise
    return await time_tracking.log_time(ctx, actor, cmd.number or 0, minutes, note)
