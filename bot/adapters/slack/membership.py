"""Who is in the tickets channels and in the roster's user groups, as Slack says: facts the policy needs.

Without a roster, the members of the tickets channel (and of the teams' channels) are the helpdesk's
agents (bot.domain.access); a roster may name Slack user groups (S…). Asking Slack on every click would
be slow and rate-limited, so each channel's members and each group's users are kept in memory: loaded
on first need, loaded again once older than REFRESH_SECONDS, and changed at once by Slack's
member_joined_channel / member_left_channel / subteam_members_changed events, so leaving the channel
revokes now, not at the next refresh. A failed load is logged and the members known before are kept
(a Slack hiccup must neither make every agent a stranger nor let anyone in); with nothing loaded yet,
nobody is a member: deny by default.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

REFRESH_SECONDS = 300.0  # a member removed while we missed the event is still dropped within this
RETRY_SECONDS = 30.0  # after a failed load, keep what we knew this long before asking again
PAGE = 200  # conversations.members: Slack recommends "no more than 200 results at a time"
MAX_PAGES = 200
USER_GROUP = re.compile(r"^S[A-Z0-9]{2,}$")  # Slack user group ("subteam") ids: S0614TZR7

HINTS = {
    "not_in_channel": "invite the bot to it (/invite @tiketti)",
    "channel_not_found": "a private channel the bot is not in, or not a channel id (C…/G…)",
    "missing_scope": "add the scope named in config/slack-manifest.yaml and reinstall the app",
    "no_such_subteam": "no such user group: check the S… id in the workflow file's roster",
    "plan_upgrade_required": "user groups need a paid Slack plan; name people by user id or email instead",
}

Load = Callable[[], Awaitable[set[str]]]
Clock = Callable[[], float]


class MemberSet:
    """One channel's or one user group's members, loaded from Slack and kept current."""

    def __init__(self, what: str, load: Load, *, clock: Clock, refresh: float, retry: float) -> None:
        self.what, self._load, self._clock = what, load, clock
        self._refresh, self._retry = refresh, retry
        self._members: set[str] | None = None  # None: never loaded
        self._fresh_until = 0.0
        self._lock = asyncio.Lock()
        self._pending: list[tuple[str, bool]] | None = None  # changes heard while a load runs

    async def has(self, user: str) -> bool:
        if self._fresh_until <= self._clock():
            await self._reload()
        return self._members is not None and user in self._members

    def change(self, user: str, joined: bool) -> None:
        """A membership event: applied now, and again on top of a load that started before it."""
        if self._pending is not None:
            self._pending.append((user, joined))
        if self._members is not None:
            (self._members.add if joined else self._members.discard)(user)

    def expire(self) -> None:
        self._fresh_until = 0.0

    async def _reload(self) -> None:
        async with self._lock:  # a burst of clicks waits for one load, not one load each
            if self._fresh_until > self._clock():
                return
            self._pending = []
            try:
                loaded = await self._load()
            except Exception as exc:  # any failure: keep what we knew, try again a little later
                self._fresh_until = self._clock() + self._retry
                error = exc.response.get("error") if isinstance(exc, SlackApiError) else type(exc).__name__
                kept = "nobody yet" if self._members is None else f"the {len(self._members)} known before"
                log.warning("slack: could not load the members of %s (%s%s); keeping %s", self.what, error,
                            f": {HINTS[error]}" if error in HINTS else "", kept)
                return
            finally:
                pending, self._pending = self._pending or [], None
            for user, joined in pending:
                (loaded.add if joined else loaded.discard)(user)
            self._members = loaded
            self._fresh_until = self._clock() + self._refresh


class Membership:
    """The channels whose members are agents by default, and the user groups the roster names.

    `channels` and `group_names` are asked each time, so a workflow read again is followed.
    """

    def __init__(self, client: AsyncWebClient, channels: Callable[[], Iterable[str]],
                 group_names: Callable[[], Iterable[str]], *, clock: Clock = time.monotonic,
                 refresh: float = REFRESH_SECONDS, retry: float = RETRY_SECONDS) -> None:
        self.client, self._channels, self._group_names = client, channels, group_names
        self._clock, self._refresh, self._retry = clock, refresh, retry
        self._sets: dict[tuple[str, str], MemberSet] = {}

    async def in_channels(self, user: str) -> bool:
        """A member of the tickets channel or of any team's channel."""
        for channel in dict.fromkeys(c for c in self._channels() if c):
            if await self._channel(channel).has(user):
                return True
        return False

    async def groups_of(self, user: str) -> frozenset[str]:
        """The roster's user groups (as the roster spells them) that `user` is in."""
        held = set()
        for name in self.user_groups():
            if await self._group(name.upper()).has(user):
                held.add(name)
        return frozenset(held)

    def user_groups(self) -> list[str]:
        return sorted({n.strip() for n in self._group_names() if USER_GROUP.match(n.strip().upper())})

    # --- Slack's membership events ---------------------------------------------------------
    def joined(self, channel: str, user: str) -> None:
        if (key := ("channel", channel)) in self._sets:
            self._sets[key].change(user, True)

    def left(self, channel: str, user: str) -> None:
        if (key := ("channel", channel)) in self._sets:
            self._sets[key].change(user, False)

    def group_changed(self, group: str, added: Iterable[str], removed: Iterable[str]) -> None:
        if (members := self._sets.get(("group", group.upper()))) is None:
            return
        for user in added:
            members.change(user, True)
        for user in removed:
            members.change(user, False)

    def forget(self) -> None:
        """Load everything again on next use (the bot joined a channel, or a test moved the clock)."""
        for members in self._sets.values():
            members.expire()

    # --- loading ------------------------------------------------------------------------
    def _channel(self, channel: str) -> MemberSet:
        return self._set("channel", channel, lambda: self._channel_members(channel))

    def _group(self, group: str) -> MemberSet:
        return self._set("group", group, lambda: self._group_users(group))

    def _set(self, kind: str, ident: str, load: Load) -> MemberSet:
        key = (kind, ident)
        if key not in self._sets:
            self._sets[key] = MemberSet(f"{kind} {ident}", load, clock=self._clock, refresh=self._refresh,
                                        retry=self._retry)
        return self._sets[key]

    async def _channel_members(self, channel: str) -> set[str]:
        """conversations.members, every page (cursor pagination; an empty next_cursor ends it)."""
        members: set[str] = set()
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            resp = await self.client.conversations_members(channel=channel, limit=PAGE, cursor=cursor)
            members.update(str(m) for m in resp.get("members") or [])
            cursor = (resp.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return members
        raise RuntimeError(f"more than {MAX_PAGES} pages of members")

    async def _group_users(self, group: str) -> set[str]:
        """usergroups.users.list: the whole group in one answer (the method is not paginated)."""
        resp = await self.client.usergroups_users_list(usergroup=group)
        return {str(u) for u in resp.get("users") or []}


def register(app: Any, members: Membership) -> None:
    """Slack's membership events keep the sets current at once (config/slack-manifest.yaml subscribes to them)."""

    @app.event("member_joined_channel")
    async def on_joined(event: dict[str, Any]) -> None:
        members.joined(event["channel"], event["user"])

    @app.event("member_left_channel")
    async def on_left(event: dict[str, Any]) -> None:
        members.left(event["channel"], event["user"])

    @app.event("subteam_members_changed")
    async def on_group_changed(event: dict[str, Any]) -> None:
        members.group_changed(event["subteam_id"], event.get("added_users") or [], event.get("removed_users") or [])
