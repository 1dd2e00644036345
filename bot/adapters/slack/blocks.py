"""Block Kit's small pieces, built once: plain and mrkdwn text, sections, context lines, buttons, dates.

Kept apart from the renderings that use them so each module stays about one thing; every text passed in
here is already escaped or our own (bot.adapters.slack.limits does the escaping and cutting).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.adapters.slack.limits import MAX_BLOCKS, MAX_BLOCKS_TEXT, MAX_FIELD_TEXT, MAX_SECTION_TEXT, one_line

Blocks = list[dict[str, Any]]


def plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": one_line(text, limit) or " ", "emoji": False}


def mrkdwn(text: str) -> dict[str, Any]:
    """Our own formatting around escaped user text; verbatim so Slack links and pings nothing by itself."""
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": mrkdwn(text[:MAX_SECTION_TEXT])}


def sections_of(lines: list[str], limit: int = MAX_SECTION_TEXT) -> list[dict[str, Any]]:
    """Lines (each already within `limit`) in as few sections as hold them, never cut between two lines."""
    blocks, chunk = [], ""
    for line in lines:
        if chunk and len(chunk) + len(line) + 1 > limit:
            blocks.append(section(chunk))
            chunk = ""
        chunk = f"{chunk}\n{line}" if chunk else line
    return [*blocks, section(chunk)] if chunk else blocks


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


def text_length(node: Any) -> int:
    """Characters in every text object under `node`: what Slack adds up for `msg_blocks_too_long`."""
    if isinstance(node, list):
        return sum(text_length(n) for n in node)
    if not isinstance(node, dict):
        return 0
    own = len(str(node.get("text", ""))) if node.get("type") in ("plain_text", "mrkdwn") else 0
    return own + sum(text_length(v) for v in node.values() if isinstance(v, dict | list))


def pack(blocks: Blocks, *, budget: int = MAX_BLOCKS_TEXT, max_blocks: int = MAX_BLOCKS) -> list[Blocks]:
    """Blocks in order, grouped into as few messages as Slack accepts: each at most `max_blocks` blocks
    and `budget` characters of text (limits.MAX_BLOCKS_TEXT). Never empty: no blocks give one empty group."""
    groups: list[Blocks] = [[]]
    size = 0
    for block in blocks:
        length = text_length(block)
        if groups[-1] and (size + length > budget or len(groups[-1]) >= max_blocks):
            groups.append([])
            size = 0
        groups[-1].append(block)
        size += length
    return groups


# A response_url takes five answers within thirty minutes (https://api.slack.com/interactivity/handling
# #message_responses): an answer goes out in at most four messages, so one use stays free for an error.
MAX_PAGES = 4
PAGE_ROOM = 300  # text kept free on each page for its "page i/n" and "left out" lines
LEFT_OUT = (":scissors: The rest is longer than Slack shows at once and is left out: open the ticket's thread, "
            "or ask for less (a narrower list, one ticket).")


def pages(message: dict[str, Any], *, max_pages: int = MAX_PAGES) -> list[dict[str, Any]]:
    """`message` ({"text", "blocks"}) as the Slack messages it takes: one when it fits, else up to `max_pages`
    in a row (`page i/n` on each), the last saying plainly when something was left out. Never one Slack
    refuses with msg_blocks_too_long or invalid_blocks (more than 50 blocks)."""
    groups = pack(list(message.get("blocks") or []), budget=MAX_BLOCKS_TEXT - PAGE_ROOM, max_blocks=MAX_BLOCKS - 1)
    if len(groups) == 1:
        return [message]
    shown, cut = groups[:max_pages], len(groups) > max_pages
    if cut:
        shown[-1] = [*shown[-1][:MAX_BLOCKS - 2], context(LEFT_OUT)]
    text = str(message.get("text") or "")
    return [{"text": f"{text} ({i}/{len(shown)})", "blocks": [*group, context(f"_page {i}/{len(shown)}_")]}
            for i, group in enumerate(shown, start=1)]
