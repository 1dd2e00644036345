"""The knowledge base: Markdown articles, found by words, suggested on new tickets, inserted into replies."""

from __future__ import annotations

from bot.handlers.context import Actor, Context
from bot.handlers.errors import Refused


async def insert_article(ctx: Context, actor: Actor, slug: str, *, as_text: bool = False) -> str:
    """What a reply gets for `:kb:slug` (the title and link) or `:kb-text:slug` (the article's text)."""
    raise Refused(f"there is no knowledge-base article {slug!r}")
