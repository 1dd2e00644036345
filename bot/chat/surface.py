"""The port a chat platform implements: the few things the chat layer asks of Slack, Discord or the console.

Everything a person sees in chat is posted through one of these calls, each with a
key that names the post. A call made with `maybe_posted` may follow an attempt that
reached the platform after all (a 5xx, a dropped connection, a crash); the surface
then looks for the post by its key (or its words, where the platform keeps no key)
and returns the one it finds instead of posting twice.

The surface renders (a `TicketView` as Block Kit, an embed or text) and keeps the
platform's rules (limits, pacing, error codes); it decides nothing about tickets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from bot.handlers.snapshots import MessageView, TicketView


class Hop(StrEnum):
    """How a thread tells of a ticket that changed teams (`ThreadSync` links the two threads)."""

    ARRIVED = "arrived"  # in the new thread: "moved here from <old thread>"
    DEPARTED = "departed"  # in the old thread: "moved to <team>: continue in <new thread>"
    LEFT = "left"  # in the old thread: the new team works on another platform, nothing continues here


@dataclass(frozen=True)
class MoveNote:
    hop: Hop
    team: str  # the team the ticket moved to, with where it works for LEFT ("Billing (in Discord)")
    link: str | None  # the other thread, as `ChatSurface.link` gives it; None for LEFT
    number: int | None = None  # the ticket, for platforms whose words name it ("continue in #12's new thread")


@dataclass(frozen=True)
class Place:
    """Where a notice goes: a channel, inside a ticket's thread or at the channel's top level."""

    channel: str
    root: str | None = None  # the thread's root; None: the channel itself (where everyone reads)
    mention: str | None = None  # the chat user id of the person the notice is for
    link: str | None = None  # the ticket's thread, when the notice is posted outside it


class ChatSurface(Protocol):
    """One chat platform, as the chat layer sees it. Implemented in `bot.adapters.<platform>.surface`."""

    platform: str  # the name thread rows and posts are kept under ("slack", "discord", "discord-dm", "console")
    default_channel: str  # where tickets of no team (and notices of no ticket) are shown

    def link(self, channel: str, root: str) -> str:
        """An address of a thread that this platform's renderings turn into a link."""
        ...

    async def post_root(self, channel: str, ticket: TicketView, *, key: str, maybe_posted: bool,
                        replaces: str | None = None) -> str:
        """Show a new ticket: its root (and the thread under it); the root's ref. `replaces` is the
        root a move left behind in this channel, which a search for an earlier attempt must skip."""
        ...

    async def update_root(self, channel: str, root: str, ticket: TicketView, *, moved: MoveNote | None = None) -> None:
        """Render the root again; `moved`: the ticket went elsewhere, the root says where and loses its controls."""
        ...

    async def post_message(self, channel: str, root: str, message: MessageView, *, key: str,
                           maybe_posted: bool) -> str:
        """One ticket message in the thread (split or attached when long, never cut); the first post's ref."""
        ...

    async def post_history(self, channel: str, root: str, others: Sequence[TicketView], links: Mapping[int, str], *,
                           key: str, maybe_posted: bool) -> str:
        """The customer's other recent tickets, first in a new thread; `links` by ticket number."""
        ...

    async def post_move(self, channel: str, root: str, note: MoveNote, *, key: str) -> str:
        """A line in a thread saying where the ticket went, or where it came from."""
        ...

    async def post_notice(self, place: Place, notice: Any, *, key: str, maybe_posted: bool) -> str:
        """A notice (`bot.chat.notices`: an SLA warning, a task due, quarantined mail...) at `place`."""
        ...

    def refused(self, exc: Exception) -> Undeliverable | None:
        """`exc`, raised by one of these calls, as a refusal for good (in words an agent can act on);
        None when trying again may help (a rate limit, a 5xx, a timeout, a dropped connection)."""
        ...


class Scope(StrEnum):
    """How much of a ticket's showing a refusal stops, and so where agents are told of it."""

    ITEM = "item"  # this one post (too long, malformed, a customer's closed DMs): the rest go on
    THREAD = "thread"  # the ticket's thread or root (deleted, archived): nothing more can go there
    CHANNEL = "channel"  # the whole channel (the bot is not in it, lacks permission, it is gone)


class Undeliverable(Exception):
    """The platform refused a post for good (a deleted channel, a closed DM): trying again cannot help.

    Anything else a surface raises is taken as passing and retried with backoff. Agents are told of
    a refusal (`bot.handlers.events.ChatPostFailed`), so it says why in plain words (`reason`: "the bot
    is not in the channel") and what a person can do (`hint`: "/invite @Tiketti"); `code` is the
    platform's name of the error ("not_in_channel", "50007"), counted in /metrics.
    """

    def __init__(self, reason: str, hint: str = "", *, code: str = "refused", scope: Scope = Scope.ITEM) -> None:
        super().__init__(f"{reason} ({code}){f'; {hint}' if hint else ''}")
        self.reason, self.hint, self.code, self.scope = reason, hint, code, scope
