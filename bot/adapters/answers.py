"""How an adapter words its answers to `/ticket` questions: the protocol every platform's renderer meets.

bot.adapters.slack.answers, bot.adapters.discord.answers and bot.adapters.console.answers implement it;
bot.adapters.actions and the toolkit (bot.adapters.toolkit) call it without knowing which one they hold.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol, TypeVar

from bot.handlers.snapshots import AuditLine, TicketDetails, TicketView
from bot.handlers.tasks import TaskView

A = TypeVar("A", covariant=True)
ThreadLink = Callable[[int], Awaitable[str | None]]  # ticket number -> its thread's URL, if it has one


class Answers(Protocol[A]):
    def help_answer(self) -> A: ...
    def details(self, d: TicketDetails, link: str | None) -> A: ...
    def ticket_list(self, title: str, tickets: Sequence[TicketView], empty: str, links: dict[int, str],
                    queue: bool = False) -> A: ...
    def history(self, number: int, lines: Sequence[AuditLine]) -> A: ...
    def task_list(self, items: Sequence[TaskView]) -> A: ...

    def lines(self, title: str, items: Sequence[str], empty: str) -> A:
        """A titled list of short plain-text lines (articles, canned replies, macros); URLs stay bare, so each
        platform links them its own way. `empty` is said when there are none."""
        ...
