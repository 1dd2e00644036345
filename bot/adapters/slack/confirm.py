"""Merging two customers' tickets in Slack: asked in a confirm dialog, as the core requires.

`/ticket merge N into M` refuses with NeedsConfirmation when N and M belong to
different customers (bot.handlers.merge). Instead of only naming the flag, the
answer (which the caller alone sees) carries a *Merge anyway* button whose Slack
confirm dialog says what will happen; confirming runs the merge with the
confirmation, under the same permission check as any merge. Typing the flag
(`--different-customer`) still works.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.adapters.slack import answers, inbound
from bot.adapters.slack.limits import mrkdwn_line
from bot.adapters.slack.parts import SlackParts
from bot.adapters.slack.responding import respond_checked
from bot.adapters.slack.ticket_blocks import plain, section
from bot.domain.errors import UserFacingError
from bot.handlers import merge
from bot.handlers.merge import NeedsConfirmation

log = logging.getLogger(__name__)

MERGE_ANYWAY = "ticket.merge_anyway"


def merge_question(asked: NeedsConfirmation) -> answers.Answer:
    """The refusal, and a button that asks once more (Slack's confirm dialog) before merging."""
    dialog = {"title": plain("Merge two customers' tickets?", 100),
              "text": plain(f"#{asked.source}'s conversation ({asked.source_customer}) will show in "
                            f"#{asked.target} ({asked.target_customer}). Replies on #{asked.target} still go to "
                            f"its own customer only.", 300),
              "confirm": plain("Merge anyway", 30), "deny": plain("Cancel", 30), "style": "danger"}
    button = {"type": "button", "action_id": MERGE_ANYWAY, "style": "danger", "text": plain("Merge anyway", 75),
              "value": f"{asked.source}:{asked.target}", "confirm": dialog}
    return {"text": mrkdwn_line(str(asked), 3000),
            "blocks": [section(f":warning: {mrkdwn_line(str(asked), 2900)}"),
                       {"type": "actions", "block_id": f"merge.{asked.source}.{asked.target}", "elements": [button]}]}


def _pair(value: object) -> tuple[int, int]:
    source, sep, target = str(value or "").partition(":")
    if not sep:
        raise inbound.Malformed("the merge button's value is not N:M")
    return inbound.ticket_number(source), inbound.ticket_number(target)


def register(app: Any, parts: SlackParts) -> None:
    @app.action(MERGE_ANYWAY)
    async def on_merge_anyway(ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any) -> None:
        source, target = _pair(action.get("value"))  # before the ack: a button we did not make is a 400
        await ack()
        await parts.backlog.later(lambda: merge_anyway(body, source, target, respond), "merge anyway", body)

    async def merge_anyway(body: dict[str, Any], source: int, target: int, respond: Any) -> None:
        user = body["user"]["id"]
        try:
            actor = await parts.people.actor(user, body["user"].get("name", ""))
            result = await merge.merge(parts.ctx, actor, source, target, different_customer=True)
            answer = answers.done(result.summary, await parts.thread_link(target))
        except UserFacingError as exc:
            answer = answers.text(f":warning: {exc}")
        if body.get("response_url"):  # the question was an ephemeral answer: replace it with the outcome
            await respond_checked(respond, answer, what="merge", user=user, channel=(body.get("channel") or {}).get("id"),
                                  tell=parts.tell, replace_original=True, response_type="ephemeral")
        else:
            await parts.tell(user, (body.get("channel") or {}).get("id"), answer)
