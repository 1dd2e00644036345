"""What every Slack listener needs: the core, the Web API, who is who, and which thread is which ticket."""

from __future__ import annotations

import html
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.adapters.slack.blocks import pages
from bot.adapters.slack.client import SlackApi
from bot.adapters.slack.people import People
from bot.adapters.slack.work import Backlog
from bot.handlers import threads
from bot.handlers.context import Context

log = logging.getLogger(__name__)

PLATFORM = "slack"
MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")


@dataclass
class SlackParts:
    ctx: Context
    api: SlackApi
    people: People
    channel: str  # the tickets channel
    workspace_url: str = "https://slack.com/"
    backlog: Backlog = field(default_factory=Backlog)
    _bot_user_id: str | None = field(default=None, repr=False)

    def chat_ref(self, channel: str, ts: str) -> str:
        return f"{PLATFORM}:{channel}:{ts}"

    async def ticket_in(self, channel: str, root_ts: str | None) -> int | None:
        """The ticket whose thread has this root, if any."""
        if not root_ts:
            return None
        return await threads.ticket_for_thread(self.ctx, PLATFORM, channel, root_ts)

    def link(self, channel: str, ts: str) -> str:
        return f"{self.workspace_url.rstrip('/')}/archives/{channel}/p{ts.replace('.', '')}"

    async def thread_link(self, number: int) -> str | None:
        ref = await threads.thread_of(self.ctx, PLATFORM, number)
        return self.link(ref.channel, ref.root_ref) if ref else None

    async def tell(self, user: str, channel: str | None, message: dict[str, Any], thread_ts: str | None = None) -> None:
        """An ephemeral message: only `user` sees it, in as many messages as Slack needs (`blocks.pages`).
        Never raises: this is how errors are shown."""
        try:
            for page in pages(message):
                await self.api.api.chat_postEphemeral(channel=channel or self.channel, user=user, thread_ts=thread_ts,
                                                      **page)
        except SlackApiError as exc:
            log.warning("slack: could not tell %s (%s)", user, exc.response.get("error"))


def plain_text(slack_text: str) -> str:
    """A Slack message as plain text for mail: links unwrapped, entities decoded."""
    def link(match: re.Match[str]) -> str:
        url, label = match.group(1), match.group(2)
        target = url.removeprefix("mailto:")
        return target if not label or label == target else f"{label} ({target})"

    return html.unescape(_LINK.sub(link, slack_text))


def mentioned(text: str, *, exclude: set[str]) -> list[str]:
    """User ids mentioned in a message, in order, once each."""
    seen: list[str] = []
    for user in MENTION.findall(text or ""):
        if user not in exclude and user not in seen:
            seen.append(user)
    return seen
