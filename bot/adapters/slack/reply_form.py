"""The Reply form (the Reply button and the "Send to customer" shortcut): to whom, under which subject, what.

A text input holds at most 3,000 characters (https://api.slack.com/reference/block-kit/block-elements,
plain_text_input "max_length ... Maximum 3000"); the shortcut refuses a longer message before it opens
the form (bot.adapters.slack.interactions), so the preview is always exactly what will be mailed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.adapters.slack.blocks import plain, section
from bot.adapters.slack.limits import MAX_INPUT_VALUE, MAX_PRIVATE_METADATA, mrkdwn_line
from bot.domain.mail_ids import reply_subject
from bot.handlers.snapshots import TicketView

REPLY_MODAL = "ticket.reply_modal"
REPLY_BLOCK = "reply"  # the modal's input block_id ...
REPLY_INPUT = "text"  # ... and its action_id: state.values["reply"]["text"]["value"]
TIME_BLOCK = "time_spent"  # the optional "Time spent" input: state.values["time_spent"]["minutes"]["value"]
TIME_INPUT = "minutes"
CANNED_BLOCK = "canned"  # the "Insert a canned reply" select above the text (bot.adapters.slack.canned_pick) ...
CANNED_PICK = "reply.canned"  # ... and its action_id
# Slack keeps what is typed in an input across views.update while its block_id and action_id stay the same
# (https://api.slack.com/methods/views.update, "Preserving input entry": "Data entered or selected in input
# blocks can be preserved while updating views ... with identical block_id and action_id values"), so the
# typed text would win over a new initial_value: a picked reply puts its text under a new block_id,
# "reply.v<n>"; `reply_block_of` finds whichever the submitted view holds.
MAX_SELECT_OPTIONS = 100  # https://api.slack.com/reference/block-kit/block-elements#static_select: "Maximum number of options is 100"


def reply_modal(ticket: TicketView, *, private_metadata: str, callback_id: str = REPLY_MODAL,
                initial_text: str = "", subject_tag: str = "#", warnings: Sequence[str] = (),
                submit: str = "Send", reply_by_dm: str | None = None, initial_time: str = "",
                canned: Sequence[tuple[str, str]] = (), text_block: str = REPLY_BLOCK,
                preview: str = "") -> dict[str, Any]:
    """The Reply modal: says exactly to whom and under which subject the text is mailed
    (or, for a ticket a customer opened by direct message, that it goes to that DM). `canned`: (name, title)
    of the canned replies offered in a select; `preview` says which one filled the text, under it."""
    subject = reply_subject(ticket.subject, subject_tag, ticket.number)
    if reply_by_dm:
        to = f"*To:* {mrkdwn_line(ticket.requester, 500)}, in their {reply_by_dm.capitalize()} DM"
        hint = f"This is sent to the customer's {reply_by_dm.capitalize()} DM. Anything written in the thread stays internal."
    else:
        to = f"*To:* {mrkdwn_line(ticket.requester, 500)}\n*Subject:* {mrkdwn_line(subject, 500)}"
        hint = "This is emailed to the customer. Anything written in the thread stays internal."
    element: dict[str, Any] = {
        "type": "plain_text_input", "action_id": REPLY_INPUT, "multiline": True,
        "placeholder": plain("Write to the customer…", 150),
    }
    if initial_text.strip():  # callers refuse a longer text first (interactions.TOO_LONG): this never cuts it
        element["initial_value"] = initial_text[:MAX_INPUT_VALUE]
    return {
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": private_metadata[:MAX_PRIVATE_METADATA],
        "title": plain(f"Reply to #{ticket.number}", 24),
        "submit": plain(submit, 24),
        "close": plain("Cancel", 24),
        "blocks": [
            *([section(":warning: " + "\n".join(mrkdwn_line(w, 300) for w in warnings[:5]))] if warnings else []),
            section(to),
            *([canned_select(canned)] if canned else []),
            {
                "type": "input", "block_id": text_block, "element": element,
                "label": plain("Message to the customer", 2000),
                "hint": plain(hint, 2000),
            },
            *([{"type": "context", "elements": [{"type": "mrkdwn", "text": mrkdwn_line(preview, 2900)}]}]
              if preview else []),
            time_input(initial_time),
        ],
    }


def canned_select(canned: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """A select of the canned replies the agent may use; picking one fills the text (views.update)."""
    options = [{"text": plain(f":{name} — {title}", 75), "value": name[:150]} for name, title in canned[:MAX_SELECT_OPTIONS]]
    return {"type": "actions", "block_id": CANNED_BLOCK, "elements": [{
        "type": "static_select", "action_id": CANNED_PICK, "options": options,
        "placeholder": plain("Insert a canned reply…", 150)}]}


def reply_block_of(values: dict[str, Any]) -> str:
    """The block_id the reply's text was submitted under: "reply", or "reply.v<n>" once a canned reply filled it."""
    return next((b for b in values if b == REPLY_BLOCK or b.startswith(REPLY_BLOCK + ".v")), REPLY_BLOCK)


def time_input(initial: str = "") -> dict[str, Any]:
    """The optional "Time spent" field: logged with the reply (bot.handlers.time_tracking), never mailed."""
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": TIME_INPUT, "max_length": 20,
                               "placeholder": plain("25m, 1h30m, 1.5h", 150)}
    if initial.strip():
        element["initial_value"] = initial.strip()[:20]
    return {"type": "input", "block_id": TIME_BLOCK, "optional": True, "element": element,
            "label": plain("Time spent", 2000), "hint": plain("Optional: logged on the ticket, not sent.", 2000)}
