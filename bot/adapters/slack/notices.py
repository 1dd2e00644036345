"""Every notice kind Slack posts, by its renderer: held to the canonical list by `tests/test_parity.py`.

Where a notice goes is decided once for every platform (`bot.chat.notices.place_of`);
these say what it reads like on Slack, and `SlackSurface.post_notice` posts them. Each
entry of `NOTICES` takes the notice's cause (the event, or a held reply for a collision)
and the clock's now; `kept_notice` renders the notices kept as rows (`bot.handlers.notices`)
with the person they are for mentioned and, outside the ticket's thread, a link to it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.adapters.capabilities import Notice
from bot.adapters.collisions import ReplyHeld
from bot.adapters.slack import answers, sla_blocks, ticket_blocks
from bot.adapters.slack.digest import report_blocks, report_text
from bot.adapters.slack.limits import mrkdwn_line
from bot.chat.notices import refusal_words
from bot.handlers.events import (
    ChatPostFailed,
    DigestReady,
    ExpertAnswered,
    MailDeliveryFailed,
    MailQuarantined,
    SlaBreached,
    SlaWarning,
    TaskDue,
    TicketMoved,
)

Payload = dict[str, Any]


def moved(event: TicketMoved) -> Payload:
    """Said in the new thread and the old one, with links (`SlackSurface.post_move`); the plain words here."""
    before = f" from {event.from_team}" if event.from_team else ""
    return ticket_blocks.moved_notice(f"#{event.number} moved{before} to {event.to_team}")


def digest(event: DigestReady) -> Payload:
    return {"text": report_text(event.report, "Daily digest"), "blocks": report_blocks(event.report, "Daily digest")}


def collision(held: ReplyHeld) -> Payload:
    """A typed reply held because a colleague is answering too (`bot.adapters.collisions`)."""
    return answers.text(f":warning: {held}")


def reply_opened_too(name: str, number: int) -> Payload:
    """Told to whoever has a Reply form open when a colleague opens one on the same ticket."""
    return answers.text(f":eyes: {name} just opened a reply on #{number} too")


_SLACK_USER = re.compile(r"[UW][A-Z0-9]{2,}")  # a Slack user id; another platform's id pings nobody here


def expert_answered(event: ExpertAnswered, who: str) -> Payload:
    """`who` is our own `<@U…> ` for the agent who asked (or empty); the expert's address is escaped."""
    said = mrkdwn_line(f"{event.expert} answered your question on #{event.ticket.number}: their mail is an "
                       "internal note in this thread", 2900)
    return {"text": f"{who}{said}", "blocks": [ticket_blocks.section(f":incoming_envelope: {who}{said}")]}


def post_failed(event: ChatPostFailed) -> Payload:
    """A refusal for good: what could not be shown, why, and what to do (`bot.chat.thread_sync`)."""
    plain = f":warning: {refusal_words(event, '#' + event.channel)}"
    linked = mrkdwn_line(plain, 2900).replace(f"#{event.channel}", f"<#{event.channel}>", 1)  # ids need no escaping
    return {"text": mrkdwn_line(plain, 2900), "blocks": [ticket_blocks.section(linked)]}


def kept_notice(event: object, now: datetime, *, mention: str | None = None, link: str | None = None) -> Payload:
    """A notice kept as a row, as Slack shows it: `mention` is the chat user id it is for (pinged when it is
    a Slack user's), `link` the ticket's thread when the notice is posted outside it (SLA notices)."""
    who = f"<@{mention}> " if mention and _SLACK_USER.fullmatch(mention) else ""
    if isinstance(event, SlaWarning | SlaBreached):
        return sla_blocks.sla_notice(event, who, now, link=link)
    if isinstance(event, TaskDue):
        return ticket_blocks.task_reminder(event, who)
    if isinstance(event, ExpertAnswered):
        return expert_answered(event, who)
    if isinstance(event, MailQuarantined):
        return ticket_blocks.quarantine_notice(event)
    if isinstance(event, MailDeliveryFailed):
        return ticket_blocks.delivery_failed_notice(event)
    if isinstance(event, ChatPostFailed):
        return post_failed(event)
    raise TypeError(f"no Slack words for a notice of type {type(event).__name__}")


NOTICES: dict[Notice, Callable[[Any, datetime], Payload]] = {
    Notice.SLA_WARNING: lambda e, now: kept_notice(e, now),
    Notice.SLA_BREACH: lambda e, now: kept_notice(e, now),
    Notice.TASK_DUE: lambda e, now: kept_notice(e, now),
    Notice.EXPERT_ANSWERED: lambda e, now: kept_notice(e, now),
    Notice.QUARANTINE: lambda e, now: kept_notice(e, now),
    Notice.DELIVERY_FAILED: lambda e, now: kept_notice(e, now),
    Notice.MOVED: lambda e, now: moved(e),
    Notice.DIGEST: lambda e, now: digest(e),
    Notice.COLLISION: lambda held, now: collision(held),
    Notice.POST_FAILED: lambda e, now: kept_notice(e, now),
}
