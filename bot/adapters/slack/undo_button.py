"""Undo send on Slack: "Sending to mia@… in 10 s [Undo]", seen by the reply's author alone.

The answer to `/ticket reply` and the message after the Reply form is sent (an ephemeral message:
a modal's buttons have no channel to answer in, and the form has closed by then) carry the button.
Its value names the ticket and the reply's message id, so it works after a restart. A click takes
the reply back (bot.handlers.undo) and opens the Reply form filled with its text: the click's
trigger_id lives 3 seconds and opens one view, and the undo itself is one short transaction.
After the window the click answers "already sent".
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bot.adapters.errors import something_went_wrong
from bot.adapters.slack import answers
from bot.adapters.slack.blocks import plain, section
from bot.adapters.slack.limits import mrkdwn_line
from bot.adapters.slack.parts import SlackParts
from bot.adapters.slack.responding import respond_checked
from bot.domain.errors import UserFacingError
from bot.handlers import undo
from bot.handlers.tickets import ActionResult

log = logging.getLogger(__name__)

UNDO = "ticket.undo"

OpenReply = Callable[..., Awaitable[None]]  # bot.adapters.slack.interactions._open_reply


def held_answer(result: ActionResult, link: str | None = None) -> dict[str, Any]:
    """The private confirmation of a held reply: where it goes, in how long, and the Undo button."""
    message = result.message
    assert message is not None and result.held_until is not None
    seconds = max(0, round((result.held_until - message.created_at).total_seconds()))
    number = result.ticket.number
    line = mrkdwn_line(f":outbox_tray: Sending #{number}'s reply to {message.sent_to} in {seconds} s.", 2800)
    shown = line + (f" · <{link}|open thread>" if link else "")
    button = {"type": "button", "text": plain("Undo", 75), "action_id": UNDO, "value": f"{number}:{message.id}"}
    return {"text": line, "blocks": [section(shown), {"type": "actions", "block_id": f"undo.{message.id}",
                                                      "elements": [button]}]}


def parse_value(value: object) -> tuple[int, int] | None:
    """(ticket, message id) from the button's value; None for anything we did not write."""
    number, _, message = str(value or "").partition(":")
    return (int(number), int(message)) if number.isdigit() and message.isdigit() else None


def on_click(parts: SlackParts, open_reply: OpenReply, reply_modal: str) -> Callable[..., Awaitable[None]]:
    """The Undo button's handler: acknowledged at once, then undone and the form opened (no queue: the trigger)."""

    async def clicked(ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any) -> None:
        await ack()
        target = parse_value(action.get("value"))
        if target is not None:
            parts.backlog.soon(lambda: _take_back(parts, open_reply, reply_modal, body, respond, *target), "undo")

    return clicked


async def _take_back(parts: SlackParts, open_reply: OpenReply, reply_modal: str, body: dict[str, Any], respond: Any,
                     number: int, message_id: int) -> None:
    user, channel = body["user"]["id"], (body.get("channel") or {}).get("id")
    try:
        actor = await parts.people.actor(user, body["user"].get("name", ""))
        undone = await undo.take_back(parts.ctx, actor, number, message_id)
    except UserFacingError as exc:
        await parts.tell(user, channel, answers.text(f":warning: {exc}"))
        return
    except Exception:
        await parts.tell(user, channel, answers.text(f":warning: {something_went_wrong(log, 'slack: undo on #%s', number)}"))
        return
    await open_reply(parts, body, number, callback_id=reply_modal, text=undone.text)  # first: the trigger's 3 s
    # The message with the button says what became of it (replaced: the button goes with it).
    await respond_checked(respond, answers.text(f":leftwards_arrow_with_hook: {undone.result.summary}; its text is "
                                                "back in the Reply form"), what="Undo", user=user, channel=channel,
                          tell=parts.tell, response_type="ephemeral", replace_original=True)
