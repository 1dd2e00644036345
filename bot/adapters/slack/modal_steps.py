"""A modal's states between Slack's 3-second windows: loading, working, done, or refused with the text kept.

Slack gives a click's `trigger_id` 3 seconds and one use (https://api.slack.com/methods/views.open), and
a modal submission 3 seconds to be acknowledged (https://api.slack.com/surfaces/modals#handling_submissions).
Finding out who the person is (users.info, retried on Retry-After) and writing the change can take
longer. So the form is opened at once as "Loading…" and filled by views.update, and a submission is
acknowledged at once with "Sending…" (`response_action: update`), then shows how it ended by
views.update on the same view id, which has no deadline. A refused or failed submission comes back as
the same form with the reason on top and every typed value kept, never a modal stuck on "Sending…".
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.adapters.slack.limits import mrkdwn_line
from bot.adapters.slack.parts import SlackParts
from bot.adapters.slack.ticket_blocks import plain, section

log = logging.getLogger(__name__)

TRIGGER_GONE = {"expired_trigger_id", "exchanged_trigger_id", "invalid_trigger_id"}
TOO_SLOW = ("The form could not open in time (Slack allows 3 seconds after a click, once). "
            "Click the button again.")


def notice(title: str, text: str) -> dict[str, Any]:
    """A modal with a line of text and only a Close button: loading, sending, sent, or why not."""
    return {"type": "modal", "title": plain(title, 24), "close": plain("Close", 24),
            "blocks": [section(mrkdwn_line(text, 2900))]}


def loading(title: str) -> dict[str, Any]:
    return notice(title, ":hourglass_flowing_sand: Loading…")


def sending(title: str) -> dict[str, Any]:
    return notice(title, ":hourglass_flowing_sand: Sending…")


def again(view: dict[str, Any], warning: str) -> dict[str, Any]:
    """The submitted form once more, the reason on top and what was typed in its fields."""
    values = (view.get("state") or {}).get("values") or {}
    blocks = []
    for block in view.get("blocks") or []:
        if block.get("block_id") == "again.warning":
            continue
        block = copy.deepcopy(block)
        element = block.get("element") or {}
        typed = (values.get(block.get("block_id")) or {}).get(element.get("action_id")) or {}
        if element.get("type") == "plain_text_input" and typed.get("value"):
            element["initial_value"] = typed["value"]
        blocks.append(block)
    warning_block = {**section(f":warning: {mrkdwn_line(warning, 2800)}"), "block_id": "again.warning"}
    kept = {k: view[k] for k in ("type", "callback_id", "title", "submit", "close", "private_metadata",
                                 "notify_on_close", "external_id") if k in view}
    return {**kept, "blocks": [warning_block, *blocks]}


async def show(parts: SlackParts, view_id: str | None, view: dict[str, Any], what: str) -> bool:
    """views.update on an open modal; False (logged) when Slack refused it (closed meanwhile, say)."""
    if not view_id:
        return False
    try:
        await parts.api.api.views_update(view_id=view_id, view=view)
        return True
    except SlackApiError as exc:
        log.warning("slack: could not update the %s form (%s)", what, exc.response.get("error"))
        return False


async def open_at_once(parts: SlackParts, body: dict[str, Any], title: str) -> str | None:
    """Open a "Loading…" modal on the click's trigger before anything slow; its view id, or None (told why)."""
    try:
        opened = await parts.api.api.views_open(trigger_id=body.get("trigger_id") or "", view=loading(title))
    except SlackApiError as exc:
        error = exc.response.get("error")
        log.warning("slack: could not open the %s form (%s)", title, error)
        reason = TOO_SLOW if error in TRIGGER_GONE else f"The form could not open (Slack said {error})."
        await parts.tell(body["user"]["id"], (body.get("channel") or {}).get("id"), {"text": f":warning: {reason}"},
                         (body.get("message") or {}).get("thread_ts"))
        return None
    return str((opened.get("view") or {}).get("id") or "") or None
