"""The Slack adapter assembled: a Bolt app for what Slack sends, the publisher for what we show.

HTTP mode serves `POST /slack/events` on the bot's own aiohttp server (events,
slash commands and interactivity alike; Bolt checks the signature and refuses
requests older than five minutes). With SLACK_APP_TOKEN set the same Bolt app
is fed over Socket Mode instead, and no public URL is needed.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.adapters.slack import command, forms, interactions, messages
from bot.adapters.slack.client import SlackApi
from bot.adapters.slack.digest import DigestPoster
from bot.adapters.slack.parts import SlackParts
from bot.adapters.slack.people import People
from bot.adapters.slack.publisher import ThreadPublisher
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
        self.socket_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else None
        secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
        if self.socket_token is None and not secret:
            raise SlackConfigError("SLACK_SIGNING_SECRET is not set (needed to verify requests in HTTP mode)")
        self.api = SlackApi(settings.slack_bot_token.get_secret_value(), settings.slack_api_url)
        self.parts = SlackParts(ctx, self.api, People(self.api.api), settings.slack_channel)
        self.publisher = ThreadPublisher(ctx, self.api, settings.slack_channel, link=self.parts.link)
        self.app = AsyncApp(
            client=self.api.api,
            signing_secret=secret or "",
            request_verification_enabled=secret is not None,
            # Listeners acknowledge and hand their work to parts.backlog, so answering after them is immediate.
            process_before_response=True,
        )
        command.register(self.app, self.parts)
        forms.register(self.app, self.parts)
        forms.register_root_menus(self.app, self.parts)
        interactions.register(self.app, self.parts)
        messages.register(self.app, self.parts)
        self.publisher.subscribe()
        # The managers' digest (bot.handlers.reports.publish_digest) goes to their own channel, when one is set.
        self.managers_channel: str | None = getattr(settings, "slack_managers_channel", None)
        self.digest = DigestPoster(self.api, self.managers_channel, self.parts.thread_link)
        self.digest.subscribe(ctx.bus)
        self._socket: object | None = None

    def mount(self, web_app: web.Application) -> None:
        web_app.router.add_post(EVENTS_PATH, self._http)

    async def _http(self, request: web.Request) -> web.Response:
        bolt_request = AsyncBoltRequest(body=await request.text(), query=request.query_string,
                                        headers=dict(request.headers))
        return await to_aiohttp_response(await self.app.async_dispatch(bolt_request))

    async def start(self, stop: asyncio.Event) -> asyncio.Task[None]:
        """Learn the workspace, start showing tickets, and (in Socket Mode) connect. Returns the publisher task."""
        auth = await self.api.api.auth_test()
        self.parts.workspace_url = str(auth.get("url") or self.parts.workspace_url)
        log.info("slack: connected as %s to %s; tickets go to channel %s", auth.get("user"), auth.get("team"),
                 self.parts.channel)
        self.parts.backlog.start()
        task = asyncio.create_task(self.publisher.run(stop), name="slack-publisher")
        if self.socket_token:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            handler = AsyncSocketModeHandler(self.app, self.socket_token)
            await handler.connect_async()
            self._socket = handler
            log.info("slack: Socket Mode connected")
        return task

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[attr-defined]
        await self.parts.backlog.stop()
