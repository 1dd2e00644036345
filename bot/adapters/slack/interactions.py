"""Buttons and selects on a ticket's root, the Reply modal, and the "Send to customer" shortcut.

Every click is acknowledged first (Slack allows 3 seconds) and worked after;
the root message is then re-rendered by the thread sync (`bot.chat.thread_sync`)
from committed state, so a refused action changes nothing and only the clicker is told why. A modal's
submission is acknowledged first too: errors that need no network (an empty reply) are answered in the
ack (`response_action: errors`); otherwise the ack shows "Sending…" and the work, kept before the ack
like every click, ends by updating that view (bot.adapters.slack.modal_steps). The Reply button opens
its form before anything else, as "Loading…", because its trigger_id lives 3 seconds and opens one view.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from bot.adapters.errors import something_went_wrong
from bot.adapters.slack import answers, canned_pick, inbound, modal_steps, ticket_blocks, undo_button
from bot.adapters.slack.limits import MAX_INPUT_VALUE
from bot.adapters.slack.notices import reply_opened_too
from bot.adapters.slack.parts import SlackParts, plain_text
from bot.adapters.slack.reply_form import reply_block_of
from bot.domain.access import Action
from bot.domain.errors import InvalidInput, UserFacingError
from bot.domain.priority import Priority
from bot.domain.time_spent import parse_duration
from bot.handlers import collision, queries, replies, tickets
from bot.handlers.context import Actor, Context
from bot.handlers.permissions import permit
from bot.handlers.ports import Conflict
from bot.handlers.tickets import ActionResult

log = logging.getLogger(__name__)

SEND_TO_CUSTOMER = "ticket.send_to_customer"  # the message shortcut's callback_id
SEND_MODAL = "ticket.send_modal"
INTERNAL_TICKET = ":lock: #{number} is an internal ticket: nothing to mail; write a note in the thread"
TOO_LONG = (":warning: This message is {length:,} characters; a reply form holds at most {most:,}, and a preview "
            "must be exactly what is mailed, so nothing was cut or sent. Shorten it, or send it in parts.")

Act = Callable[[Actor, int], Awaitable[ActionResult]]


def register(app: Any, parts: SlackParts) -> None:
    ctx = parts.ctx

    async def act(body: dict[str, Any], action: dict[str, Any], fn: Act) -> None:
        user = body["user"]["id"]
        channel = (body.get("channel") or {}).get("id")
        number = ticket_blocks.ticket_number(action)
        if number is None:
            return
        try:
            await fn(await parts.people.actor(user, body["user"].get("name", "")), number)
        except UserFacingError as exc:
            await parts.tell(user, channel, answers.text(f":warning: {exc}"))
        except Conflict:
            raise  # lost a race, nothing told yet: the backlog runs it again
        except Exception:
            went_wrong = something_went_wrong(log, "slack: %s on #%s", action.get("action_id"), number)
            await parts.tell(user, channel, answers.text(f":warning: {went_wrong}"))

    def button(handler: Callable[[Context, Actor, int], Awaitable[ActionResult]]) -> Callable[..., Awaitable[None]]:
        async def on_click(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
            await ack()
            await parts.backlog.later(lambda: act(body, action, lambda actor, n: handler(ctx, actor, n)),
                                      str(action.get("action_id")), body)
        return on_click

    for action_id, handler in ((ticket_blocks.CLAIM, tickets.claim), (ticket_blocks.CLOSE, tickets.close),
                               (ticket_blocks.REOPEN, tickets.reopen)):
        app.action(action_id)(button(handler))

    @app.action(ticket_blocks.ASSIGN)
    async def on_assign(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        chosen = action.get("selected_user")
        if not chosen:
            return

        async def assign(actor: Actor, n: int) -> ActionResult:
            target = actor if chosen == actor.chat_user_id else await parts.people.actor(chosen)
            return await tickets.assign(ctx, actor, n, target)

        await parts.backlog.later(lambda: act(body, action, assign), "assign", body)

    @app.action(ticket_blocks.PRIORITY)
    async def on_priority(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        value = (action.get("selected_option") or {}).get("value", "")
        await parts.backlog.later(lambda: act(body, action, lambda actor, n: tickets.set_priority(
            ctx, actor, n, Priority.parse(value))), "priority", body)

    @app.action(ticket_blocks.REPLY)
    async def on_reply(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        number = ticket_blocks.ticket_number(action)
        if number is not None:  # the form must open within the trigger's 3 seconds: no queue
            parts.backlog.soon(lambda: _open_reply(parts, body, number, callback_id=ticket_blocks.REPLY_MODAL), "reply form")

    @app.shortcut(SEND_TO_CUSTOMER)
    async def on_send_to_customer(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        parts.backlog.soon(lambda: send_form(body), "send to customer")

    async def send_form(body: dict[str, Any]) -> None:
        message, channel = body.get("message") or {}, (body.get("channel") or {}).get("id", "")
        root = message.get("thread_ts")
        number = await parts.ticket_in(channel, root) if root and root != message.get("ts") else None
        if number is None:
            await parts.tell(body["user"]["id"], channel, answers.text(
                "“Send to customer” works on a message inside a ticket's thread."))
            return
        await _open_reply(parts, body, number, callback_id=SEND_MODAL, text=plain_text(message.get("text") or ""))

    async def on_submit(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        """Acknowledged at once ("Sending…"); who, whether a colleague was faster, and the mail come after."""
        meta = inbound.metadata_object(view)  # ours, echoed by Slack: anything else is a 400 (adapter)
        values = (view.get("state") or {}).get("values") or {}
        text_block = reply_block_of(values)  # "reply", or "reply.v<n>" once a canned reply filled it (canned_pick)
        value = values.get(text_block, {}).get(ticket_blocks.REPLY_INPUT, {})
        text, number, opened = value.get("value") or "", inbound.ticket_number(meta.get("ticket")), _opened(meta)
        if problem := reply_problem(text):  # needs no network: answered in the ack, the form stays as typed
            await ack(response_action="errors", errors={text_block: problem})
            return
        spent = form_value(view, ticket_blocks.TIME_BLOCK, ticket_blocks.TIME_INPUT)
        minutes, problem = time_problem(spent)
        if problem:  # a bad "Time spent" is said on that field, and nothing is sent
            await ack(response_action="errors", errors={ticket_blocks.TIME_BLOCK: problem})
            return
        await ack(response_action="update", view=modal_steps.sending(f"Reply to #{number}"))
        await parts.backlog.later(lambda: send_reply(body, view, meta, number, opened, text, minutes, spent),
                                  "reply", body)

    async def send_reply(body: dict[str, Any], view: dict[str, Any], meta: dict[str, Any], number: int,
                         opened: datetime | None, text: str, minutes: int = 0, spent: str = "") -> None:
        view_id = view.get("id")
        try:
            actor = await parts.people.actor(body["user"]["id"], body["user"].get("name", ""))
            newer = await collision.newer_than(ctx, actor, number, opened) if opened and not meta.get("confirmed") else []
            if newer:  # someone else moved first: show what happened, and let them send anyway
                details = await queries.show(ctx, actor, number)
                confirm = ticket_blocks.reply_modal(
                    details.ticket, private_metadata=json.dumps({**meta, "confirmed": True}),
                    reply_by_dm=details.reply_by_dm, callback_id=view.get("callback_id") or ticket_blocks.REPLY_MODAL,
                    initial_text=text, subject_tag=ctx.config.subject_tag, submit="Send anyway",
                    warnings=[f"Since you opened this, {line}." for line in newer], initial_time=spent)
                await modal_steps.show(parts, view_id, confirm, "reply")
                return
            result = await replies.reply(ctx, actor, number, text, minutes=minutes)
        except UserFacingError as exc:
            await modal_steps.show(parts, view_id, modal_steps.again(view, str(exc)), "reply")
            return
        except Conflict:
            raise  # lost a race, nothing sent: the backlog runs it again
        except Exception:
            went_wrong = something_went_wrong(log, "slack: reply on #%s", number)
            await modal_steps.show(parts, view_id, modal_steps.again(view, f"Not sent: {went_wrong}"), "reply")
            return
        held = result.held_until is not None  # its Undo button comes privately, beside the ticket (undo_button)
        await modal_steps.show(parts, view_id, modal_steps.notice(
            f"Reply to #{number}", f":white_check_mark: Your reply to #{number} is on its way to the customer."
            + (" To take it back, press Undo in the message only you see." if held else "")), "reply")
        if held:
            await parts.tell(actor.chat_user_id, meta.get("channel"), undo_button.held_answer(result))
        await collision.reply_closed(ctx, actor, number)

    app.view(ticket_blocks.REPLY_MODAL)(on_submit)
    canned_pick.register(app, parts)  # the form's "Insert a canned reply" select
    app.view(SEND_MODAL)(on_submit)
    app.action(undo_button.UNDO)(undo_button.on_click(parts, _open_reply, ticket_blocks.REPLY_MODAL))


def _opened(meta: dict[str, Any]) -> datetime | None:
    """When the reply form was opened (written by _open_reply, in UTC)."""
    try:
        opened = datetime.fromisoformat(meta["opened"]) if meta.get("opened") else None
    except (TypeError, ValueError):
        opened = datetime.min
    if opened is not None and opened.tzinfo is None:
        raise inbound.Malformed("the reply form's opening time is not a time in UTC")
    return opened


def reply_problem(text: str) -> str | None:
    """What is wrong with a reply before anyone is asked (the ack's `errors`), if anything."""
    if not text.strip():
        return "An empty reply: write what to send."
    if len(text) > MAX_INPUT_VALUE:  # Slack's plain_text_input holds at most 3,000: never cut, refuse
        return f"{len(text):,} characters: a reply form holds {MAX_INPUT_VALUE:,}. Nothing was cut or sent."
    return None


def form_value(view: dict[str, Any], block: str, action: str) -> str:
    """A text input's value as submitted ("" when the optional field was left empty)."""
    values = (view.get("state") or {}).get("values") or {}
    return ((values.get(block) or {}).get(action) or {}).get("value") or ""


def time_problem(spent: str) -> tuple[int, str | None]:
    """The Reply form's "Time spent" as minutes (0 when empty), or what is wrong with it."""
    if not spent.strip():
        return 0, None
    try:
        return parse_duration(spent), None
    except InvalidInput as exc:
        return 0, str(exc)


async def _open_reply(parts: SlackParts, body: dict[str, Any], number: int, *, callback_id: str, text: str = "") -> None:
    """Open the form first ("Loading…": its trigger lives 3 seconds, once), then learn who and what, then fill it."""
    user = body["user"]["id"]
    channel = (body.get("channel") or {}).get("id")
    thread = (body.get("message") or {}).get("thread_ts")  # the shortcut's thread: answer there
    title = f"Reply to #{number}"
    if len(text) > MAX_INPUT_VALUE:  # the preview must be exactly what is mailed: a cut one would not be
        await parts.tell(user, channel, answers.text(TOO_LONG.format(length=len(text), most=MAX_INPUT_VALUE)),
                         thread_ts=thread)
        return
    view_id = await modal_steps.open_at_once(parts, body, title)
    if view_id is None:
        return
    try:
        actor = await parts.people.actor(user, body["user"].get("name", ""))
        details = await queries.show(parts.ctx, actor, number)
        if details.ticket.internal:  # nobody to mail: no form with an empty recipient
            await permit(parts.ctx, actor, Action.REPLY, number)  # who may not reply hears that instead
            await modal_steps.show(parts, view_id, modal_steps.notice(title, INTERNAL_TICKET.format(number=number)),
                                   "reply")
            return
        crowd = await collision.reply_opened(parts.ctx, actor, number)
    except UserFacingError as exc:
        await modal_steps.show(parts, view_id, modal_steps.notice(title, f":warning: {exc}"), "reply")
        return
    meta = json.dumps({"ticket": number, "channel": channel, "opened": parts.ctx.clock().isoformat()})
    modal = ticket_blocks.reply_modal(details.ticket, private_metadata=meta, callback_id=callback_id, initial_text=text,
                              subject_tag=parts.ctx.config.subject_tag, warnings=list(crowd.lines),
                              reply_by_dm=details.reply_by_dm, canned=await canned_pick.options(parts, actor))
    await modal_steps.show(parts, view_id, modal, "reply")
    for other in crowd.others:
        await parts.tell(other, channel, reply_opened_too(actor.name or actor.chat_user_id, number))
