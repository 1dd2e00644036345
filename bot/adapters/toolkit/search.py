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
    else:
        found = await search.search(ctx, actor, cmd.text)
    links = {v.number: url for v in found.tickets if (url := await link(v.number))}
    return render.ticket_list(title(found), found.tickets, empty(found), links)


def title(found: SearchPage) -> str:
    """How many match, where in them this page is and how to get the next, then what was asked: in that
    order, because platforms cut long titles (Slack at 100 characters) and a long query matters least."""
    asked = f"View {found.view.heading}" if found.view is not None else f"Search: {found.query.text or 'everything'}"
    if not found.total:
        return asked
    plus = "+" if found.more else ""
    count = f"{found.total:,}{plus} ticket{'' if found.total == 1 and not found.more else 's'}"
    where = f", page {found.page} of {found.pages}{plus}" if found.pages > 1 or found.more else ""
    best = ", best first" + (f" of the newest {found.ranked:,}" if found.ranked else "")
    order = (best if found.query.ranked else ", newest first") if found.total > 1 else ""
    hint = f" (add page:{found.next_page} for more)" if found.next_page is not None else ""
    return f"{count}{where}{order}{hint} — {asked}"


def empty(found: SearchPage) -> str:
    if found.total and not found.tickets:
        return f"no page {found.page}: {found.total} tickets fill {found.pages}"
    return "no tickets found"

