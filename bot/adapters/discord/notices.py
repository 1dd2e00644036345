"""Notices on Discord: what the core tells agents besides the thread sync, and where each goes.

Every kind the other platforms show is shown here too (`bot.adapters.capabilities.Notice`;
`NOTICES` names the words of each and `tests/test_parity.py` holds it to the list). Where:
in the ticket's thread when it has one, mentioning the assignee; an SLA notice with nobody
assigned goes to the team's channel itself with a link to the thread (a message inside a
thread reaches no one), as on Slack; mail that became no ticket goes to the default
tickets channel. A forum channel takes posts, not messages: there a notice without a
thread becomes a post of its own, and an unassigned SLA notice stays in the ticket's post.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import discord

from bot.adapters.capabilities import Notice
from bot.adapters.collisions import ReplyHeld
from bot.adapters.discord import views
from bot.adapters.discord.digest import report_text
from bot.adapters.discord.parts import PLATFORM, DiscordParts
from bot.adapters.discord.reply_form import held_text
from bot.handlers import events, placement, threads

if TYPE_CHECKING:
    from bot.adapters.discord.publisher import ThreadPublisher

log = logging.getLogger(__name__)

MENTION_USERS = discord.AllowedMentions(users=True, everyone=False, roles=False)


def task_due(event: events.TaskDue, mention: str = "") -> str:
    return views.cut(f"⏰ {mention}task due on #{event.ticket.number}: {event.text} (`/ticket done {event.task_id}`)",
                     views.MESSAGE_CHARS)


def delivery_failed(event: events.MailDeliveryFailed) -> str:
    where = f"#{event.ticket.number}: " if event.ticket else ""
    return views.cut(f"⚠️ {where}Mail to {event.to_addr} could not be delivered: {event.error}", views.MESSAGE_CHARS)


def moved(event: events.TicketMoved) -> str:
    """The words; the sync posts them with links in the old and new threads (`ThreadPublisher._link_move`)."""
    before = f" from {event.from_team}" if event.from_team else ""
    return views.cut(f"➡️ #{event.number} moved{before} to {event.to_team}", views.MESSAGE_CHARS)


NOTICES: dict[Notice, Callable[[Any, datetime], str]] = {
    Notice.SLA_WARNING: lambda e, now: views.sla_notice(e, "", now),
    Notice.SLA_BREACH: lambda e, now: views.sla_notice(e, "", now),
    Notice.TASK_DUE: lambda e, now: task_due(e),
    Notice.QUARANTINE: lambda e, now: views.quarantine_notice(e),
    Notice.DELIVERY_FAILED: lambda e, now: delivery_failed(e),
    Notice.MOVED: lambda e, now: moved(e),
    Notice.DIGEST: lambda e, now: views.cut(report_text(e.report, "Daily digest"), views.MESSAGE_CHARS),
    Notice.COLLISION: lambda held, now: held_text(held.number, held.lines) if isinstance(held, ReplyHeld) else "",
}


def _mention(chat_id: str | None) -> str:
    return f"<@{chat_id}> " if chat_id and chat_id.isdigit() else ""


class NoticePoster:
    """Posts the notices the bus announces (the digest has its own poster, for the managers' channel)."""

    def __init__(self, parts: DiscordParts, publisher: ThreadPublisher) -> None:
        self.parts, self.publisher = parts, publisher

    def subscribe(self) -> None:
        bus = self.parts.ctx.bus
        bus.subscribe(events.MailDeliveryFailed, self.on_delivery_failed)
        bus.subscribe(events.MailQuarantined, self.on_quarantined)
        bus.subscribe(events.TaskDue, self.on_task_due)
        bus.subscribe(events.SlaWarning, self.on_sla)
        bus.subscribe(events.SlaBreached, self.on_sla)

    async def on_delivery_failed(self, event: events.MailDeliveryFailed) -> None:
        if event.ticket is None:  # no ticket to show it on: where mail that became no ticket is told
            await self._announce(self.parts.channel_id, f"Mail to {event.to_addr} undeliverable", delivery_failed(event))
            return
        await self._in_thread_or_channel(event.ticket, delivery_failed(event), "Mail undeliverable")
        self.publisher.queue.mark(event.ticket.number)  # the card lists undeliverable mail

    async def on_quarantined(self, event: events.MailQuarantined) -> None:
        """Agents learn of mail that did not become a ticket where they work: the default tickets channel."""
        await self._announce(self.parts.channel_id, f"Mail quarantined as #{event.quarantine_id}",
                             views.quarantine_notice(event))

    async def on_task_due(self, event: events.TaskDue) -> None:
        await self._in_thread_or_channel(event.ticket, task_due(event, _mention(event.assignee_chat_id)), "Task due")

    async def on_sla(self, event: events.SlaWarning | events.SlaBreached) -> None:
        ref = await threads.thread_of(self.parts.ctx, PLATFORM, event.ticket.number)
        now, assignee = self.parts.ctx.clock(), _mention(event.assignee_chat_id)
        channel = await self._home(event.ticket.team) if not (assignee and ref) else None
        if isinstance(channel, discord.TextChannel):  # nobody to mention: where the whole team reads
            link = f"<#{ref.root_ref}>" if ref else None
            await channel.send(views.sla_notice(event, "", now, link=link), allowed_mentions=discord.AllowedMentions.none())
        elif ref is not None:
            await self.parts.client.get_partial_messageable(int(ref.root_ref)).send(
                views.sla_notice(event, assignee, now), allowed_mentions=MENTION_USERS)
        self.publisher.queue.mark(event.ticket.number)  # the card shows the time left

    async def _in_thread_or_channel(self, ticket: Any, text: str, title: str) -> None:
        """In the ticket's thread; a ticket not posted yet: in its team's channel (none if the team works
        on another platform only)."""
        ref = await threads.thread_of(self.parts.ctx, PLATFORM, ticket.number)
        if ref is not None:
            await self.parts.client.get_partial_messageable(int(ref.root_ref)).send(text, allowed_mentions=MENTION_USERS)
            return
        home = placement.channel_for(self.parts.ctx.config, ticket.team, PLATFORM, str(self.parts.channel_id))
        if home is not None:
            await self._announce(int(home), f"#{ticket.number} {title}", text)

    async def _home(self, team: str | None) -> discord.ForumChannel | discord.TextChannel | None:
        home = placement.channel_for(self.parts.ctx.config, team, PLATFORM, str(self.parts.channel_id))
        return await self.publisher.channel(int(home)) if home is not None else None

    async def _announce(self, channel_id: int, title: str, text: str) -> None:
        """A notice of its own in a tickets channel: a message, or in a forum a post."""
        channel = await self.publisher.channel(channel_id)
        if isinstance(channel, discord.ForumChannel):  # a forum takes posts, not messages
            await channel.create_thread(name=views.cut(title, views.THREAD_NAME_CHARS), content=text,
                                        allowed_mentions=MENTION_USERS)
        else:
            await channel.send(text, allowed_mentions=MENTION_USERS)
