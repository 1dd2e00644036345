"""Slack's Socket Mode, served by the fake: apps.connections.open hands out a WebSocket URL on 127.0.0.1.

The real slack_sdk Socket Mode client connects to it as it would to Slack's
wss:// endpoint; `send()` pushes an envelope (events_api, slash_commands,
interactive) and waits for the client's acknowledgement, as Slack does.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

from aiohttp import WSMsgType, web


class FakeSocketMode:
    def __init__(self, app_token: str) -> None:
        self.app_token = app_token
        self.port = 0
        self.sockets: list[web.WebSocketResponse] = []
        self.connected = asyncio.Event()
        self._acks: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._seq = itertools.count(1)

    def install(self, app: web.Application) -> None:
        app.router.add_get("/socket-mode", self._socket)

    def connections_open(self, token: str) -> dict[str, Any]:
        if token != self.app_token:
            return {"ok": False, "error": "invalid_auth"}
        return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket-mode?ticket={next(self._seq)}"}

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_str(json.dumps({"type": "hello", "num_connections": 1,
                                      "debug_info": {"host": "fake", "approximate_connection_time": 3600}}))
        self.connected.set()
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                body = json.loads(msg.data)
                future = self._acks.pop(str(body.get("envelope_id")), None)
                if future and not future.done():
                    future.set_result(body)
        self.sockets.remove(ws)
        return ws

    async def send(self, kind: str, payload: dict[str, Any], *, retry_attempt: int = 0,
                   timeout: float = 5.0) -> dict[str, Any]:
        """Deliver one envelope to the connected client; its acknowledgement (with any response payload).
        `retry_attempt` > 0: Slack delivering the same payload again (no ack in time, or a reconnect)."""
        await asyncio.wait_for(self.connected.wait(), timeout)
        envelope_id = f"env-{next(self._seq)}"
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._acks[envelope_id] = future
        await self.sockets[-1].send_str(json.dumps({"envelope_id": envelope_id, "type": kind, "payload": payload,
                                                    "accepts_response_payload": kind != "events_api",
                                                    "retry_attempt": retry_attempt,
                                                    "retry_reason": "timeout" if retry_attempt else ""}))
        return await asyncio.wait_for(future, timeout)

    async def close(self) -> None:
        for ws in list(self.sockets):
            await ws.close()
