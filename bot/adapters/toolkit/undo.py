"""`/ticket undo N`: a held reply taken back before the outbox may send it."""

from __future__ import annotations

from bot.adapters.commands import TicketCommand, UsageError
from bot.handlers.context import Actor, Context
from bot.handlers.tickets import ActionResult


async def perform(ctx: Context, actor: Actor, cmd: TicketCommand) -> ActionResult | str:
    """/ticket undo: the change, or a one-line summary."""
    raise UsageError(f"/ticket {cmd.verb} is not available yet")
