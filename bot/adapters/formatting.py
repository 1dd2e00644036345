"""Presentation helpers every chat adapter shares."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from bot.handlers.figures import Report


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
