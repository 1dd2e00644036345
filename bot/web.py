"""The bot's own web server: GET /healthz, GET /metrics (Prometheus), and Slack's endpoint when Slack is on."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import metrics
from bot.handlers.ports import UnitOfWorkFactory

log = logging.getLogger(__name__)


def build_web_app(engine: AsyncEngine, uow: UnitOfWorkFactory | None = None) -> web.Application:
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
    if uow is not None:
        app.router.add_get("/metrics", _metrics_handler(uow))
    return app


def _metrics_handler(uow: UnitOfWorkFactory) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def scrape(_request: web.Request) -> web.Response:
        # Counted at scrape time: the store is the truth every instance shares, so any one
        # instance's answer is right, and nothing has to keep a gauge in step with each change.
        try:
            async with uow() as u:
                by_status = {str(s): n for s, n in (await u.ticket_counts.by_status()).items()}
        except Exception as exc:
            log.warning("metrics: store unreachable: %s", type(exc).__name__)
            return web.Response(status=503, text="store unreachable\n")
        return web.Response(body=metrics.render(by_status), headers={"Content-Type": metrics.CONTENT_TYPE})

    return scrape


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
        log.info("web server on http://%s:%d (GET /healthz, GET /metrics)", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
