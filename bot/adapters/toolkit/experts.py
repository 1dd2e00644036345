"""`/ticket ask N expert@… | question`: an outside expert consulted by mail."""

from __future__ import annotations

from bot.adapters.commands import TicketCommand, UsageError
from bot.handlers.context import Actor, Context
from bot.handlers.tickets import ActionResult


async def perform(ctx: Context, actor: Actor, cmd: TicketCommand) -> ActionResult | str:
    """/ticket ask: the change, or a one-line summary."""
    raise UsageError(f"/ticket {cmd.verb} is not available yet")
