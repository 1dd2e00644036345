"""Notices on Discord: the words of each kind, and the title of one that becomes a forum post of its own.

Every kind the other platforms show is shown here too (`bot.adapters.capabilities.Notice`;
`NOTICES` names the words of each and `tests/test_parity.py` holds it to the list). Where a notice
goes is decided for every platform at once (`bot.chat.notices.place_of`); the surface
(`bot.adapters.discord.surface`) posts it there, keeping Discord's forum rule (a forum takes posts,
not messages).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.adapters.capabilities import Notice
from bot.adapters.collisions import ReplyHeld
from bot.adapters.discord import embeds
from bot.adapters.discord.digest import report_text
from bot.adapters.discord.reply_form import held_text
from bot.chat.notices import refusal_words
from bot.handlers import events

# "due in 45 min", "overdue by 1 h 30 min": the words of a notice that change while it waits to be posted
_TIME_LEFT = re.compile(r"(due in|overdue by) \d+ (?:h \d+ min|min|h|days)")


def task_due(event: events.TaskDue, mention: str = "") -> str:
    return embeds.cut(f"⏰ {mention}task due on #{event.ticket.number}: {event.text} (`/ticket done {event.task_id}`)",
                     embeds.MESSAGE_CHARS)


def expert_answered(event: events.ExpertAnswered, mention: str = "") -> str:
    return embeds.cut(f"📨 {mention}{event.expert} answered your question on #{event.ticket.number}: their mail is "
                      "an internal note in this thread", embeds.MESSAGE_CHARS)


def delivery_failed(event: events.MailDeliveryFailed) -> str:
    where = f"#{event.ticket.number}: " if event.ticket else ""
    return embeds.cut(f"⚠️ {where}Mail to {event.to_addr} could not be delivered: {event.error}", embeds.MESSAGE_CHARS)


def post_failed(event: events.ChatPostFailed) -> str:
    """A refusal for good: what could not be shown, why, and what to do (`bot.chat.thread_sync`)."""
    return embeds.cut(f"⚠️ {refusal_words(event, f'<#{event.channel}>')}", embeds.MESSAGE_CHARS)


def moved(event: events.TicketMoved) -> str:
    """The words; the sync posts them with links in the old and new threads (`DiscordSurface.post_move`)."""
    before = f" from {event.from_team}" if event.from_team else ""
    return embeds.cut(f"➡️ #{event.number} moved{before} to {event.to_team}", embeds.MESSAGE_CHARS)


NOTICES: dict[Notice, Callable[[Any, datetime], str]] = {
    Notice.SLA_WARNING: lambda e, now: embeds.sla_notice(e, "", now),
    Notice.SLA_BREACH: lambda e, now: embeds.sla_notice(e, "", now),
    Notice.TASK_DUE: lambda e, now: task_due(e),
    Notice.EXPERT_ANSWERED: lambda e, now: expert_answered(e),
    Notice.QUARANTINE: lambda e, now: embeds.quarantine_notice(e),
    Notice.DELIVERY_FAILED: lambda e, now: delivery_failed(e),
    Notice.MOVED: lambda e, now: moved(e),
    Notice.DIGEST: lambda e, now: embeds.cut(report_text(e.report, "Daily digest"), embeds.MESSAGE_CHARS),
    Notice.COLLISION: lambda held, now: held_text(held.number, held.lines) if isinstance(held, ReplyHeld) else "",
    Notice.POST_FAILED: lambda e, now: post_failed(e),
}


def mention_of(chat_id: str | None) -> str:
    """`<@id> ` for a Discord user (a numeric id); nothing for anyone else (a Slack id, an email)."""
    return f"<@{chat_id}> " if chat_id and chat_id.isdigit() else ""


def notice_text(event: object, mention: str, now: datetime, *, link: str | None = None) -> str:
    """A notice kept as a row (`bot.handlers.notices.KINDS`) in words; `link` the ticket's thread as
    Discord shows it (`<#id>`), when the notice is posted outside it."""
    if isinstance(event, events.SlaWarning | events.SlaBreached):
        return embeds.sla_notice(event, mention, now, link=link)
    if isinstance(event, events.TaskDue):
        return task_due(event, mention)
    if isinstance(event, events.ExpertAnswered):
        return expert_answered(event, mention)
    if isinstance(event, events.MailQuarantined):
        return embeds.quarantine_notice(event)
    if isinstance(event, events.MailDeliveryFailed):
        return delivery_failed(event)
    if isinstance(event, events.ChatPostFailed):
        return post_failed(event)
    raise TypeError(f"no Discord words for a {type(event).__name__} notice")


def notice_title(event: object) -> str:
    """The name of a forum post made for a notice that has no thread to go into."""
    if isinstance(event, events.MailQuarantined):
        title = f"Mail quarantined as #{event.quarantine_id}"
    elif isinstance(event, events.MailDeliveryFailed) and event.ticket is None:
        title = f"Mail to {event.to_addr} undeliverable"
    else:
        what = {events.SlaWarning: "SLA warning", events.SlaBreached: "SLA breached", events.TaskDue: "Task due", events.ExpertAnswered: "Expert answered",
                events.MailDeliveryFailed: "Mail undeliverable", events.ChatPostFailed: "Not shown"}.get(type(event), "Notice")
        ticket = getattr(event, "ticket", None)
        title = f"#{ticket.number} {what}" if ticket is not None else what
    return embeds.cut(title, embeds.THREAD_NAME_CHARS)


def same_notice(shown: str, wanted: str) -> bool:
    """Whether a message of ours is this notice, posted by an earlier attempt: the same words, but the
    time left may have moved on while it waited (even past the deadline: "due in" became "overdue by")."""
    return _TIME_LEFT.sub("⏱", shown.strip()) == _TIME_LEFT.sub("⏱", wanted.strip())
