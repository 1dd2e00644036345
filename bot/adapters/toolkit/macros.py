"""`/ticket macros` and `/ticket macro N name`: several changes (and a reply) in one step."""

from __future__ import annotations

from typing import TypeVar

from bot.adapters.answers import Answers, ThreadLink
from bot.adapters.commands import TicketCommand
from bot.handlers import macros
from bot.handlers.context import Actor, Context
from bot.handlers.tickets import ActionResult

A = TypeVar("A")


async def answer(ctx: Context, actor: Actor, cmd: TicketCommand, render: Answers[A], link: ThreadLink) -> A:
    """/ticket macros: the macros the actor may apply, each with its name (to type) and what it does."""
    found = await macros.list_macros(ctx, actor, cmd.number)
    lines = [f"{m.title} ({m.name}): {m.does}" for m in found]
    empty = "none you may apply" if ctx.config.workflow.macros else "none: the workflow file defines no [[macros]]"
    return render.lines("Macros (apply one with /ticket macro N name)", lines, empty)


async def perform(ctx: Context, actor: Actor, cmd: TicketCommand) -> ActionResult | str:
    """/ticket macro N name: the macro applied (name or title, any case)."""
    return await macros.apply_macro(ctx, actor, cmd.number or 0, cmd.text)
