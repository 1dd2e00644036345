"""The bot's own web server: health now, Slack's endpoint and metrics as those adapters arrive."""

from __future__ import annotations

import logging

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)


def build_web_app(engine: AsyncEngine) -> web.Application:
    app = web.Application(client_max_size=2 * 1024 * 1024)

    async def healthz(_request: web.Request) -> web.Response:
        # Ready means the store answers: without it nothing else the bot does can work.
        try:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:
            log.warning("health check: store unreachable: %s", type(exc).__name__)
            return web.json_response({"status": "unavailable", "store": "unreachable"}, status=503)
        return web.json_response({"status": "ok"})

    app.router.add_get("/healthz", healthz)
    return app


class WebServer:
    def __init__(self, app: web.Application, host: str, port: int) -> None:
        self.app, self.host, self.port = app, host, port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        sockets = site._server.sockets if site._server else []  # type: ignore[union-attr]
        if sockets:
            self.port = sockets[0].getsockname()[1]
        log.info("web server on http://%s:%d (GET /healthz)", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
