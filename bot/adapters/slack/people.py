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
from bot.domain.errors import UserFacingError
from bot.handlers.context import Actor

log = logging.getLogger(__name__)

TTL_SECONDS = 600.0
NOBODY = {"user_not_found", "user_not_visible", "invalid_user"}  # users.info: no such person in this workspace


class NoSuchPerson(UserFacingError):
    """A user id Slack does not know (users.info `user_not_found`): never made an agent of."""


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

    async def person(self, user_id: str, fallback_name: str = "") -> Actor:
        """Someone named by another (an assignee): they must exist, so nobody is assigned to a phantom.

        users.info answers `user_not_found` for an id the workspace does not have
        (https://api.slack.com/methods/users.info); a deactivated account is no assignee either.
        """
        try:
            user = (await self.client.users_info(user=user_id)).get("user") or {}
        except SlackApiError as exc:
            if exc.response.get("error") in NOBODY:
                raise NoSuchPerson(f"no such person: <@{user_id}> is not in this Slack workspace") from None
            raise  # Slack busy or away: the backlog tries again, nobody is assigned meanwhile
        if user.get("deleted"):
            raise NoSuchPerson(f"<@{user_id}> has been deactivated in Slack; pick someone else")
        self._cache[user_id] = (time.monotonic() + TTL_SECONDS, self._read(user, fallback_name))
        return await self.actor(user_id, fallback_name)

    async def name_of(self, user_id: str) -> str:
        """A display name for a mention, or "" when Slack cannot say."""
        return (await self._profile(user_id, "")).name

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
        found = self._read(user, fallback_name)
        self._cache[user_id] = (time.monotonic() + TTL_SECONDS, found)
        return found

    @staticmethod
    def _read(user: dict[str, object], fallback_name: str) -> Profile:
        profile: dict[str, object] = user.get("profile") or {}  # type: ignore[assignment]
        name = profile.get("display_name") or profile.get("real_name") or user.get("real_name") or user.get("name") or fallback_name
        # The roster may name people by email: only an address Slack confirmed speaks for them.
        email = profile.get("email") if user.get("is_email_confirmed", True) is not False else None
        return Profile(str(name), str(email) if email else None)
