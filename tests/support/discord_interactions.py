"""The fake Discord's interactions: what the bot answers to a click, a command or a form, and when.

Discord gives a bot 3 seconds to answer an interaction and 15 minutes to follow up
(https://discord.com/developers/docs/interactions/receiving-and-responding: "you must send an
initial response within 3 seconds of receiving the event"; "Interaction tokens are valid for 15
minutes"). The fake keeps when each token was issued (`issued`, on `clock`); `age(token, s)` is `s`
seconds passing for it. A late first answer gets 404 10062 "Unknown interaction", a late follow-up
401 50027 "Invalid Webhook Token" (https://discord.com/developers/docs/topics/opcodes-and-status-codes#json).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from tests.support import discord_guild as g
from tests.support import discord_limits
from tests.support import discord_payloads as p
from tests.support.discord_http import as_json, error, refuse
from tests.support.discord_rules import RESPONSE_SECONDS, TOKEN_SECONDS, embed_problems

if TYPE_CHECKING:
    from tests.support.fake_discord import FakeDiscord

Json = dict[str, Any]


@dataclass
class Response:
    """What the bot answered to one interaction: the callback, then any follow-ups."""

    kind: int  # 4 message, 5 deferred message, 6 deferred update, 8 autocomplete, 9 modal
    data: Json
    followups: list[Json] = field(default_factory=list)

    @property
    def ephemeral(self) -> bool:
        return bool((self.data.get("flags") or 0) & 64)


class NotOffered(AssertionError):
    """Discord would not show this command to this person here, so it can never arrive from them."""


class Interactions:
    """Tokens, callbacks and follow-ups of one fake Discord."""

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.responses: dict[str, Response] = {}  # by interaction token
        self.where: dict[str, str] = {}  # interaction token -> the channel it came from (its answers show there)
        self.issued: dict[str, float] = {}  # interaction token -> when Discord sent it (on `clock`)
        self.clock = time.monotonic
        self.late = 0  # answers refused because their token had expired

    def issue(self, token: str, channel_id: str) -> None:
        self.where[token], self.issued[token] = channel_id, self.clock()

    def age(self, token: str, seconds: float) -> None:
        """`seconds` pass for the interaction `token` (it was sent that much earlier)."""
        self.issued[token] -= seconds

    def _expired(self, token: str, limit: float) -> bool:
        late = token in self.issued and self.clock() - self.issued[token] > limit
        self.late += late
        return late

    def make(self, kind: int, data: Json, user: Json, channel: Json, message: Json | None = None, *,
             forged: bool = False) -> Json:
        """An INTERACTION_CREATE as Discord sends it (in a DM channel: `user`, no guild). Unless `forged`, a
        command (2) or its autocomplete (4) Discord would not offer this person here, or a button (3) or form (5)
        in a channel they cannot see, raises NotOffered."""
        fake = self.fake
        dm = channel["type"] == 1
        if kind in (2, 4) and not forged:
            command = next(c for c in fake.commands if c["id"] == data["id"])
            if dm and not g.usable_in_dm(command):
                raise NotOffered(f"/{command['name']} is not offered in DMs")
            perms = fake.permissions(user, channel)
            if not dm and not (fake.is_member(user) and fake.server.offers(command, user["id"], perms)):
                raise NotOffered(f"/{command['name']} is hidden from {user['global_name']} here")
        if kind in (3, 5) and not forged and not dm and not fake.permissions(user, channel) & g.VIEW_CHANNEL:
            raise NotOffered(f"{user['global_name']} cannot see the channel, nor its buttons")
        payload = p.interaction(fake, kind, data, channel, message)
        self.issue(payload["token"], channel["id"])
        if dm:
            payload.update(user=user, context=1)
        else:
            payload.update(guild_id=str(fake.guild_id), member=fake.member_json(user, channel), context=0,
                           app_permissions=str(fake.permissions(fake.bot, channel)))
        return payload

    async def callback(self, request: web.Request) -> web.Response:
        body, files = await p.read_body(request)
        token = request.match_info["token"]
        if token in self.responses:
            return error(400, 40060, "Interaction has already been acknowledged.")
        if self._expired(token, RESPONSE_SECONDS):
            return error(404, 10062, "Unknown interaction")
        data = body.get("data") or {}
        refuse(discord_limits.modal_problems(data) if body["type"] == 9
               else discord_limits.message_problems(data) + embed_problems(data.get("embeds") or []))
        self.responses[token] = Response(body["type"], {**data, "files": files})
        resource: Json = {"type": body["type"]}
        return as_json({"interaction": {"id": request.match_info["id"], "type": 2}, "resource": resource})

    async def followup(self, request: web.Request) -> web.Response:
        """A follow-up or an edit of the first answer: within the token's 15 minutes."""
        if self._expired(request.match_info["token"], TOKEN_SECONDS):
            return error(401, 50027, "Invalid Webhook Token")
        return as_json(await self._answer(request))

    async def _answer(self, request: web.Request) -> Json:
        """A follow-up as Discord returns it: a message in the interaction's channel (ephemeral ones too, whose
        buttons can be clicked there), with the flags and components the bot sent."""
        body, files = await p.read_body(request)
        refuse(discord_limits.message_problems(body) + embed_problems(body.get("embeds") or []))
        token = request.match_info["token"]
        fake = self.fake
        channel = self.where.get(token, "0")
        in_guild = channel != "0" and fake.channels.get(int(channel), {}).get("type") != 1
        sent = p.message(fake.next_id(), int(channel), fake.bot, body, files,
                         guild_id=fake.guild_id if in_guild else None)
        self.responses[token].followups.append(sent)
        return sent


async def serve_gateway(fake: FakeDiscord, request: web.Request) -> web.WebSocketResponse:
    """The gateway: HELLO, IDENTIFY → READY and GUILD_CREATE, heartbeats acked; then what tests dispatch."""
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    fake.sockets.append(ws)
    await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 45000}, "s": None, "t": None}))
    try:
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            frame = json.loads(msg.data)
            if frame["op"] == 1:
                await ws.send_str(json.dumps({"op": 11, "d": None}))
            elif frame["op"] == 2:
                fake.intents = int(frame["d"].get("intents") or 0)  # what Discord will send this session
                await fake.send(ws, "READY", p.ready(fake))
                await fake.send(ws, "GUILD_CREATE", p.guild(fake))
                fake.identified.set()
    finally:
        fake.sockets.remove(ws)
    return ws
