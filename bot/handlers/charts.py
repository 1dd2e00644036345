"""The digest's charts as PNG bytes: data in, image out, no chat platform in sight.

matplotlib's Agg backend draws without a display, and an explicit Figure (not
pyplot's global state) keeps rendering safe when two digests are built at once.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, datetime

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402  (after choosing the backend)

SIZE = (8, 3)
DPI = 100
COLOUR = "#2e86de"


def _png(fig: Figure) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI, bbox_inches="tight")
    return out.getvalue()


def volume_by_hour(hourly: Sequence[tuple[datetime, int]]) -> bytes:
    """New tickets in each hour: a week shows its daily rhythm and which hours need staff."""
    fig = Figure(figsize=SIZE)
    ax = fig.subplots()
    if hourly:
        xs = [moment.replace(tzinfo=None) for moment, _ in hourly]
        ax.bar(xs, [n for _, n in hourly], width=1 / 24, align="edge", color=COLOUR)
        ax.xaxis_date()
        fig.autofmt_xdate()
    else:
        ax.text(0.5, 0.5, "no tickets", ha="center", va="center", transform=ax.transAxes)
    ax.set_title("New tickets by hour")
    ax.set_ylabel("tickets")
    return _png(fig)


def backlog_trend(points: Sequence[tuple[date, int]]) -> bytes:
    """Active tickets at the end of each day: rising means the team is falling behind."""
    fig = Figure(figsize=SIZE)
    ax = fig.subplots()
    if points:
        ax.plot([d for d, _ in points], [n for _, n in points], marker="o", color=COLOUR)
        ax.set_ylim(bottom=0)
        fig.autofmt_xdate()
    else:
        ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
    ax.set_title("Backlog at the end of each day")
    ax.set_ylabel("active tickets")
    return _png(fig)
