"""Tiketti running for real with its Slack adapter: the fake Slack API, an SMTP sink, signed requests.

`running_bot` starts the whole runtime (web server on a free port, outbox worker
delivering to an aiosmtpd sink, Slack adapter talking to the fake Web API) and
hands back a `SlackBot` that drives it only as Slack and a mail server would:
signed HTTP requests to `/slack/events` and raw mail into the pipeline.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aiohttp

from bot.adapters.slack.client import ChannelGate
from bot.app import Core, build_core
from bot.runtime import Runtime
from tests.conftest import make_settings
from tests.support.db import Database
from tests.support.fake_slack import FakeSlack, Posted
from tests.support.mails import deliver
from tests.support.slack_requests import Reply, SlackRequest, SlackRequests
from tests.support.smtp_sink import SmtpSink

TOKEN = "xoxb-tiketti-tests"
SECRET = "tiketti-signing-secret"
CHANNEL = "C0TICKETS"
BOT_USER = "U0BOT"


def user(uid: str, name: str, email: str | None = None) -> dict[str, Any]:
    profile: dict[str, Any] = {"real_name": name, "display_name": name.split()[0]}
    if email:
        profile["email"] = email
    return {"id": uid, "name": name.split()[0].lower(), "real_name": name, "profile": profile}


USERS = {
    "U0ANA": user("U0ANA", "Ana Agent", "ana@helpdesk.test"),
    "U0BEN": user("U0BEN", "Ben Agent", "ben@helpdesk.test"),
    "U0EVA": user("U0EVA", "Eva Expert", "eva@helpdesk.test"),
}

T = TypeVar("T")


async def eventually(check: Callable[[], Awaitable[T]] | Callable[[], T], timeout: float = 10.0) -> T:
    """Poll until `check` returns something truthy without failing an assertion; the last failure otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
            if asyncio.iscoroutine(result):
                result = await result
            if result:
                return result  # type: ignore[return-value]
            error: AssertionError = AssertionError(f"still {result!r} after {timeout} s")
        except AssertionError as exc:
            error = exc
        if time.monotonic() > deadline:
            raise error
        await asyncio.sleep(0.02)


@dataclass
class SlackBot:
    core: Core
    runtime: Runtime
    slack: FakeSlack
    requests: SlackRequests
    sink: SmtpSink
    http: aiohttp.ClientSession

    @property
    def url(self) -> str:
        assert self.runtime.web is not None
        return f"http://127.0.0.1:{self.runtime.web.port}/slack/events"

    async def send(self, request: SlackRequest) -> Reply:
        return await request.post(self.http, self.url)

    async def event(self, event: dict[str, Any], **kwargs: Any) -> Reply:
        reply = await self.send(self.requests.event(event, **kwargs))
        assert reply.status == 200, reply.text
        return reply

    async def join(self, user: str, channel: str = CHANNEL) -> None:
        """`user` joins `channel` in Slack, and Slack tells the bot (member_joined_channel)."""
        self.slack.add_member(channel, user)
        await self.event(self.requests.member_joined_channel(user, channel=channel))

    async def leave(self, user: str, channel: str = CHANNEL) -> None:
        """`user` leaves `channel` in Slack, and Slack tells the bot (member_left_channel)."""
        self.slack.remove_member(channel, user)
        await self.event(self.requests.member_left_channel(user, channel=channel))

    async def mail(self, raw: bytes) -> int:
        """Deliver a customer's mail; the number of the ticket it landed on."""
        return (await deliver(self.core, raw)).ticket_number  # type: ignore[attr-defined]

    async def settled(self) -> None:
        """Slack shows everything committed so far (threads and notices) and the outbox has sent what is due."""
        assert self.runtime.slack is not None
        for _ in range(3):  # showing a change can queue mail, and mail can change tickets
            await self.runtime.slack.parts.backlog.idle()
            await self.runtime.slack.publisher.sweep()
            await self.runtime.slack.publisher.drained()
            await self.runtime.slack.notices.deliver_due()
            await self.runtime.drain_outbox()

    def roots(self) -> list[Posted]:
        return self.slack.roots(CHANNEL)

    async def root_of(self, number: int) -> Posted:
        def find() -> Posted | None:
            return next((r for r in self.roots() if r.text.startswith(f"#{number} ")), None)
        return await eventually(find)

    def thread(self, root: Posted) -> list[Posted]:
        return self.slack.thread(CHANNEL, root.ts)

    def root_text(self, root: Posted) -> str:
        """Everything the root shows now, as one string (after any chat.update)."""
        return block_text(self.slack.message(CHANNEL, root.ts).blocks)


def block_text(blocks: list[dict[str, Any]]) -> str:
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                out.append(node["text"])
            for value in node.values():
                if isinstance(value, dict | list):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return "\n".join(out)


def fake_slack(**directory: Any) -> FakeSlack:
    """The workspace of the tests: USERS are all in the tickets channel (agents, with no roster configured)."""
    directory.setdefault("members", {CHANNEL: list(USERS)})
    return FakeSlack(token=TOKEN, bot_user_id=BOT_USER, users=USERS, **directory)


@asynccontextmanager
async def running_bot(db: Database, tmp_path: Path, *, slack: FakeSlack | None = None, gate: ChannelGate | None = None,
                      **overrides: Any) -> AsyncIterator[SlackBot]:
    """The bot on `db`, talking to `slack` (a fresh fake unless given one that is already running).

    Posts are paced by `gate`; by default at 1,000 per second per channel, so that tests of hundreds of
    tickets take seconds. Pacing at Slack's real rate is tested and measured with `ChannelGate()`."""
    async with _fake(slack) as slack:
        sink = SmtpSink()
        await sink.start()
        settings = make_settings(db, tmp_path, **{
            "slack_bot_token": TOKEN, "slack_signing_secret": SECRET, "slack_api_url": slack.base_url,
            "slack_channel": CHANNEL, "http_port": 0, "smtp_host": sink.host, "smtp_port": sink.port,
            "smtp_starttls": False, **overrides})
        core = await build_core(settings, engine=db.engine())
        runtime = Runtime(core)
        assert runtime.slack is not None
        runtime.slack.api.retry_base = 0.01
        runtime.slack.api.gate = gate or ChannelGate(per_second=1000.0, burst=100)
        await runtime.start()
        requests = SlackRequests(SECRET, bot_user_id=BOT_USER, channel_id=CHANNEL, response_url_base=slack.hooks_url,
                                 users={uid: u["name"] for uid, u in USERS.items()})
        try:
            async with aiohttp.ClientSession() as http:
                yield SlackBot(core, runtime, slack, requests, sink, http)
        finally:
            await runtime.stop()
            await core.close()
            await sink.stop()


@asynccontextmanager
async def _fake(given: FakeSlack | None) -> AsyncIterator[FakeSlack]:
    if given is not None:
        yield given
        return
    async with fake_slack() as slack:
        yield slack
