"""Socket Mode with the same door as HTTP: each envelope's payload is checked before Bolt sees it.

Slack's WebSocket is authenticated by the app token, so there is no signature to check, but a payload
of an unexpected shape, or a response_url that is not Slack's, is refused here as in HTTP mode
(bot.adapters.slack.inbound): acknowledged, so Slack does not send it again, and not acted on.
"""

from __future__ import annotations

import logging

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot.adapters.slack import inbound
from bot.adapters.slack.inbound import Malformed, ResponseUrls

log = logging.getLogger(__name__)


class CheckedSocketModeHandler(AsyncSocketModeHandler):
    def __init__(self, app: AsyncApp, app_token: str, response_urls: ResponseUrls) -> None:
        super().__init__(app, app_token)
        self.response_urls = response_urls

    async def handle(self, client: AsyncBaseSocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        try:
            if not isinstance(req.payload, dict):
                raise Malformed("a payload that is not an object")
            inbound.check(req.payload, self.response_urls)
        except Malformed as exc:
            log.warning("slack: refused a Socket Mode %s of unexpected shape: %s", req.type, exc)
            await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
            return
        await super().handle(client, req)  # type: ignore[arg-type]
