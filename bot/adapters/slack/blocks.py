"""Block Kit's small pieces, built once: plain and mrkdwn text, sections, context lines, buttons, dates.

Kept apart from the renderings that use them so each module stays about one thing; every text passed in
here is already escaped or our own (bot.adapters.slack.limits does the escaping and cutting).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.adapters.slack.limits import MAX_FIELD_TEXT, MAX_SECTION_TEXT, one_line


def plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": one_line(text, limit) or " ", "emoji": False}


def mrkdwn(text: str) -> dict[str, Any]:
    """Our own formatting around escaped user text; verbatim so Slack links and pings nothing by itself."""
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": mrkdwn(text[:MAX_SECTION_TEXT])}


def context(*texts: str) -> dict[str, Any]:
    return {"type": "context", "elements": [mrkdwn(t[:MAX_FIELD_TEXT]) for t in texts[:10]]}


def button(label: str, action_id: str, number: int, style: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "button", "text": plain(label, 75), "action_id": action_id, "value": str(number)}
    if style:
        element["style"] = style
    return element


def slack_date(moment: datetime) -> str:
    """A date every reader sees in their own time zone (the fallback after | is UTC)."""
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    fallback = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"
