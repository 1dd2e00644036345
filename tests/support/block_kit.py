"""Judging Block Kit as Slack would: slack_sdk's own models plus the limits they leave out.

Used by the fake Slack API (which answers `invalid_blocks`) and by the view tests,
so a view that passes here is one Slack accepts.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

MAX_FIELD_TEXT = 2000


def _differences(sent: Any, canonical: Any, where: str) -> list[str]:
    """Keys slack_sdk's models dropped or changed: they would not reach Slack as meant."""
    if isinstance(sent, dict) and isinstance(canonical, dict):
        problems = [f"{where}.{k}: not a known attribute" for k in sent if k not in canonical]
        for k in sent.keys() & canonical.keys():
            problems += _differences(sent[k], canonical[k], f"{where}.{k}")
        return problems
    if isinstance(sent, list) and isinstance(canonical, list) and len(sent) == len(canonical):
        return [p for i, (a, b) in enumerate(zip(sent, canonical, strict=True)) for p in _differences(a, b, f"{where}[{i}]")]
    return [] if sent == canonical else [f"{where}: {sent!r} is not valid here"]


# Select menus with a static list: "options ... An array of option objects" (either options or option_groups
# is required, https://api.slack.com/reference/block-kit/block-elements#static_select). slack_sdk checks only
# the maximum (100); Slack refuses an empty list too: invalid_blocks ("must provide at least 1 items") in a
# message, invalid_arguments in a view.
STATIC_SELECTS = ("static_select", "multi_static_select")


def _text_problems(node: Any, where: str) -> list[str]:
    """Limits slack_sdk does not check itself: empty texts, long section fields, selects with no option."""
    problems: list[str] = []
    if isinstance(node, dict):
        if node.get("type") in STATIC_SELECTS and not node.get("options") and not node.get("option_groups"):
            problems.append(f"{where}.options: must provide at least 1 items")
        if node.get("type") in ("plain_text", "mrkdwn") and not str(node.get("text", "")).strip():
            problems.append(f"{where}: text must not be empty")
        if node.get("type") == "section":
            for i, f in enumerate(node.get("fields") or []):
                if isinstance(f, dict) and len(str(f.get("text", ""))) > MAX_FIELD_TEXT:
                    problems.append(f"{where}.fields[{i}]: more than {MAX_FIELD_TEXT} characters")
        for k, v in node.items():
            problems += _text_problems(v, f"{where}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            problems += _text_problems(v, f"{where}[{i}]")
    return problems


def block_kit_errors(blocks: Any, *, max_blocks: int = 50) -> list[str]:
    """Why Slack would refuse these blocks (empty when it would accept them)."""
    if not isinstance(blocks, list):
        return ["blocks must be an array"]
    problems = [f"no more than {max_blocks} items allowed"] if len(blocks) > max_blocks else []
    for i, raw in enumerate(blocks):
        where = f"blocks[{i}]"
        if not isinstance(raw, dict):
            problems.append(f"{where}: must be an object")
            continue
        try:
            block = Block.parse(dict(raw))
            if block is None:
                problems.append(f"{where}: unknown block type {raw.get('type')!r}")
                continue
            block.validate_json()
            canonical = block.to_dict()  # validates nested elements and text objects too
        except (SlackObjectFormationError, TypeError, ValueError, KeyError, AttributeError) as exc:
            problems.append(f"{where}: {exc}")
            continue
        problems += _differences(raw, canonical, where) + _text_problems(raw, where)
    return problems


def view_errors(view: Any) -> list[str]:
    """Why views.open / views.update would refuse this view."""
    if not isinstance(view, dict):
        return ["view must be an object"]
    try:
        View(**view).validate_json()
    except (SlackObjectFormationError, TypeError, ValueError) as exc:
        return [f"view: {exc}"]
    return block_kit_errors(view.get("blocks"), max_blocks=100)


def message_errors(message: dict[str, Any]) -> list[str]:
    """Why chat.postMessage would refuse a {"text", "blocks"} payload."""
    text = message.get("text")
    problems = ["msg_too_long: text over 40,000 characters"] if text and len(text) > 40_000 else []
    if not text and not message.get("blocks"):
        problems.append("no_text")
    from tests.support.slack_rules import MAX_BLOCKS_TEXT, blocks_text_length  # it builds on this module

    if blocks_text_length(message.get("blocks") or []) > MAX_BLOCKS_TEXT:
        problems.append(f"msg_blocks_too_long: more than {MAX_BLOCKS_TEXT} characters of text in the blocks")
    return problems + block_kit_errors(message.get("blocks") or [])
