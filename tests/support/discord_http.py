"""How the fake Discord answers over HTTP: Discord's JSON errors and exactly-JSON bodies."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web


def take(rules: dict[str, int], name: str, path: str) -> int | None:
    """The status a rule keyed by route name or by path holds for this request, used up."""
    for key in (name, path):
        if key in rules:
            return rules.pop(key)
    return None


def refuse(problems: list[str]) -> None:
    """Answer 400 Invalid Form Body, as Discord does, when what the bot sent breaks Discord's limits."""
    if problems:
        body = {"message": "Invalid Form Body", "code": 50035, "errors": {"_errors": problems}}
        raise web.HTTPBadRequest(text=json.dumps(body), content_type="application/json")


def error(status: int, code: int, message: str) -> web.Response:
    return as_json({"message": message, "code": code}, status=status)


def as_json(data: Any, status: int = 200) -> web.Response:
    """Exactly `application/json`: discord.py parses a body as JSON only then."""
    return web.Response(body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json"})


def rate_limited(retry_after: float, *, is_global: bool) -> web.Response:
    """Discord's 429: discord.py retries only when it carries a Via header (else it is Cloudflare's ban)."""
    body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": is_global}
    headers = {"Content-Type": "application/json", "Via": "1.1 google", "Retry-After": "1",
               "X-RateLimit-Scope": "global" if is_global else "user"}
    return web.Response(body=json.dumps(body).encode(), status=429, headers=headers)
