"""Presentation helpers every chat adapter shares."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.domain.sla import FIRST_RESPONSE, time_left_words

if TYPE_CHECKING:
    from bot.handlers.figures import Report
    from bot.handlers.snapshots import TicketView


def human_size(size: int) -> str:
    """'812 B', '14.2 KB', '3.0 MB': attachment sizes as people read them."""
    if size < 1024:
        return f"{size} B"
    value = size / 1024
    for unit in ("KB", "MB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


def duration(seconds: float | None) -> str:
    """'42 min', '5.5 h', '3.2 d': response and resolution times as managers read them."""
    if seconds is None:
        return "–"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes / 60
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} d"


def period_text(r: Report) -> str:
    """The days a report covers, in its time zone, and its team: '2026-11-24 · team billing'."""
    tz = ZoneInfo(r.tz) if r.tz != "UTC" else None
    first = r.start.astimezone(tz) if tz else r.start
    last = (r.end - timedelta(microseconds=1)).astimezone(tz) if tz else r.end - timedelta(microseconds=1)
    days = first.date().isoformat() if first.date() == last.date() else f"{first.date()} – {last.date()}"
    return days + (f" · team {r.team}" if r.team else "")


def clock_words(clock: str) -> str:
    """What a service-level clock is called where agents read it: 'first reply' or 'resolution'."""
    return "first reply" if clock == FIRST_RESPONSE else clock


def sla_time_left(t: TicketView, now: datetime) -> str | None:
    """'first reply due in 45 min · resolution due in 2 days' on a ticket's root, the same words on every
    platform; None when no service-level clock runs (a solved ticket, a first reply already given, no SLA)."""
    if not t.status.is_active:
        return None
    parts = []
    if t.first_response_at is None and t.first_response_due_at is not None:
        parts.append(time_left_words(clock_words(FIRST_RESPONSE), t.first_response_due_at, now))
    if t.resolution_due_at is not None:
        parts.append(time_left_words("resolution", t.resolution_due_at, now))
    if not parts:
        return None
    return " · ".join(parts) + (" (paused: waiting on the customer)" if t.sla_paused else "")
