"""The Slack adapter assembled: a Bolt app for what Slack sends, the chat layer on a Slack surface for what we show.

HTTP mode serves `POST /slack/events` on the bot's own aiohttp server (events,
slash commands and interactivity alike), and only with a signing secret: every
request is verified (signature, and no older than five minutes) and its shape
checked (bot.adapters.slack.inbound) before Bolt or a listener sees it, so a
forged request gets 401 and a signed one of an unexpected shape 400, never a
500, and neither has an effect. With SLACK_APP_TOKEN set the same Bolt app is fed
over Socket Mode instead and `/slack/events` is not served at all: nothing
unsigned can come in by HTTP.

What agents see is brought up to date by `bot.chat`: one `ThreadSync` (the tickets'
roots and threads) and one `NoticeDelivery` (notices kept as rows), both posting
through `SlackSurface`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from pydantic import SecretStr
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.adapters.slack import command, confirm, forms, inbound, interactions, membership, messages
from bot.adapters.slack.client import SlackApi
from bot.adapters.slack.digest import DigestPoster
from bot.adapters.slack.inbound import Malformed, ResponseUrls
from bot.adapters.slack.kept import Job, KeptRequests
from bot.adapters.slack.membership import Membership
from bot.adapters.slack.parts import SlackParts
from bot.adapters.slack.people import People
from bot.adapters.slack.surface import SlackSurface
from bot.adapters.slack.work import REPLAYING
from bot.chat.notices import NoticeDelivery
from bot.chat.thread_sync import ThreadSync
from bot.handlers.context import Context
from bot.settings import Settings

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


class SlackConfigError(ValueError):
    """Slack is half set up; the message names what is missing."""


class SlackAdapter:
    def __init__(self, ctx: Context, settings: Settings) -> None:
        if settings.slack_bot_token is None:
            raise SlackConfigError("SLACK_BOT_TOKEN is not set")
        if not settings.slack_channel:
            raise SlackConfigError("TIKETTI_SLACK_CHANNEL (the tickets channel id, C…) is not set")
        self.socket_token = _secret(settings.slack_app_token)
        secret = _secret(settings.slack_signing_secret)
        if self.socket_token is None and secret is None:
            raise SlackConfigError(
                "SLACK_SIGNING_SECRET is not set, so requests to /slack/events could not be verified as Slack's. "
                "Set it (HTTP mode: the app's Basic Information -> Signing Secret), or set SLACK_APP_TOKEN "
                "(xapp-…) to use Socket Mode, which needs no public URL")
        self.secret = secret if self.socket_token is None else None  # HTTP mode: what requests are checked with
        self.response_urls = ResponseUrls.for_api(settings.slack_api_url)
        self.api = SlackApi(settings.slack_bot_token.get_secret_value(), settings.slack_api_url)
        channel = settings.slack_channel
        self.membership = Membership(
            self.api.api, lambda: [channel, *(t.channel for t in ctx.config.workflow.teams if t.channel)],
            ctx.config.workflow.roster_names)
        self.parts = SlackParts(ctx, self.api, People(self.api.api, self.membership), channel)
        self.parts.backlog.kept = KeptRequests(ctx, self._replay, self.parts.tell)
        self.surface = SlackSurface(ctx, self.api, channel, link=self.parts.link)
        self.publisher = ThreadSync(ctx, self.surface)  # the tickets' threads (named as tests and the bench know it)
        self.notices = NoticeDelivery(ctx, self.surface)
        self.app = AsyncApp(
            client=self.api.api,
            signing_secret=secret or "",
            # HTTP requests are verified twice (in _http, then by Bolt); Socket Mode's come over Slack's own socket.
            request_verification_enabled=self.secret is not None,
            # Listeners acknowledge and hand their work to parts.backlog, so answering after them is immediate.
            process_before_response=True,
        )
        self.app.error(_malformed_is_400)
        membership.register(self.app, self.membership)
        command.register(self.app, self.parts)
        confirm.register(self.app, self.parts)
        forms.register(self.app, self.parts)
        forms.register_root_menus(self.app, self.parts)
        interactions.register(self.app, self.parts)
        messages.register(self.app, self.parts)
        self.publisher.subscribe()
        self.notices.subscribe()
        # The managers' digest (bot.handlers.reports.publish_digest) goes to their own channel, when one is set.
        self.managers_channel: str | None = getattr(settings, "slack_managers_channel", None)
        self.digest = DigestPoster(self.api, self.managers_channel, self.parts.thread_link)
        self.digest.subscribe(ctx.bus)
        self._socket: object | None = None

    def mount(self, web_app: web.Application) -> None:
        """Serve /slack/events in HTTP mode only; in Socket Mode the route does not exist."""
        if self.secret is not None:
            web_app.router.add_post(EVENTS_PATH, self._http)

    async def _http(self, request: web.Request) -> web.Response:
        assert self.secret is not None  # mounted only with a signing secret
        raw = await request.read()
        if _ssl_check(raw, request.content_type):
            return web.Response(status=200)  # Slack checking a slash command URL's certificate: nothing runs
        if not inbound.signed(self.secret, raw, request.headers.get("X-Slack-Request-Timestamp"),
                              request.headers.get("X-Slack-Signature")):
            log.info("slack: refused a request to %s without a valid signature", EVENTS_PATH)
            return web.json_response({"error": "invalid request"}, status=401)
        try:
            body = inbound.parse(raw, request.content_type)
            inbound.check(body, self.response_urls)
            bolt_request = AsyncBoltRequest(body=raw.decode("utf-8"), query=request.query_string,
                                            headers=dict(request.headers))
        except Exception as exc:  # Malformed, or Bolt choking on a shape we let through
            log.warning("slack: refused a signed request of unexpected shape: %s", _reason(exc))
            return web.json_response({"error": "malformed request"}, status=400)
        if bolt_request.body != body:  # Bolt reads a form mentioning "payload" as {}: give it the real one
            bolt_request.body = body
            bolt_request.context = build_async_context(AsyncBoltContext(), body)
        return await to_aiohttp_response(await self.app.async_dispatch(bolt_request))

    async def _replay(self, body: Mapping[str, Any]) -> Job | None:
        """The work a kept request stands for, said again by the listeners that first deferred it.

        Fed to Bolt as a Socket Mode request: it was verified when it came in, and is not signed again.
        """
        jobs: list[Job] = []
        token = REPLAYING.set(jobs)
        try:
            await self.app.async_dispatch(AsyncBoltRequest(body=dict(body), mode="socket_mode"))
        finally:
            REPLAYING.reset(token)
        if len(jobs) < 2:
            return jobs[0] if jobs else None

        async def all_of() -> None:
            for job in jobs:
                await job()
        return all_of

    async def start(self, stop: asyncio.Event) -> asyncio.Task[None]:
        """Learn the workspace, start showing tickets and notices, and (in Socket Mode) connect.

        Returns the task that shows them: it ends when `stop` is set (threads and notices both)."""
        auth = await self.api.api.auth_test()
        self.parts.workspace_url = str(auth.get("url") or self.parts.workspace_url)
        log.info("slack: connected as %s to %s; tickets go to channel %s", auth.get("user"), auth.get("team"),
                 self.parts.channel)
        self.parts.backlog.start()
        task = asyncio.create_task(self._show(stop), name="slack-publisher")
        if self.socket_token:
            from bot.adapters.slack.socket import CheckedSocketModeHandler

            handler = CheckedSocketModeHandler(self.app, self.socket_token, self.response_urls)
            await handler.connect_async()
            self._socket = handler
            log.info("slack: Socket Mode connected")
        return task

    async def _show(self, stop: asyncio.Event) -> None:
        """Threads and notices side by side; one failing ends the other too, so neither runs on unseen."""
        parts = [asyncio.create_task(self.publisher.run(stop), name="slack-threads"),
                 asyncio.create_task(self.notices.run(stop), name="slack-notices")]
        try:
            await asyncio.gather(*parts)
        finally:
            for part in parts:
                part.cancel()
            await asyncio.gather(*parts, return_exceptions=True)

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[attr-defined]
        await self.parts.backlog.stop()


def _secret(value: SecretStr | None) -> str | None:
    """A secret as given, or None when unset or blank (an empty env var is no secret)."""
    raw = value.get_secret_value().strip() if value is not None else ""
    return raw or None


def _ssl_check(raw: bytes, content_type: str) -> bool:
    if content_type != inbound.FORM or len(raw) > 1000:
        return False
    form = dict(parse_qsl(raw.decode("utf-8", "replace")))
    return form.get("ssl_check") == "1" and "command" not in form and "payload" not in form


def _reason(exc: Exception) -> str:
    return str(exc) if isinstance(exc, Malformed) else f"{type(exc).__name__} while parsing it"


async def _malformed_is_400(error: Exception) -> BoltResponse | None:
    """A listener that finds part of a request not as Slack sends it (bot.adapters.slack.inbound) answers 400."""
    if isinstance(error, Malformed):
        log.warning("slack: refused a request of unexpected shape: %s", error)
        return BoltResponse(status=400, body="")
    log.error("slack: a listener failed", exc_info=error)
    return None
