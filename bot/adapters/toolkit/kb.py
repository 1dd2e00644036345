"""`/ticket kb`: the knowledge base's articles, found by words."""

from __future__ import annotations

from typing import TypeVar

from bot.adapters.answers import Answers, ThreadLink
from bot.adapters.commands import TicketCommand
from bot.handlers import kb
from bot.handlers.context import Actor, Context

A = TypeVar("A")


async def answer(ctx: Context, actor: Actor, cmd: TicketCommand, render: Answers[A], link: ThreadLink) -> A:
    """/ticket kb, worded by the adapter's `render`: one line per article, with how to put it in a reply."""
    hits = await kb.search_articles(ctx, actor, cmd.text)
    return render.lines(f"Knowledge base: {cmd.text.strip()}", [article_line(h) for h in hits],
                        "no article matches; try other words")


def article_line(hit: kb.ArticleHit) -> str:
    """Title, then how to insert it (what the agent came for; a narrow console cuts the line's end), the link,
    and the line of text that matched."""
    insert = f":kb:{hit.slug} (link) · :kb-text:{hit.slug} (text)" if hit.url else f":kb-text:{hit.slug} (text)"
    snippet = f" — {hit.snippet}" if hit.snippet else ""
    return f"{hit.title} · {insert} · {hit.url or 'no public link'}{snippet}"
