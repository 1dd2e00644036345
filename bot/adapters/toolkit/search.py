"""`/ticket search` and `/ticket queue <view>`: full-text search and the workflow's saved views."""

from __future__ import annotations

from typing import TypeVar

from bot.adapters.answers import Answers, ThreadLink
from bot.adapters.commands import TicketCommand, UsageError
from bot.handlers.context import Actor, Context

A = TypeVar("A")


async def answer(ctx: Context, actor: Actor, cmd: TicketCommand, render: Answers[A], link: ThreadLink) -> A:
    """/ticket search, /ticket queue, worded by the adapter's `render`."""
    raise UsageError(f"/ticket {cmd.verb} is not available yet")
