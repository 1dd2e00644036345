"""Service levels as Slack shows them: the time left on a ticket's root, warnings and breaches in its thread.

Pure functions from the handlers' snapshots to Block Kit, like `ticket_blocks`; the words
themselves ("first reply due in 45 min") come from `bot.adapters.formatting` and
`bot.domain.sla`, so every adapter says the same thing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.adapters.formatting import clock_words, sla_time_left
from bot.adapters.slack.limits import mrkdwn_line
from bot.domain.sla import time_left_words
from bot.handlers.events import SlaBreached, SlaWarning
from bot.handlers.snapshots import TicketView


def sla_line(ticket: TicketView, now: datetime) -> str | None:
    """'⏱ first reply due in 45 min · resolution due in 2 days'; None when no SLA clock runs."""
    left = sla_time_left(ticket, now)
    return f":stopwatch: {left}" if left else None


def sla_notice(event: SlaWarning | SlaBreached, mention: str, now: datetime, link: str | None = None) -> dict[str, Any]:
    """A warning or breach; `mention` is our own `<@U…> ` (or empty), `link` the ticket's thread when posted outside it."""
    number, what = event.ticket.number, clock_words(event.clock)
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
