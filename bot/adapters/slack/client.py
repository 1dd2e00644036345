"""Talking to Slack's Web API within its rules: 429 Retry-After, 5xx retries, posts made once.

Two slack_sdk clients share one token. `api` retries on its own (rate limits,
server errors, dropped connections) and serves every call that is safe to
repeat: chat.update, views.open, users.info... `post_once` is the only way we
create messages, because a chat.postMessage that failed with a 5xx or a dropped
connection may still have been posted: before trying again it looks for the
message by the key stamped in its metadata, so a retry never doubles a root.
Posts are paced per channel at Slack's documented rate, and a 429 pauses them until
Retry-After has passed (`ChannelGate`).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import time
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
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
# Per channel: "1 message per second" (api.slack.com/methods/chat.postMessage), paced 3 % under it:
# a limit counted over any one second refuses a post that arrives a few ms early, and each refusal
# costs a whole Retry-After second.
POSTS_PER_SECOND = 0.97
SENT_MEMORY = 10.0  # seconds of send times kept: a 429 answered late is still judged against its second
BURST = 3  # "bursts over that limit for short periods": a few posts at once, then the rate


class SlackPostFailed(Exception):
    """A message could not be posted now; the caller keeps the work and tries later.

    `error` is Slack's error code when Slack answered with one ("channel_not_found"): the
    caller tells the errors retrying cannot mend from those it can.
    """

    def __init__(self, message: str, error: str | None = None) -> None:
        super().__init__(message)
        self.error = error


class ChannelGate:
    """Pacing of chat.postMessage: Slack's documented rate per channel, and Retry-After honoured for all.

    Slack allows "1 message per second to a specific channel", with short bursts over it
    (https://api.slack.com/methods/chat.postMessage, Rate limiting), and answers 429 + Retry-After
    for that limit but also for the workspace-wide one and for limits of its own choosing
    (https://api.slack.com/docs/rate-limits); the answer does not say which. So:

    - each channel has a token bucket filling at `per_second` up to `burst`: a backlog drains at the
      documented rate from the first post, with no 429 needed to find it. Posts wait in line for
      their turns, roots before thread posts;
    - a 429 pauses every channel's posts until Retry-After has passed (it may be the workspace's);
    - a 429 while the channel was above its rate (another post was sent in the second before) may be
      the channel's own: its bucket is emptied, so after the pause it goes on at the rate, not in a
      burst. A 429 that came while we kept to the rate was someone else's limit: the refused post
      is given its token back, so the channel is at full pace again the moment the pause ends.

    Nothing is learnt from a 429 beyond its pause: the old gate lowered its pace on every 429 and
    recovered by 0.005 % per success, and random 429s it had not caused held it at a third of the
    rate for minutes. aiolimiter's leaky bucket paces well but can neither pause for a Retry-After
    nor take back a refused post, hence this small bucket.
    """

    def __init__(self, per_second: float = POSTS_PER_SECOND, burst: int = BURST,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.per_second, self.burst, self._clock = per_second, burst, clock
        self._tokens: dict[str, float] = {}
        self._filled_at: dict[str, float] = {}
        self._sent: dict[str, deque[float]] = defaultdict(deque)  # when the channel's recent posts were sent
        self._paused_until = 0.0
        self._lines: dict[str, list[tuple[int, int]]] = defaultdict(list)  # who waits, in turn order
        self._order = itertools.count()
        self._changed: dict[str, asyncio.Event] = {}  # set when a channel's line changed

    async def wait(self, channel: str, *, first: bool = False) -> float:
        """Wait for the channel's turn and take it; returns the time taken, to give to `refused` on a 429.

        Posts take their turns in order, and those marked `first` (roots) before the others (thread
        posts): a backlog shows every ticket before it fills in threads."""
        line, me = self._lines[channel], (0 if first else 1, next(self._order))
        heapq.heappush(line, me)
        self._kick(channel)  # the head may have changed: whoever waits looks again
        try:
            while True:
                delay = self.take(channel) if line[0] == me else None
                if delay == 0.0:
                    return self._sent[channel][-1]  # the time `take` noted, exactly: `refused` looks it up
                changed = self._changed.setdefault(channel, asyncio.Event())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), delay)
        finally:
            line.remove(me)
            heapq.heapify(line)
            self._kick(channel)

    def _kick(self, channel: str) -> None:
        if (changed := self._changed.pop(channel, None)) is not None:
            changed.set()

    def take(self, channel: str) -> float:
        """Take the channel's turn if it has come (0.0), else the seconds until it may have."""
        now = self._clock()
        if (delay := self._paused_until - now) > 0:
            return delay
        tokens = self._fill(channel, now)
        if tokens >= 1.0:
            self._tokens[channel] = tokens - 1.0
            sent = self._sent[channel]
            sent.append(now)
            while sent and sent[0] < now - SENT_MEMORY:
                sent.popleft()
            return 0.0
        return (1.0 - tokens) / self.per_second

    def refused(self, channel: str, sent_at: float, retry_after: float) -> None:
        """A 429: nobody posts until Retry-After has passed; the channel's bucket as the cause suggests."""
        now = self._clock()
        self._paused_until = max(self._paused_until, now + retry_after)
        tokens = self._fill(channel, now)
        with contextlib.suppress(ValueError):  # a refused post never counted against the channel
            self._sent[channel].remove(sent_at)
        if any(sent_at - 1.0 < t <= sent_at for t in self._sent[channel]):  # another sent in the second before
            self._tokens[channel] = 0.0
        else:  # not ours: the refused post did not count, it keeps its place
            self._tokens[channel] = min(float(self.burst), tokens + 1.0)

    def _fill(self, channel: str, now: float) -> float:
        """The channel's tokens at `now`: a new channel starts with a full burst."""
        last = self._filled_at.get(channel)
        tokens = self._tokens.get(channel, float(self.burst))
        if last is not None:
            tokens = min(float(self.burst), tokens + (now - last) * self.per_second)
        self._tokens[channel], self._filled_at[channel] = tokens, now
        return tokens


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
    def __init__(self, token: str, base_url: str, *, timeout: int = 30, gate: ChannelGate | None = None) -> None:
        base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.api = CountingWebClient(token=token, base_url=base_url, timeout=timeout, retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=3),
            AsyncRateLimitErrorRetryHandler(max_retry_count=5),
            AsyncServerErrorRetryHandler(max_retry_count=3),
        ])
        self._poster = CountingWebClient(token=token, base_url=base_url, timeout=timeout, retry_handlers=[])
        self.gate = gate or ChannelGate()
        self.retry_base = 0.5  # seconds before the first retry of an uncertain post; doubles, capped at 30

    async def post_once(self, channel: str, message: Mapping[str, Any], *, key: str, thread_ts: str | None = None,
                        maybe_posted: bool = False) -> str:
        """Post `message` and return its ts; if a message with `key` is already there, return that one's."""
        if maybe_posted and (found := await self.find_posted(channel, key, thread_ts)):
            log.info("slack: %s was already posted (ts %s); not posting again", key, found)
            return found
        uncertain = 0
        while True:
            sent_at = await self.gate.wait(channel, first=thread_ts is None)
            try:
                resp = await self._poster.chat_postMessage(
                    channel=channel, thread_ts=thread_ts, unfurl_links=False, unfurl_media=False,
                    metadata={"event_type": METADATA_EVENT, "event_payload": {"key": key}}, **message)
                return str(resp["ts"])
            except SlackApiError as exc:
                status = exc.response.status_code
                if status == 429:
                    self.gate.refused(channel, sent_at, _retry_after(exc.response.headers))
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
