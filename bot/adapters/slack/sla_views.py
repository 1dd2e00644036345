"""Service levels as Slack shows them: the time left on a ticket's root, warnings and breaches in its thread.

Pure functions from the handlers' snapshots to Block Kit, like the rest of `views`; the words
themselves ("first reply due in 45 min") come from `bot.domain.sla`, so every
adapter says the same thing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.adapters.slack.limits import mrkdwn_line
from bot.domain.sla import FIRST_RESPONSE, time_left_words
from bot.handlers.events import SlaBreached, SlaWarning
from bot.handlers.snapshots import TicketView

_WORDS = {FIRST_RESPONSE: "first reply", "resolution": "resolution"}


def sla_line(ticket: TicketView, now: datetime) -> str | None:
    """'⏱ first reply due in 45 min · resolution due in 2 days'; None when no SLA clock runs."""
    if not ticket.status.is_active:
        return None
    parts = []
    if ticket.first_response_at is None and ticket.first_response_due_at is not None:
        parts.append(time_left_words("first reply", ticket.first_response_due_at, now))
    if ticket.resolution_due_at is not None:
        parts.append(time_left_words("resolution", ticket.resolution_due_at, now))
    if not parts:
        return None
    paused = " (paused: waiting on the customer)" if ticket.sla_paused else ""
    return ":stopwatch: " + " · ".join(parts) + paused


def sla_notice(event: SlaWarning | SlaBreached, mention: str, now: datetime, link: str | None = None) -> dict[str, Any]:
    """A warning or breach; `mention` is our own `<@U…> ` (or empty), `link` the ticket's thread when posted outside it."""
    number, what = event.ticket.number, _WORDS.get(event.clock, event.clock)
    subject = mrkdwn_line(event.ticket.subject, 200)
    if isinstance(event, SlaBreached):
        head = f":rotating_light: {mention}SLA breached on #{number} {subject}: {what} was due <!date^{int(event.due_at.timestamp())}^{{date_short_pretty}} {{time}}|{event.due_at:%Y-%m-%d %H:%M} UTC>"
        text = f"SLA breached on #{number}: {what}"
    else:
        head = f":hourglass_flowing_sand: {mention}#{number} {subject}: {time_left_words(what, event.due_at, now)}"
        text = f"SLA warning on #{number}: {what} due soon"
    if link:
        head += f" · nobody is assigned: <{link}|open the thread>"
    return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": head}}]}
