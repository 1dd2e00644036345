"""Who acts: Slack user ids turned into the handlers' Actor, with every fact the policy decides on.

The Actor carries the person's name and verified email (users.info), the roster's user groups they
are in, and whether they are in the tickets channel or a team's channel (bot.adapters.slack.membership).
Every listener gets its Actor here, so no door can hand the core a person without facts. Profiles are
cached for a while: a click must not wait on users.info every time, and a failing users.info must not
stop the click (the id and memberships are enough to act). Memberships are never cached with the
profile: they are asked of Membership on every call, so joining or leaving takes effect at once.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.membership import Membership
from bot.handlers.context import Actor

log = logging.getLogger(__name__)

TTL_SECONDS = 600.0


@dataclass(frozen=True)
class Profile:
    name: str
    email: str | None


class People:
    def __init__(self, client: AsyncWebClient, membership: Membership) -> None:
        self.client = client
        self.membership = membership
        self._cache: dict[str, tuple[float, Profile]] = {}

    async def actor(self, user_id: str, fallback_name: str = "") -> Actor:
        profile = await self._profile(user_id, fallback_name)
        return Actor(user_id, profile.name, profile.email, groups=await self.membership.groups_of(user_id),
                     in_tickets_channel=await self.membership.in_channels(user_id))

    async def _profile(self, user_id: str, fallback_name: str) -> Profile:
        cached = self._cache.get(user_id)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        if not user_id:
            return Profile(fallback_name, None)
        try:
            user = (await self.client.users_info(user=user_id)).get("user") or {}
        except SlackApiError as exc:
            log.warning("slack: users.info for %s failed (%s); acting on the id alone", user_id, exc.response.get("error"))
            return Profile(fallback_name, None)
        profile = user.get("profile") or {}
        name = profile.get("display_name") or profile.get("real_name") or user.get("real_name") or user.get("name") or fallback_name
        # The roster may name people by email: only an address Slack confirmed speaks for them.
        email = profile.get("email") if user.get("is_email_confirmed", True) is not False else None
        found = Profile(str(name), str(email) if email else None)
        self._cache[user_id] = (time.monotonic() + TTL_SECONDS, found)
        return found
