"""`/ticket search` and `/ticket queue <view>`: full-text search and the workflow's saved views."""

from __future__ import annotations

from typing import TypeVar

from bot.adapters.answers import Answers, ThreadLink
from bot.adapters.commands import TicketCommand
from bot.handlers import search
from bot.handlers.context import Actor, Context
from bot.handlers.search import SearchPage

A = TypeVar("A")


async def answer(ctx: Context, actor: Actor, cmd: TicketCommand, render: Answers[A], link: ThreadLink) -> A:
    """/ticket search, /ticket queue, worded by the adapter's `render`."""
    if cmd.verb == "queue":
        found = await search.run_view(ctx, actor, cmd.text)
        again = f"/ticket queue {cmd.text.strip()}"
    else:
        found = await search.search(ctx, actor, cmd.text)
        again = f"/ticket search {cmd.text.strip()}"
    links = {v.number: url for v in found.tickets if (url := await link(v.number))}
    return render.ticket_list(title(found, again), found.tickets, empty(found), links)


def title(found: SearchPage, again: str) -> str:
    """What was asked, how many match and where in them this page is, and how to see the next page."""
    asked = f"View {found.view.heading}" if found.view is not None else f"Search: {found.query.text or 'everything'}"
    count = f"{found.total} ticket{'' if found.total == 1 else 's'}"
    where = f", page {found.page} of {found.pages}" if found.pages > 1 else ""
    order = ", best first" if found.query.ranked else ", newest first"
    hint = ""
    if found.next_page is not None:
        hint = f" (next: {_without_page(again)} page:{found.next_page})"
    return f"{asked} ({count}{where}{order if found.total > 1 else ''}){hint}"


def empty(found: SearchPage) -> str:
    if found.total and not found.tickets:
        return f"no page {found.page}: {found.total} tickets fill {found.pages}"
    return "no tickets found"


def _without_page(line: str) -> str:
    return " ".join(w for w in line.split() if not w.lower().startswith("page:"))
