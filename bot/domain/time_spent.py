"""Time spent on a ticket: how an agent writes a duration, and how it is shown back.

Agents type what they would say aloud ("25m", "1h30m", "1.5h", or a bare "90" for minutes),
in the command, the Reply form's field and Discord's option alike, so one parser serves all.
The store keeps whole minutes: nobody bills seconds, and sums of integers stay exact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from bot.domain.errors import InvalidInput

MAX_MINUTES = 24 * 60  # one entry covers at most a day: "250h" is a typo, not a week's work

# Where an entry came from: the command (Slack, Discord, console alike), a Reply form's field, or a correction.
SOURCES = ("command", "reply-form", "correction")

_PART = re.compile(r"\s*(\d+(?:[.,]\d+)?)\s*(hours|hour|hrs|hr|h|minutes|minute|mins|min|m)?\s*", re.IGNORECASE)
EXAMPLES = "25m, 1h, 1h30m, 1.5h or 90 (minutes)"


@dataclass(frozen=True)
class TimeEntry:
    """One logged stretch of work on a ticket; a correction is a negative entry of the same agent."""

    ticket_id: int
    agent_id: int
    minutes: int
    note: str
    created_at: datetime
    source: str = "command"
    id: int | None = None


def parse_duration(text: str, *, allow_negative: bool = False) -> int:
    """Whole minutes from "25m", "1h", "1h30m", "1.5h", "1h 30 min" or "90" (a bare number is minutes).

    Zero and more than a day are refused: neither is work anyone did in one go. A leading "-" is a
    correction, taken only where the caller allows it (the `/ticket time` command, not a Reply form).
    """
    raw = text.strip()
    sign = 1
    if raw.startswith("-"):
        if not allow_negative:
            raise InvalidInput(f"time spent cannot be negative ({text.strip()!r}); write e.g. {EXAMPLES}")
        sign, raw = -1, raw[1:].lstrip()
    elif raw.startswith("+"):
        raw = raw[1:].lstrip()
    total = 0.0
    pos = 0
    units_seen: set[str] = set()
    while pos < len(raw):
        m = _PART.match(raw, pos)
        if m is None or m.end() == pos:
            raise InvalidInput(f"not a duration: {text.strip()!r}; write e.g. {EXAMPLES}")
        amount = float(m.group(1).replace(",", "."))
        unit = (m.group(2) or "m").lower()[0]
        bare = m.group(2) is None
        if unit in units_seen or (bare and m.end() < len(raw)):
            raise InvalidInput(f"not a duration: {text.strip()!r}; write e.g. {EXAMPLES}")
        units_seen.add(unit)
        total += amount * 60 if unit == "h" else amount
        pos = m.end()
    if not raw:
        raise InvalidInput(f"no time given; write e.g. {EXAMPLES}")
    minutes = round(total)
    if minutes <= 0:
        raise InvalidInput(f"{text.strip()!r} is no time at all; write e.g. {EXAMPLES}")
    if minutes > MAX_MINUTES:
        raise InvalidInput(f"{text.strip()!r} is more than a day; log each day's work as its own entry")
    return sign * minutes


def split_spent(text: str, *, allow_negative: bool = True) -> tuple[int, str]:
    """'1h 30m checked the ledger' -> (90, 'checked the ledger'): the duration leads, what was done follows.

    The duration may take a few words ("1 h 30 min"); a following word is part of it only if it
    carries a unit, so "25m 3 printers" is 25 minutes on three printers, not 28 minutes.
    """
    words = text.split()
    if not words:
        raise InvalidInput(f"how long? write e.g. /ticket time N 25m what was done ({EXAMPLES})")
    minutes, used = parse_duration(words[0], allow_negative=allow_negative), 1
    for k in range(2, min(len(words), 4) + 1):
        if not any(ch.isalpha() for ch in words[k - 1]):
            continue
        try:
            minutes, used = parse_duration(" ".join(words[:k]), allow_negative=allow_negative), k
        except InvalidInput:
            continue
    return minutes, " ".join(words[used:])


def spent_text(minutes: int) -> str:
    """"1 h 25 min", "40 min", "3 h": how a card and a report say a total."""
    sign, minutes = ("-" if minutes < 0 else ""), abs(minutes)
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return f"{sign}{hours} h {rest} min"
    return f"{sign}{hours} h" if hours else f"{sign}{rest} min"


def mail_domain(email: str) -> str:
    """The organisation a customer belongs to, for now: the domain of their address ("" for none)."""
    return email.rpartition("@")[2].lower() if "@" in email else ""
