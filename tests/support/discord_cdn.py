"""Files people attach, served as Discord's CDN serves them: by signed URLs that expire.

https://discord.com/developers/docs/reference#signed-attachment-cdn-urls: attachment URLs carry
`ex` (when they expire, hex Unix seconds), `is` and `hm`; an expired one is refused, and a fresh one
comes only with the message fetched again. The fake signs for `LIFETIME` seconds on the interactions'
clock; `expire_files()` is that time passing for every URL handed out so far.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from tests.support.fake_discord import FakeDiscord

Json = dict[str, Any]
LIFETIME = 24 * 60 * 60


def sign(fake: FakeDiscord, message: Json) -> None:
    """Give the message's attachments URLs on the fake's CDN, valid for LIFETIME from now."""
    expires = int(time.time() + LIFETIME)
    for a in message["attachments"]:
        url = f"http://127.0.0.1:{fake.port}/cdn/{message['channel_id']}/{a['id']}/{a['filename']}?ex={expires:x}"
        a["url"] = a["proxy_url"] = url


async def serve(fake: FakeDiscord, request: web.Request) -> web.Response:
    """The file, if its URL has not expired (404 as the CDN answers, else)."""
    expired = int(request.query.get("ex", "0"), 16) < time.time() + fake.cdn_clock_offset
    found = next((a for m in fake.in_channel(request.match_info["channel"]) for a in m["attachments"]
                  if a["id"] == request.match_info["file"] and a["filename"] == request.match_info["name"]), None)
    if found is None or expired:
        return web.Response(status=404, text="This content is no longer available.")
    return web.Response(body=found["text"].encode(), content_type="application/octet-stream")
