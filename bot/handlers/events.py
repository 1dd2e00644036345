"""Domain events: what happened, published after the transaction that made it true committed.

Adapters subscribe to these to update what people see (a ticket's root message,
its thread), so a rolled-back change is never shown and never mailed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.handlers.figures import Chart, Report
from bot.handlers.snapshots import MessageView, TicketView


@dataclass(frozen=True)
class TicketOpened:
    ticket: TicketView
    first_message: MessageView
    other_tickets: tuple[TicketView, ...] = ()
    follow_up_of: int | None = None


@dataclass(frozen=True)
class TicketChanged:
    ticket: TicketView
    actor: str
    summary: str  # "claimed by Ana", "status: open → solved"


@dataclass(frozen=True)
class TicketMoved:
    """The ticket changed teams: adapters move its thread to the new team's channel."""

    number: int
    from_team: str | None
    to_team: str


@dataclass(frozen=True)
class TaskDue:
    """A task's due time came: remind whoever it is assigned to."""

    task_id: int
    ticket: TicketView
    text: str
    assignee_chat_id: str | None


@dataclass(frozen=True)
class ExpertAnswered:
    """An outside expert's mail came back onto the ticket as an internal note: tell the agent who asked."""

    ticket: TicketView
    expert: str
    message_id: int  # the note
    assignee_chat_id: str | None  # the agent who asked (the name every notice's addressee goes by)


@dataclass(frozen=True)
class SlaWarning:
    """A service-level due time is near (the workflow's `warn_before_minutes`): tell whoever can still meet it."""

    ticket: TicketView
    clock: str  # "first_response" | "resolution"
    due_at: datetime
    assignee_chat_id: str | None


@dataclass(frozen=True)
class SlaBreached:
    """A service-level due time passed unmet; the breach is recorded on the ticket and in its audit trail."""

    ticket: TicketView
    clock: str  # "first_response" | "resolution"
    due_at: datetime
    assignee_chat_id: str | None


@dataclass(frozen=True)
class MessageAdded:
    ticket: TicketView
    message: MessageView


@dataclass(frozen=True)
class MailDeliveryFailed:
    ticket: TicketView | None
    to_addr: str
    subject: str
    error: str
    outbox_id: int | None = None  # the mail given up on (names the notice: one per mail)


@dataclass(frozen=True)
class ChatPostFailed:
    """A chat platform refused for good to show part of a ticket (`bot.chat.surface.Undeliverable`):
    agents are told why and what to do, where they look (`bot.chat.notices.place_of`)."""

    ticket: TicketView
    platform: str  # whose post was refused: "slack", "discord", "discord-dm" (a customer's DMs)…
    channel: str  # where it was to go
    what: str  # what was refused, in words: "a reply", "a message", "the ticket's root", "an update of its root"
    item: str  # names the refused thing once (a message id, "root"): one notice per refused thing
    code: str  # the platform's name of the error
    reason: str  # why, in plain words
    hint: str  # what a person can do about it
    scope: str  # `bot.chat.surface.Scope`: "item", "thread" or "channel"


@dataclass(frozen=True)
class MailQuarantined:
    quarantine_id: int
    sender: str
    subject: str
    reason: str
    source: str


@dataclass(frozen=True)
class DigestReady:
    """The managers' daily digest is built: adapters post it (figures and chart PNGs) to the managers' channel."""

    report: Report  # yesterday
    charts: tuple[Chart, ...]
    week: Report | None = None  # the last 7 days, which the charts show
