"""Slack's rules for message content and paging, as the fake Slack enforces them.

Kept apart from tests/support/fake_slack.py (which keeps state and speaks HTTP) so each rule
sits beside its source. Block and element shapes are judged by slack_sdk's own models
(tests/support/block_kit.py); this module adds what those models leave out: the size of a
whole message, and cursor paging of conversations.history / conversations.replies.
"""

from __future__ import annotations

import base64
from typing import Any

from tests.support.block_kit import block_kit_errors

# "The text for a message ... will be truncated when it exceeds 40,000 characters. Messages longer than
# this are refused with msg_too_long" (https://api.slack.com/methods/chat.postMessage, "Truncating content"
# and "Errors": msg_too_long, "Message text is too long").
MAX_TEXT = 40_000

# Undocumented: Slack refuses a message whose blocks hold more than about 12,000-13,300 characters of text
# in all, with `msg_blocks_too_long`, even when every block is within its own limit (slackapi/bolt-js#2509
# "Blocks too long error at ~13200 characters", and #2867). The fake refuses past 12,000, the low end of
# what was reported, so a bot that stays within it is safe in any workspace.
MAX_BLOCKS_TEXT = 12_000

# conversations.history / conversations.replies: "limit ... default 100 ... fewer than the requested number
# of items may be returned" and a "cursor" to the next page in response_metadata.next_cursor, with has_more
# (https://api.slack.com/methods/conversations.history, https://api.slack.com/methods/conversations.replies).
# Slack recommends no more than 200 per page; the fake caps a page at 200 whatever is asked.
DEFAULT_PAGE = 100
MAX_PAGE = 200


def blocks_text_length(node: Any) -> int:
    """Characters of text in every text object of the blocks (what msg_blocks_too_long counts)."""
    if isinstance(node, list):
        return sum(blocks_text_length(n) for n in node)
    if not isinstance(node, dict):
        return 0
    own = len(str(node.get("text", ""))) if node.get("type") in ("plain_text", "mrkdwn") else 0
    return own + sum(blocks_text_length(v) for k, v in node.items() if isinstance(v, dict | list))


def content_error(args: dict[str, Any], *, need: bool = True) -> dict[str, Any] | None:
    """Slack's answer to a chat.postMessage / chat.update / chat.postEphemeral body it refuses, or None."""
    text, blocks = args.get("text"), args.get("blocks")
    if need and not text and not blocks:  # "no_text: No message text provided"
        return {"ok": False, "error": "no_text"}
    if text and len(str(text)) > MAX_TEXT:
        return {"ok": False, "error": "msg_too_long"}
    if blocks is not None and (problems := block_kit_errors(blocks)):
        return {"ok": False, "error": "invalid_blocks", "errors": problems,
                "response_metadata": {"messages": [f"[ERROR] {p}" for p in problems]}}
    if blocks and blocks_text_length(blocks) > MAX_BLOCKS_TEXT:
        return {"ok": False, "error": "msg_blocks_too_long"}
    return None


def page(items: list[Any], args: dict[str, Any], kind: str) -> dict[str, Any]:
    """One page of `items` as Slack pages them: `limit`, an opaque `cursor`, has_more and next_cursor.

    Answers {"ok": False, "error": "invalid_cursor"} for a cursor Slack did not hand out here
    (https://api.slack.com/methods/conversations.history, "Errors": invalid_cursor).
    """
    try:
        limit = min(int(args.get("limit") or DEFAULT_PAGE), MAX_PAGE)
    except ValueError:
        limit = DEFAULT_PAGE
    start = 0
    if cursor := args.get("cursor"):
        try:
            got, _, offset = base64.b64decode(str(cursor), validate=True).decode().partition(":")
            start = int(offset) if got == kind else -1
        except ValueError:
            start = -1
        if start < 0:
            return {"ok": False, "error": "invalid_cursor"}
    end = start + max(limit, 1)
    more = end < len(items)
    return {"ok": True, "items": items[start:end], "has_more": more,
            "response_metadata": {"next_cursor": base64.b64encode(f"{kind}:{end}".encode()).decode() if more else ""}}
