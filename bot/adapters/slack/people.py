"""Who clicked: Slack user ids turned into the handlers' Actor, with name and email from users.info.

Agents are created on first use from their Slack profile and matched by email to
an agent record that exists already. Profiles are cached for a while: a click
must not wait on users.info every time, and a failing users.info must not stop
the click (the id alone is enough to act).
"""

from __future__ import annotations

import logging
import time

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.handlers.context import Actor

log = logging.getLogger(__name__)

TTL_SECONDS = 600.0


class People:
    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client
        self._cache: dict[str, tuple[float, Actor]] = {}

    async def actor(self, user_id: str, fallback_name: str = "") -> Actor:
        cached = self._cache.get(user_id)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        try:
            user = (await self.client.users_info(user=user_id)).get("user") or {}
        except SlackApiError as exc:
            log.warning("slack: users.info for %s failed (%s); acting on the id alone", user_id, exc.response.get("error"))
            return Actor(user_id, fallback_name)
        profile = user.get("profile") or {}
        name = profile.get("display_name") or profile.get("real_name") or user.get("real_name") or user.get("name") or fallback_name
        actor = Actor(user_id, str(name), profile.get("email") or None)
        self._cache[user_id] = (time.monotonic() + TTL_SECONDS, actor)
        return actor
