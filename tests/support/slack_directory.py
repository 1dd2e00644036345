"""The fake Slack's workspace directory: who people are, which channels there are, who is in them.

Mixed into tests/support/fake_slack.FakeSlack. users.info, conversations.info,
conversations.members (cursor-paginated) and usergroups.users.list answer from
it as Slack does, with the documented errors; tests move people in and out of
channels with add_member / remove_member and then send the bot the signed
member_joined_channel / member_left_channel event (SlackRequests), as Slack would.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any


class SlackDirectory:
    bot_user_id: str
    users: dict[str, dict[str, Any]]
    channels: dict[str, str] | None  # id -> name; None accepts any channel

    def _init_directory(self, members: dict[str, Iterable[str]] | None, usergroups: dict[str, Iterable[str]] | None,
                        private: Iterable[str]) -> None:
        # channel -> its people in the order they joined (the bot is in every channel it posts to)
        self.members: dict[str, list[str]] = {c: list(dict.fromkeys(users)) for c, users in (members or {}).items()}
        self.private = set(private)  # private channels: invisible to the bot unless it is a member
        self.usergroups: dict[str, list[str]] = {g: list(users) for g, users in (usergroups or {}).items()}

    # --- who is where ------------------------------------------------------------------
    def channel_members(self, channel: str) -> list[str]:
        """A channel's members as conversations.members lists them: the bot, then people in joining order."""
        people = self.members.get(channel, [])
        if channel in self.private and self.bot_user_id not in people:
            return people
        return [self.bot_user_id, *(u for u in people if u != self.bot_user_id)]

    def add_member(self, channel: str, user: str) -> None:
        """`user` joins `channel` (send the bot member_joined_channel too: SlackRequests.member_joined_channel)."""
        if user not in (people := self.members.setdefault(channel, [])):
            people.append(user)

    def remove_member(self, channel: str, user: str) -> None:
        """`user` leaves `channel` (send the bot member_left_channel too)."""
        if user in (people := self.members.get(channel, [])):
            people.remove(user)

    # --- Web API methods ------------------------------------------------------------------
    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(args.get("user")))
        return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}

    def _conversation(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel"))
        if self.channels is not None and channel not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        name = (self.channels or {}).get(channel, "tickets")
        return {"ok": True, "channel": {"id": channel, "name": name, "is_channel": True, "is_member": True}}

    def _members(self, args: dict[str, Any]) -> dict[str, Any]:
        """conversations.members (https://api.slack.com/methods/conversations.members): user ids, by cursor.

        Errors as documented: channel_not_found (no such channel, or a private one the bot is not in:
        Slack does not show those), invalid_limit ("specify a limit value under 1000"), invalid_cursor.
        The last page's response_metadata.next_cursor is "". The docs list no not_in_channel here (a
        public channel's members are readable with channels:read); tests that want it use fail_next.
        """
        channel = str(args.get("channel") or "")
        if not channel or (self.channels is not None and channel not in self.channels):
            return {"ok": False, "error": "channel_not_found"}
        if channel in self.private and self.bot_user_id not in self.members.get(channel, []):
            return {"ok": False, "error": "channel_not_found"}
        try:
            limit = int(args.get("limit") or 100)  # "Optional, default=100"
        except ValueError:
            return {"ok": False, "error": "invalid_limit"}
        if not 1 <= limit <= 999:
            return {"ok": False, "error": "invalid_limit"}
        start = 0
        if cursor := args.get("cursor"):
            try:
                kind, _, offset = base64.b64decode(str(cursor), validate=True).decode().partition(":")
                start = int(offset) if kind == f"members-{channel}" else -1
            except ValueError:
                start = -1
            if start < 0:
                return {"ok": False, "error": "invalid_cursor"}
        everyone = self.channel_members(channel)
        page, end = everyone[start:start + limit], start + limit
        more = base64.b64encode(f"members-{channel}:{end}".encode()).decode() if end < len(everyone) else ""
        return {"ok": True, "members": page, "response_metadata": {"next_cursor": more}}

    def _usergroup_users(self, args: dict[str, Any]) -> dict[str, Any]:
        """usergroups.users.list (https://api.slack.com/methods/usergroups.users.list): one answer, no pages.

        no_such_subteam: "No usergroup found with the given Id".
        """
        group = self.usergroups.get(str(args.get("usergroup") or ""))
        if group is None:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": list(group)}
