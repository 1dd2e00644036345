"""The console's answers to `/ticket` questions, in the shape every adapter meets (bot.adapters.answers).

Plain text, one line per item, through the console's own renderer; the console has no thread links.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from bot.handlers.snapshots import AuditLine, TicketDetails, TicketView
from bot.handlers.tasks import TaskView

from . import render


def help_answer() -> str:
    from bot.adapters.console.commands import help_text  # the console's own help, with its extra commands
    return help_text()


def details(d: TicketDetails, link: str | None) -> str:
    return render.details(d)


def ticket_list(title: str, tickets: Sequence[TicketView], empty: str, links: dict[int, str],
                queue: bool = False) -> str:
    return render.ticket_list(title, tickets, empty)


def history(number: int, lines: Sequence[AuditLine]) -> str:
    return render.history(number, lines)


def task_list(items: Sequence[TaskView]) -> str:
    return render.task_list(items)


def lines(title: str, items: Sequence[str], empty: str) -> str:
    """Each item wrapped, not cut: its end is what the agent came for (an article's link, how to insert it)."""
    if not items:
        return f"── {title}: {empty}"
    wrapped = [textwrap.fill(" ".join(render.clean(item).split()), render.WIDTH, initial_indent="  ",
                             subsequent_indent="    ", break_long_words=False, break_on_hyphens=False)
               for item in items]
    return "\n".join([f"── {title} ({len(items)})", *wrapped])


async def no_link(number: int) -> str | None:
    return None
