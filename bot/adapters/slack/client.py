"""Talking to Slack's Web API within its rules: 429 Retry-After, 5xx retries, posts made once.

Two slack_sdk clients share one token. `api` retries on its own (rate limits,
server errors, dropped connections) and serves every call that is safe to
repeat: chat.update, views.open, users.info... `post_once` is the only way we
create messages, because a chat.postMessage that failed with a 5xx or a dropped
connection may still have been posted: before trying again it looks for the
message by the key stamped in its metadata, so a retry never doubles a root.
A 429 closes the channel's gate for every worker until Retry-After has passed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict, deque
from collections.abc import Mapping
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot import metrics

log = logging.getLogger(__name__)

METADATA_EVENT = "tiketti_post"
UNCERTAIN_TRIES = 5  # 5xx / connection failures of one post before the caller gives up for now


class SlackPostFailed(Exception):
    """A message could not be posted now; the caller keeps the work and tries later.

    `error` is Slack's error code when Slack answered with one ("channel_not_found"): the
    caller tells the errors retrying cannot mend from those it can.
    """

    def __init__(self, message: str, error: str | None = None) -> None:
        super().__init__(message)
        self.error = error


class ChannelGate:
    """Per-channel pacing of posts: Slack limits chat.postMessage per channel, and says so only by 429.

    Unpaced until the first 429; then every worker waits out Retry-After, and posts are spaced a
    little under the rate that got through in the second before it, probing slowly faster with each
    success (the next 429 corrects it). Hitting the limit and then sitting out a whole Retry-After
    second drained at 56-69% of the limit in bench/slack.py; pacing keeps close to it.
    """

    PROBE = 0.99995  # each success shortens the interval by 0.005%: a raised limit is found again, slowly
    MARGIN = 0.98  # pace a little under what got through: every 429 costs a whole Retry-After

    def __init__(self) -> None:
        self._until: dict[str, float] = {}
        self._next: dict[str, float] = {}
        self._interval: dict[str, float] = {}
        self._recent: dict[str, deque[float]] = defaultdict(deque)

    async def wait(self, channel: str) -> None:
        while (delay := max(self._until.get(channel, 0.0), self._next.get(channel, 0.0)) - time.monotonic()) > 0:
            await asyncio.sleep(delay)
        if (interval := self._interval.get(channel)) is not None:  # take the slot; no await since the check
            self._next[channel] = time.monotonic() + interval

    def posted(self, channel: str) -> None:
        now, recent = time.monotonic(), self._recent[channel]
        recent.append(now)
        while recent and recent[0] < now - 1.0:
            recent.popleft()
        if channel in self._interval:
            self._interval[channel] *= self.PROBE

    def close_for(self, channel: str, seconds: float) -> None:
        now = time.monotonic()
        self._until[channel] = max(self._until.get(channel, 0.0), now + seconds)
        recent = self._recent[channel]
        while recent and recent[0] < now - 1.0:
            recent.popleft()
        if recent:  # pace under what got through; a 429 with nothing through says nothing of the rate
            self._interval[channel] = 1.0 / (self.MARGIN * len(recent))


class CountingWebClient(AsyncWebClient):
    """Every Web API method goes through api_call: counting its SlackApiErrors here sees all of them."""

    async def api_call(self, api_method: str, **kwargs: Any) -> AsyncSlackResponse:  # type: ignore[override]
        try:
            return await super().api_call(api_method, **kwargs)
        except SlackApiError as exc:
            error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
            metrics.SLACK_API_ERRORS.labels(api_method, str(error or f"http_{exc.response.status_code}")).inc()
            raise


class SlackApi:
    def __init__(self, token: str, base_url: str, *, timeout: int = 30) -> None:
        base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.api = CountingWebClient(token=token, base_url=base_url, timeout=timeout, retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=3),
            AsyncRateLimitErrorRetryHandler(max_retry_count=5),
            AsyncServerErrorRetryHandler(max_retry_count=3),
        ])
        self._poster = CountingWebClient(token=token, base_url=base_url, timeout=timeout, retry_handlers=[])
        self.gate = ChannelGate()
        self.retry_base = 0.5  # seconds before the first retry of an uncertain post; doubles, capped at 30

    async def post_once(self, channel: str, message: Mapping[str, Any], *, key: str, thread_ts: str | None = None,
                        maybe_posted: bool = False) -> str:
        """Post `message` and return its ts; if a message with `key` is already there, return that one's."""
        if maybe_posted and (found := await self.find_posted(channel, key, thread_ts)):
            log.info("slack: %s was already posted (ts %s); not posting again", key, found)
            return found
        uncertain = 0
        while True:
            await self.gate.wait(channel)
            try:
                resp = await self._poster.chat_postMessage(
                    channel=channel, thread_ts=thread_ts, unfurl_links=False, unfurl_media=False,
                    metadata={"event_type": METADATA_EVENT, "event_payload": {"key": key}}, **message)
                self.gate.posted(channel)
                return str(resp["ts"])
            except SlackApiError as exc:
                status = exc.response.status_code
                if status == 429:
                    self.gate.close_for(channel, _retry_after(exc.response.headers))
                    continue
                if status < 500:
                    error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
                    raise SlackPostFailed(f"chat.postMessage: {error or f'HTTP {status}'}", error) from exc
                reason = f"HTTP {status}"
            except (TimeoutError, aiohttp.ClientError) as exc:
                reason = type(exc).__name__
            uncertain += 1
            if uncertain > UNCERTAIN_TRIES:
                raise SlackPostFailed(f"chat.postMessage kept failing ({reason})")
            await asyncio.sleep(min(30.0, self.retry_base * 2 ** (uncertain - 1)))
            # The failed call may have posted after all: look before posting again.
            if found := await self.find_posted(channel, key, thread_ts):
                return found

    async def find_posted(self, channel: str, key: str, thread_ts: str | None) -> str | None:
        """The ts of our message stamped with `key`: among the thread's replies, or the channel's roots."""
        cursor: str | None = None
        for _ in range(20):  # at most 20 pages back: older roots are not the ones we just tried
            if thread_ts:
                resp = await self.api.conversations_replies(channel=channel, ts=thread_ts, cursor=cursor,
                                                            include_all_metadata=True, limit=200)
            else:
                resp = await self.api.conversations_history(channel=channel, cursor=cursor,
                                                            include_all_metadata=True, limit=200)
            for message in resp.get("messages") or []:
                meta = message.get("metadata") or {}
                if meta.get("event_type") == METADATA_EVENT and (meta.get("event_payload") or {}).get("key") == key:
                    return str(message["ts"])
            cursor = (resp.get("response_metadata") or {}).get("next_cursor") or None
            if not resp.get("has_more") or not cursor:
                return None
        return None


def _retry_after(headers: Mapping[str, Any]) -> float:
    for name, value in headers.items():
        if name.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return max(0.0, float(raw))
            except (TypeError, ValueError):
                break
    return 1.0
