"""`/ticket undo N`: a held reply taken back before the outbox may send it."""

from __future__ import annotations

from bot.adapters.commands import TicketCommand
from bot.handlers import undo
from bot.handlers.context import Actor, Context
from bot.handlers.tickets import ActionResult


async def perform(ctx: Context, actor: Actor, cmd: TicketCommand) -> ActionResult | str:
    """/ticket undo: the reply taken back, with its text and the command that sends it again (a summary in
    full, not a one-line ActionResult: the text is what the agent needs back)."""
    result, text = await undo.undo_reply(ctx, actor, cmd.number or 0)
    return f"{result.summary}.\n{send_again(result.ticket.number, text)}"


def send_again(number: int, text: str) -> str:
    """Where no form can open (a typed command, the console): the text, ready to send again."""
    return f"To send it again, edit and send:\n/ticket reply {number} {text}"
