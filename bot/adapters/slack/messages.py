"""Slack's side of what people type in ticket threads: events read into `bot.chat.notes`, answers sent back.

Every human message in a ticket's thread is stored as an internal note, and
nothing here can mail anyone: no prefix, capital letter or pasted mail changes
that. Only the Reply modal, `/ticket reply` and the "Send to customer" shortcut
reach the customer. What a line, an edit or a reaction means is decided once for
every platform in `bot.chat.notes`; this module reads Slack's events (ids, text,
mentions, edits, reactions) and answers with Slack's calls (ephemeral messages,
a Block Kit summary). A message that starts by mentioning the bot is a command
(`@tiketti close`), served here from the shared `/ticket` grammar.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from bot.adapters.commands import TicketCommand, UsageError, parse_ticket
from bot.adapters.slack import answers
from bot.adapters.slack.command import execute
from bot.adapters.slack.escaping import SLACK
from bot.adapters.slack.parts import PLATFORM, SlackParts, mentioned, plain_text
from bot.chat import notes
from bot.chat.notes import Edit, Line, Once, Reaction, Tone
from bot.domain.errors import UserFacingError
from bot.handlers import tickets
from bot.handlers.context import Actor
from bot.handlers.snapshots import TicketDetails

log = logging.getLogger(__name__)

HUMAN_SUBTYPES = {None, "thread_broadcast", "file_share"}
# Verbs a mention in a thread understands; the ticket is the thread's own.
THREAD_VERBS = {"claim", "close", "reopen", "assign", "priority", "status", "show", "history", "help", "invite"}
MARK = {Tone.DENIED: ":no_entry:", Tone.WARNING: ":warning:"}


class SlackThread:
    """`notes.ThreadPort` for one Slack thread: ephemeral answers in it, posts under its root."""

    private_in_thread = True

    def __init__(self, parts: SlackParts, channel: str, root: str | None) -> None:
        self.parts, self.channel, self.root = parts, channel, root

    async def actor_of(self, user: str) -> Actor:
        return await self.parts.people.actor(user)

    async def tell(self, user: str, text: str, tone: Tone) -> None:
        await self.parts.tell(user, self.channel, answers.text(f"{MARK[tone]} {text}"), thread_ts=self.root)

    async def post_pulled_in(self, details: TicketDetails, users: Sequence[str]) -> None:
        summary = answers.context_summary(details, users)
        await self.parts.api.api.chat_postMessage(channel=self.channel, thread_ts=self.root, **summary)


def bot_mention(bot: str) -> str | None:
    """How a message mentioning the bot starts (`<@U0BOT>`); None when the bot's id is not known."""
    return f"<@{bot}>" if bot else None


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
            await _note(parts, event, bot, told)

    @app.event("app_mention")
    async def on_mention(event: dict[str, Any], context: dict[str, Any], body: dict[str, Any]) -> None:
        command = notes.command_in(event.get("text") or "", bot_mention(context.get("bot_user_id") or ""))
        if event.get("bot_id") or command is None:
            return  # a mention mid-sentence is part of a note, handled as one
        await parts.backlog.later(lambda: _command(parts, event, command, told), "mention", body)

    @app.event("reaction_added")
    async def on_reaction(event: dict[str, Any], body: dict[str, Any]) -> None:
        if notes.reaction_means(_emoji(event)) is not None:
            await parts.backlog.later(lambda: reaction(event), "reaction", body)

    async def reaction(event: dict[str, Any]) -> None:
        item = event.get("item") or {}
        if item.get("type") != "message" or not item.get("ts"):
            return
        channel = item.get("channel", "")
        await notes.reacted(parts.ctx, Reaction(PLATFORM, channel, item["ts"], event["user"], _emoji(event)),
                            SlackThread(parts, channel, None), told)


def _emoji(event: dict[str, Any]) -> str:
    """A reaction's emoji without its skin tone (`thumbsup::skin-tone-2`)."""
    return (event.get("reaction") or "").split("::")[0]


def _may_matter(event: dict[str, Any], bot: str) -> bool:
    """Whether `message` below could do anything with this event: the bot's own posts and their updates,
    talk outside threads and commands to the bot (app_mention's) are not worth keeping."""
    subtype = event.get("subtype")
    if subtype == "message_changed":
        new = event.get("message") or {}
        return bool(new.get("ts")) and not new.get("bot_id")
    if subtype == "message_deleted":
        return True
    root, text = event.get("thread_ts"), event.get("text") or ""
    return (subtype in HUMAN_SUBTYPES and not event.get("bot_id") and bool(root) and root != event.get("ts")
            and notes.command_in(text, bot_mention(bot)) is None)


async def _note(parts: SlackParts, event: dict[str, Any], bot: str, told: Once) -> None:
    channel, ts, root = event.get("channel", ""), event.get("ts", ""), event.get("thread_ts")
    if not root or root == ts:
        return  # talk in the channel itself is not about one ticket
    text = event.get("text") or ""
    line = Line(PLATFORM, channel, root, event.get("user", ""),
                plain_text(text) or ("(attachment)" if event.get("files") else ""), parts.chat_ref(channel, ts),
                mentions=mentioned(text, exclude={bot}), bot_mention=bot_mention(bot))
    await notes.note_typed(parts.ctx, line, SlackThread(parts, channel, root), told)


async def _edited(parts: SlackParts, event: dict[str, Any], told: Once) -> None:
    new = event.get("message") or {}
    if new.get("bot_id") or not new.get("ts"):
        return
    channel = event["channel"]
    edit = Edit(new.get("user", ""), parts.chat_ref(channel, new["ts"]), plain_text(new.get("text") or ""),
                root=new.get("thread_ts"))
    await notes.note_edited(parts.ctx, edit, SlackThread(parts, channel, edit.root), told)


async def _command(parts: SlackParts, event: dict[str, Any], text: str, told: Once) -> None:
    channel, user = event.get("channel", ""), event.get("user", "")
    root = event.get("thread_ts")
    number = await notes.ticket_of(parts.ctx, PLATFORM, channel, root)
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
            await notes.pull_in(parts.ctx, actor, number, experts, SlackThread(parts, channel, root), told,
                                root=root or "")
            return
        else:
            # Event text is escaped like /ticket's: a person is a <@U…> mention, the rest is unescaped.
            cmd: TicketCommand = parse_ticket(f"{verb} {number} {rest}".strip(), SLACK)
            answer = await execute(parts, actor, cmd)
            if verb not in ("show", "history"):
                return  # the root shows the change; no need to say it twice
    except UserFacingError as exc:
        answer = answers.text(f":warning: {exc}")
    await parts.tell(user, channel, answer, thread_ts=root)
