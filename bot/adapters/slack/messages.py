"""What people type in ticket threads: internal notes, experts pulled in, commands to the bot, reactions.

Every human message in a ticket's thread is stored as an internal note, and
nothing here can mail anyone: no prefix, capital letter or pasted mail changes
that. Only the Reply modal, `/ticket reply` and the "Send to customer" shortcut
reach the customer. A message that starts by mentioning the bot is a command
(`@tiketti close`); mentioning a colleague adds them to the ticket.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

from bot.adapters.commands import TicketCommand, UsageError, parse_ticket
from bot.adapters.slack import answers
from bot.adapters.slack.command import execute
from bot.adapters.slack.parts import SlackParts, mentioned, plain_text
from bot.domain.errors import UserFacingError
from bot.handlers import queries, tickets
from bot.handlers.context import Actor
from bot.handlers.permissions import Denied

log = logging.getLogger(__name__)

HUMAN_SUBTYPES = {None, "thread_broadcast", "file_share"}
CLAIM_REACTIONS = {"eyes"}
SOLVE_REACTIONS = {"white_check_mark", "heavy_check_mark", "ballot_box_with_check"}
# Verbs a mention in a thread understands; the ticket is the thread's own.
THREAD_VERBS = {"claim", "close", "reopen", "assign", "priority", "status", "show", "history", "help", "invite"}


def register(app: Any, parts: SlackParts) -> None:
    told = Once()

    @app.event("message")
    async def on_message(event: dict[str, Any], context: dict[str, Any], body: dict[str, Any]) -> None:
        bot = context.get("bot_user_id") or ""
        if _may_matter(event, bot):  # kept before the ack; most message events (our own posts) are not
            await parts.backlog.later(lambda: message(event, bot), "message", body)

    async def message(event: dict[str, Any], bot: str) -> None:
        subtype = event.get("subtype")
        if subtype == "message_changed":
            await _edited(parts, event, told)
        elif subtype == "message_deleted":
            await tickets.note_deleted(parts.ctx, parts.chat_ref(event["channel"], event.get("deleted_ts", "")))
        elif subtype in HUMAN_SUBTYPES and not event.get("bot_id"):
            await _note(parts, event, bot)

    @app.event("app_mention")
    async def on_mention(event: dict[str, Any], context: dict[str, Any], body: dict[str, Any]) -> None:
        bot = context.get("bot_user_id") or ""
        text = (event.get("text") or "").strip()
        if event.get("bot_id") or not text.startswith(f"<@{bot}>"):
            return  # a mention mid-sentence is part of a note, handled as one
        await parts.backlog.later(lambda: _command(parts, event, text.removeprefix(f"<@{bot}>").strip()), "mention",
                                  body)

    @app.event("reaction_added")
    async def on_reaction(event: dict[str, Any], body: dict[str, Any]) -> None:
        if (event.get("reaction") or "").split("::")[0] in CLAIM_REACTIONS | SOLVE_REACTIONS:
            await parts.backlog.later(lambda: reaction(event), "reaction", body)

    async def reaction(event: dict[str, Any]) -> None:
        item = event.get("item") or {}
        if item.get("type") != "message":
            return
        number = await parts.ticket_in(item.get("channel", ""), item.get("ts"))
        name = (event.get("reaction") or "").split("::")[0]
        if number is None or name not in CLAIM_REACTIONS | SOLVE_REACTIONS:
            return
        user = event["user"]
        try:
            actor = await parts.people.actor(user)
            if name in CLAIM_REACTIONS:
                await tickets.claim(parts.ctx, actor, number)
            else:
                await tickets.close(parts.ctx, actor, number)
        except UserFacingError as exc:
            await parts.tell(user, item.get("channel"), answers.text(f":warning: {exc}"))


def _may_matter(event: dict[str, Any], bot: str) -> bool:
    """Whether `message` below could do anything with this event: the bot's own posts and their updates,
    talk outside threads and commands to the bot (app_mention's) are not worth keeping."""
    subtype = event.get("subtype")
    if subtype == "message_changed":
        new = event.get("message") or {}
        return bool(new.get("ts")) and not new.get("bot_id")
    if subtype == "message_deleted":
        return True
    root, text = event.get("thread_ts"), (event.get("text") or "").strip()
    return (subtype in HUMAN_SUBTYPES and not event.get("bot_id") and bool(root) and root != event.get("ts")
            and not (bot and text.startswith(f"<@{bot}>")))


async def _note(parts: SlackParts, event: dict[str, Any], bot: str) -> None:
    channel, ts, root = event.get("channel", ""), event.get("ts", ""), event.get("thread_ts")
    if not root or root == ts:
        return  # talk in the channel itself is not about one ticket
    text = event.get("text") or ""
    if bot and text.strip().startswith(f"<@{bot}>"):
        return  # a command; app_mention handles it
    number = await parts.ticket_in(channel, root)
    if number is None:
        return
    user = event.get("user", "")
    actor = await parts.people.actor(user)
    body = plain_text(text) or ("(attachment)" if event.get("files") else "")
    try:
        await tickets.add_note(parts.ctx, actor, number, body, chat_ref=parts.chat_ref(channel, ts))
    except Denied as exc:  # not theirs to write on: not stored, and they alone are told why
        await parts.tell(user, channel, answers.text(f":no_entry: {exc}; this message is not part of #{number}"),
                         thread_ts=root)
        return
    except UserFacingError as exc:  # a retried event (already stored), or an empty message
        log.debug("slack: message %s not stored as a note: %s", ts, exc)
        return
    experts = mentioned(text, exclude={bot, user})
    if experts:
        try:
            await _invite(parts, actor, number, channel, root, experts)
        except UserFacingError as exc:  # the note stands; pulling them in was refused
            await parts.tell(user, channel, answers.text(f":warning: {exc}"), thread_ts=root)


class Once:
    """Remembers what was said, so a person hears of a refused edit once per message, not at every edit
    (or every redelivery of the same event). Bounded: the oldest are forgotten first."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._seen: OrderedDict[tuple[str, ...], None] = OrderedDict()

    def first(self, *key: str) -> bool:
        if key in self._seen:
            return False
        self._seen[key] = None
        if len(self._seen) > self.size:
            self._seen.popitem(last=False)
        return True


async def _edited(parts: SlackParts, event: dict[str, Any], told: Once) -> None:
    new = event.get("message") or {}
    if new.get("bot_id") or not new.get("ts"):
        return
    channel, user = event["channel"], new.get("user", "")
    actor = await parts.people.actor(user)
    try:
        await tickets.edit_note(parts.ctx, actor, parts.chat_ref(channel, new["ts"]), plain_text(new.get("text") or ""))
    except Denied as exc:  # their note, but no longer theirs to change: the stored note keeps its text
        log.info("slack: edit of %s by %s refused: %s", new["ts"], user, exc)
        if told.first(channel, new["ts"], user):
            await parts.tell(user, channel, answers.text(
                f":no_entry: Your edit was not applied: {exc}. The ticket keeps the note as it was, and later edits "
                "of this message will not be applied either."), thread_ts=new.get("thread_ts"))
    except UserFacingError as exc:  # an empty text, or a note that is gone
        log.debug("slack: edit of %s not applied: %s", new["ts"], exc)


async def _invite(parts: SlackParts, actor: Actor, number: int, channel: str, root: str, experts: list[str]) -> None:
    added = []
    for user in experts:
        if await tickets.add_collaborator(parts.ctx, actor, number, await parts.people.actor(user)):
            added.append(user)
    if added:
        summary = answers.context_summary(await queries.show(parts.ctx, actor, number), added)
        await parts.api.api.chat_postMessage(channel=channel, thread_ts=root, **summary)


async def _command(parts: SlackParts, event: dict[str, Any], text: str) -> None:
    channel, user = event.get("channel", ""), event.get("user", "")
    root = event.get("thread_ts")
    number = await parts.ticket_in(channel, root) if root else None
    verb, _, rest = text.partition(" ")
    verb = verb.lower() or "help"
    try:
        actor = await parts.people.actor(user)
        if verb == "help" or number is None:
            answer = answers.help_answer() if verb == "help" else answers.text(
                "Mention me inside a ticket's thread (`@tiketti close`), or use `/ticket` anywhere.")
        elif verb not in THREAD_VERBS:
            raise UsageError(f"I don't know '{verb}' here; try `@tiketti help`")
        elif verb == "invite":
            experts = mentioned(rest, exclude={user})
            if not experts:
                raise UsageError("usage: @tiketti invite @someone")
            await _invite(parts, actor, number, channel, root or "", experts)
            return
        else:
            cmd: TicketCommand = parse_ticket(f"{verb} {number} {rest}".strip())
            answer = await execute(parts, actor, cmd)
            if verb not in ("show", "history"):
                return  # the root shows the change; no need to say it twice
    except UserFacingError as exc:
        answer = answers.text(f":warning: {exc}")
    await parts.tell(user, channel, answer, thread_ts=root)
