"""Every notice kind Slack posts, by its renderer: held to the canonical list by `tests/test_parity.py`.

The publisher (`publisher.py`) decides where a notice goes (the ticket's thread, the
team's channel, the managers' channel); these say what it reads like. Each entry takes
the notice's cause (the event, or a held reply for a collision) and the clock's now.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.adapters.capabilities import Notice
from bot.adapters.collisions import ReplyHeld
from bot.adapters.slack import answers, sla_views, views
from bot.adapters.slack.digest import report_blocks, report_text
from bot.handlers.events import DigestReady, TicketMoved

Payload = dict[str, Any]


def moved(event: TicketMoved) -> Payload:
    """Said in the new thread and the old one, with links (`ThreadPublisher._link_move`); the plain words here."""
    before = f" from {event.from_team}" if event.from_team else ""
    return views.moved_notice(f"#{event.number} moved{before} to {event.to_team}")


def digest(event: DigestReady) -> Payload:
    return {"text": report_text(event.report, "Daily digest"), "blocks": report_blocks(event.report, "Daily digest")}


def collision(held: ReplyHeld) -> Payload:
    """A typed reply held because a colleague is answering too (`bot.adapters.collisions`)."""
    return answers.text(f":warning: {held}")


def reply_opened_too(name: str, number: int) -> Payload:
    """Told to whoever has a Reply form open when a colleague opens one on the same ticket."""
    return answers.text(f":eyes: {name} just opened a reply on #{number} too")


NOTICES: dict[Notice, Callable[[Any, datetime], Payload]] = {
    Notice.SLA_WARNING: lambda e, now: sla_views.sla_notice(e, "", now),
    Notice.SLA_BREACH: lambda e, now: sla_views.sla_notice(e, "", now),
    Notice.TASK_DUE: lambda e, now: views.task_reminder(e, ""),
    Notice.QUARANTINE: lambda e, now: views.quarantine_notice(e),
    Notice.DELIVERY_FAILED: lambda e, now: views.delivery_failed_notice(e),
    Notice.MOVED: lambda e, now: moved(e),
    Notice.DIGEST: lambda e, now: digest(e),
    Notice.COLLISION: lambda held, now: collision(held),
}
