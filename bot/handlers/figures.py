"""The managers' figures as plain data: what a report, the daily digest and its charts hold.

Kept apart from bot.handlers.reports (which computes them) so that bot.handlers.events can name a
Report in the DigestReady event without importing the code that builds one: results in one module,
the work in another, and no import cycle between the events and the reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class Spread:
    """Median and 90th percentile of some durations, in seconds (None when there were none)."""

    count: int
    median: float | None
    p90: float | None

    @classmethod
    def of(cls, seconds: list[float]) -> Spread:
        return cls(len(seconds), percentile(seconds, 50), percentile(seconds, 90))


@dataclass(frozen=True)
class AgentFigures:
    name: str
    solved: int
    median_first_response: float | None  # seconds


@dataclass(frozen=True)
class OldTicket:
    number: int
    subject: str
    created_at: datetime
    status: str
    assignee: str | None


@dataclass(frozen=True)
class TimeSpentFigures:
    """Minutes logged in the period (corrections counted), largest first in each grouping. A customer is
    their address and an organisation their mail domain ("" for internal tickets, which have neither)."""

    total: int
    by_agent: list[tuple[str, int]] = field(default_factory=list)
    by_customer: list[tuple[str, int]] = field(default_factory=list)
    by_organisation: list[tuple[str, int]] = field(default_factory=list)
    by_team: list[tuple[str, int]] = field(default_factory=list)


@dataclass(frozen=True)
class Report:
    start: datetime
    end: datetime
    team: str | None
    new: int
    solved: int
    reopened: int
    backlog: int
    first_response: Spread
    resolution: Spread
    sla_solved: int  # tickets solved in the period that had a due time
    sla_met: int  # of them, never breached
    breaches_now: int  # active tickets past a due time at the period's end
    by_category: list[tuple[str, int]]
    by_team: list[tuple[str, int]]
    by_hour: list[int]  # 24 local hours of the day: new tickets
    by_weekday: list[int]  # Monday first
    hourly: list[tuple[datetime, int]]  # every hour of the period, local, for the volume chart
    backlog_trend: list[tuple[date, int]]  # backlog at the end of each day of the period
    leaderboard: list[AgentFigures]
    oldest: list[OldTicket]
    tz: str = "UTC"
    merged: int = 0  # merged into another ticket in the period: not solved, the case went on there
    time_spent: TimeSpentFigures = field(default_factory=lambda: TimeSpentFigures(0))

    @property
    def sla_compliance(self) -> float | None:
        """Share of SLA tickets solved without a breach; None when no ticket had an SLA."""
        return self.sla_met / self.sla_solved if self.sla_solved else None

    @property
    def busiest_hours(self) -> list[int]:
        return [h for h, n in sorted(enumerate(self.by_hour), key=lambda x: (-x[1], x[0])) if n][:3]

    @property
    def busiest_weekdays(self) -> list[str]:
        return [WEEKDAYS[d] for d, n in sorted(enumerate(self.by_weekday), key=lambda x: (-x[1], x[0])) if n][:3]


@dataclass(frozen=True)
class Chart:
    filename: str
    title: str
    png: bytes


@dataclass
class Digest:
    report: Report
    week: Report
    charts: list[Chart] = field(default_factory=list)


def percentile(values: list[float], pct: float) -> float | None:
    """Linear interpolation between the closest ranks (numpy's default): p50 is the usual median."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
