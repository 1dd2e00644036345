"""Slack as a chat surface: what `bot.chat` asks of a platform, said with Block Kit and the Web API.

Every post goes through `SlackApi.post_once` under the key the chat layer gives it;
the key is stamped in the message's metadata, so a post that may have landed before
(a 5xx, a dropped connection, a crash after the post) is looked for by its key and
never doubled. Roots are rendered again and sent with chat.update. Which thread is
behind, where a notice goes and when to retry are decided in `bot.chat`; this
module renders (`ticket_blocks`, `sla_blocks`, `notices`) and keeps Slack's rules: pacing
per channel (in `client`) and which of Slack's errors no retry can mend.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.adapters.slack import ticket_blocks
from bot.adapters.slack.client import SlackApi, SlackPostFailed
from bot.adapters.slack.limits import mrkdwn_line
from bot.adapters.slack.notices import kept_notice
from bot.adapters.slack.refusals import refusal
from bot.chat.surface import Hop, MoveNote, Place, Undeliverable
from bot.handlers.context import Context
from bot.handlers.snapshots import MessageView, TicketView

log = logging.getLogger(__name__)

PLATFORM = "slack"

# chat.postMessage errors that say the post can never succeed as asked: the channel is gone, archived
# or closed to the bot, the thread is gone, or the payload itself is refused
# (https://api.slack.com/methods/chat.postMessage, "Errors"). Anything else (internal_error, fatal_error,
# service_unavailable, a revoked token an operator may yet replace) is worth trying again.
PERMANENT = frozenset({
    "channel_not_found", "not_in_channel", "is_archived", "thread_not_found", "cannot_reply_to_message",
    "restricted_action", "restricted_action_read_only_channel", "restricted_action_thread_only_channel",
    "restricted_action_non_threadable_channel", "ekm_access_denied", "team_access_not_granted",
    "msg_too_long", "no_text", "invalid_blocks", "too_many_attachments", "invalid_metadata_format",
    "metadata_too_large", "message_limit_exceeded",
})


def default_link(channel: str, ts: str) -> str:
    """A thread's address before the workspace is known (scripts and tests that never call auth.test)."""
    return f"https://slack.com/archives/{channel}/p{ts.replace('.', '')}"


class SlackSurface:
    """`bot.chat.surface.ChatSurface` for Slack: the tickets channel is the default, a thread's ref is its root's ts."""

    platform = PLATFORM

    def __init__(self, ctx: Context, api: SlackApi, channel: str, *,
                 link: Callable[[str, str], str] = default_link) -> None:
        """`channel` is the tickets channel; `link` turns (channel, ts) into a permalink (`SlackParts.link`)."""
        self.ctx, self.api = ctx, api
        self.default_channel = channel
        self._link = link

    def link(self, channel: str, root: str) -> str:
        return self._link(channel, root)

    def _root(self, ticket: TicketView, moved_to: tuple[str, str | None] | None = None) -> dict[str, Any]:
        wf = self.ctx.config.workflow
        return ticket_blocks.root_message(ticket, moved_to=moved_to, categories=wf.categories,
                                  teams=[t.name for t in wf.teams], now=self.ctx.clock(),
                                  macros=wf.macros_for(ticket.team))

    # ---- a ticket's thread -----------------------------------------------------------------

    async def post_root(self, channel: str, ticket: TicketView, *, key: str, maybe_posted: bool,
                        replaces: str | None = None) -> str:
        """The root, found by `key` when it may be there already; a root left behind by a move (`replaces`)
        carries another key, so the search cannot take it for this one."""
        return await self.api.post_once(channel, self._root(ticket), key=key, maybe_posted=maybe_posted)

    async def update_root(self, channel: str, root: str, ticket: TicketView, *, moved: MoveNote | None = None) -> None:
        """Render the root again; a root left behind says where the ticket went and loses its controls."""
        moved_to = (moved.team, moved.link) if moved is not None else None
        await self.api.api.chat_update(channel=channel, ts=root, **self._root(ticket, moved_to))

    async def post_message(self, channel: str, root: str, message: MessageView, *, key: str,
                           maybe_posted: bool) -> str:
        """The message in the thread, over several posts in a row when one Slack message cannot hold its text
        (each part under its own key, so a retry finds the parts already there); a text longer than the
        thread shows (MAX_BODY_CHARS) also goes up whole, as a file. The first part's ts is the message's."""
        first, *rest = ticket_blocks.thread_messages(message)
        ts = await self.api.post_once(channel, first, key=key, thread_ts=root, maybe_posted=maybe_posted)
        for i, part in enumerate(rest, start=2):
            await self.api.post_once(channel, part, key=f"{key}-part-{i}", thread_ts=root, maybe_posted=maybe_posted)
        await self._upload_full_text(channel, root, message)
        return ts

    async def _upload_full_text(self, channel: str, root: str, message: MessageView) -> None:
        full = ticket_blocks.thread_message_file(message)
        if full is None:
            return
        try:
            await self.api.api.files_upload_v2(channel=channel, thread_ts=root, filename=full.filename,
                                               title=full.title, content=full.content.encode("utf-8"))
        except SlackApiError as exc:  # the head is in the thread; the whole text stays in `/ticket show`
            log.warning("slack: attaching the full text of message %d failed: %s", message.id, _reason(exc))

    async def post_history(self, channel: str, root: str, others: Sequence[TicketView], links: Mapping[int, str], *,
                           key: str, maybe_posted: bool) -> str:
        return await self.api.post_once(channel, ticket_blocks.customer_history(others, dict(links)), key=key,
                                        thread_ts=root, maybe_posted=maybe_posted)

    async def post_move(self, channel: str, root: str, note: MoveNote, *, key: str) -> str:
        """Always looked for first: the move is said again after any failure before it was recorded."""
        return await self.api.post_once(channel, ticket_blocks.moved_notice(move_words(note)), key=key, thread_ts=root,
                                        maybe_posted=True)

    # ---- notices and people ----------------------------------------------------------------

    async def post_notice(self, place: Place, notice: Any, *, key: str, maybe_posted: bool) -> str:
        """The notice at `place`: in the thread `place.root`, or at the channel's top level (a link to the thread)."""
        message = kept_notice(notice, self.ctx.clock(), mention=place.mention, link=place.link)
        try:
            return await self.api.post_once(place.channel, message, key=key, thread_ts=place.root,
                                            maybe_posted=maybe_posted)
        except SlackPostFailed as exc:
            if exc.error in PERMANENT:
                raise Undeliverable(f"chat.postMessage in {place.channel}: {exc.error}") from exc
            raise
        except SlackApiError as exc:  # looking for an earlier attempt (conversations.history / .replies)
            if (error := _error(exc)) in PERMANENT:
                raise Undeliverable(f"looking for {key} in {place.channel}: {error}") from exc
            raise

    def refused(self, exc: Exception) -> Undeliverable | None:
        """Slack's errors that no retry mends, in words agents can act on (`refusals.REFUSALS`)."""
        return refusal(exc)

def move_words(note: MoveNote) -> str:
    """What a thread says of a move (our own mrkdwn: the team is escaped, the links are ours)."""
    team, n = mrkdwn_line(note.team, 100), f"#{note.number}" if note.number is not None else "the ticket"
    if note.hop == Hop.ARRIVED:
        return f"Moved here from an earlier thread: <{note.link}|{n}>"
    if note.hop == Hop.DEPARTED:
        return f"Moved to {team}: <{note.link}|continue in {n}'s new thread>"
    return f"Moved to {team}: this thread is no longer updated"


def _error(exc: SlackApiError) -> str | None:
    data = exc.response.data
    return data.get("error") if isinstance(data, dict) else None


def _reason(exc: SlackApiError) -> str:
    return f"{exc.response.status_code} {_error(exc)}"
