"""The Reply form's "Insert a canned reply" select: picking one fills the text with it, rendered for the ticket.

Slack sends the pick as block_actions with the open view (its id and hash); the form is drawn again by
views.update with that hash (https://api.slack.com/methods/views.update: "hash ... to protect against
possible race conditions"), the rendered text under a new block_id so Slack shows it (reply_form), and a
line under it saying which reply and language filled it. Nothing is sent: the agent reads, edits, sends.
A reply that cannot be rendered (a placeholder it lacks, no such language) leaves the text as it was,
with the reason under it.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.adapters.errors import something_went_wrong
from bot.adapters.slack import inbound, ticket_blocks
from bot.adapters.slack.limits import MAX_INPUT_VALUE
from bot.adapters.slack.parts import SlackParts
from bot.adapters.slack.reply_form import CANNED_PICK, REPLY_BLOCK, reply_block_of
from bot.domain.errors import UserFacingError
from bot.handlers import canned, queries
from bot.handlers.context import Actor
from bot.handlers.errors import Refused

log = logging.getLogger(__name__)


async def options(parts: SlackParts, actor: Actor) -> list[tuple[str, str]]:
    """(name, title) of the canned replies this agent may use, for the select; none for who may not."""
    return [(e.name, e.title) for e in await canned.offered(parts.ctx, actor)]


def register(app: Any, parts: SlackParts) -> None:
    @app.action(CANNED_PICK)
    async def on_pick(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        name = str((action.get("selected_option") or {}).get("value") or "")
        if name:  # nothing changes in the store: no need to keep it for a replay
            parts.backlog.soon(lambda: fill(parts, body, name), "canned reply")


def _next_block(view: dict[str, Any]) -> str:
    current = reply_block_of({b.get("block_id", ""): {} for b in view.get("blocks") or [] if b.get("type") == "input"})
    count = int(current.rsplit(".v", 1)[1]) if ".v" in current and current.rsplit(".v", 1)[1].isdigit() else 0
    return f"{REPLY_BLOCK}.v{count + 1}"


async def fill(parts: SlackParts, body: dict[str, Any], name: str) -> None:
    view = body.get("view") or {}
    try:
        number = inbound.ticket_number(inbound.metadata_object(view).get("ticket"))
        actor = await parts.people.actor(body["user"]["id"], body["user"].get("name", ""))
        details = await queries.show(parts.ctx, actor, number)
    except UserFacingError as exc:
        log.info("slack: canned reply %s not filled in (%s)", name, exc)
        return
    values = (view.get("state") or {}).get("values") or {}
    block = reply_block_of(values)
    typed = ((values.get(block) or {}).get(ticket_blocks.REPLY_INPUT) or {}).get("value") or ""
    try:
        rendered = await canned.preview(parts.ctx, actor, number, name)
        if len(rendered.text) > MAX_INPUT_VALUE:  # never cut: what is shown is what is mailed
            raise Refused(f":{name} is {len(rendered.text):,} characters, more than the form's "
                                 f"{MAX_INPUT_VALUE:,}; send it with /ticket reply {number} :{name}")
        text, block = rendered.text, _next_block(view)
        line = (f":memo: Canned reply `:{rendered.reply.name}` ({rendered.reply.language}), filled in for "
                f"#{number}. Read it and edit it before you send.")
    except UserFacingError as exc:
        text, line = typed, f":warning: {exc}"
    except Exception:
        line = f":warning: {something_went_wrong(log, 'slack: canned reply %s on #%s', name, number)}"
        text = typed
    modal = ticket_blocks.reply_modal(
        details.ticket, private_metadata=str(view.get("private_metadata") or ""),
        callback_id=str(view.get("callback_id") or ticket_blocks.REPLY_MODAL), initial_text=text,
        subject_tag=parts.ctx.config.subject_tag, reply_by_dm=details.reply_by_dm,
        canned=await options(parts, actor), text_block=block, preview=line)
    try:
        await parts.api.api.views_update(view_id=view.get("id"), hash=view.get("hash"), view=modal)
    except SlackApiError as exc:  # closed meanwhile, or changed since (hash_conflict): nothing to fill
        log.info("slack: canned reply %s not filled in (%s)", name, exc.response.get("error"))
