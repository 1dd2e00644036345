"""The store ports of the agent's toolkit (issue 14): time entries, search, expert exchanges, held replies.

Part of the unit of work (bot.handlers.ports.UnitOfWork), kept apart so that module stays the core's list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.domain.experts import ExpertMail
from bot.domain.model import Ticket
from bot.domain.search_query import SearchFilter
from bot.domain.time_spent import TimeEntry


@dataclass(frozen=True)
class TimeSpent:
    """Minutes one agent logged on one customer's tickets of one team (a report's building block)."""

    agent: str
    customer_email: str | None  # None: internal tickets
    team: str | None
    minutes: int


class TimeEntryRepository(Protocol):
    async def add(self, entry: TimeEntry) -> int: ...
    async def totals(self, ticket_ids: Sequence[int]) -> dict[int, int]: ...
    async def agent_total(self, ticket_id: int, agent_id: int) -> int: ...
    async def spent(self, start: datetime, end: datetime, team: str | None = None) -> list[TimeSpent]: ...


class SearchRepository(Protocol):
    async def page(self, f: SearchFilter, *, limit: int, offset: int, count_up_to: int,
                   rank_up_to: int) -> tuple[list[Ticket], int]: ...
    async def agents_named(self, who: str) -> list[int]: ...


class ExpertAskRepository(Protocol):
    async def add(self, mail: ExpertMail) -> None: ...
    async def exchange(self, ticket_id: int, expert: str) -> Sequence[ExpertMail]: ...
    async def naming(self, mail_message_ids: Sequence[str]) -> ExpertMail | None: ...
    async def asked(self, ticket_id: int, expert: str) -> bool: ...


@dataclass(frozen=True)
class HeldReply:
    """A reply whose mail waits out its undo window, and what the reply changed on its ticket."""

    message_id: int
    ticket_id: int
    outbox_id: int
    agent_id: int
    held_until: datetime
    status_before: str | None  # set when the reply changed the status (to `status_after`)
    status_label_before: str | None
    status_after: str | None
    first_response: bool
    took_assignee: bool


class HeldReplyRepository(Protocol):
    async def add(self, held: HeldReply) -> None: ...
    async def get(self, message_id: int) -> HeldReply | None: ...
    async def latest(self, ticket_id: int, agent_id: int | None) -> HeldReply | None:
        """The latest held reply on the ticket (by `agent_id` when given)."""
        ...
    async def withdraw_mail(self, outbox_id: int, now: datetime) -> bool:
        """Delete the outbox row if no worker has claimed it and its window is not over: one conditional
        statement, so a worker's claim and an undo cannot both win. False: too late."""
        ...
    async def remove(self, message_id: int) -> None: ...
    async def purge(self, ticket_id: int, before: datetime) -> int:
        """Forget the ticket's rows whose window ended before `before` (the caller holds the ticket's lock)."""
        ...
