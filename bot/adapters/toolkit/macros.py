"""`/ticket macros` and `/ticket macro N name`: several changes (and a reply) in one step."""

from __future__ import annotations

from typing import TypeVar

from bot.adapters.answers import Answers, ThreadLink
from bot.adapters.commands import TicketCommand, UsageError
from bot.handlers.context import Actor, Context
from bot.handlers.tickets import ActionResult

A = TypeVar("A")


async def answer(ctx: Context, actor: Actor, cmd: TicketCommand, render: Answers[A], link: ThreadLink) -> A:
    """/ticket macros, worded by the adapter's `render`."""
    raise UsageError(f"/ticket {cmd.verb} is not available yet")


async def perform(ctx: Context, actor: Actor, cmd: TicketCommand) -> ActionResult | str:
    """/ticket macro: the change, or a one-line summary."""
    raise UsageError(f"/ticket {cmd.verb} is not available yet")
