"""A fake Discord over real HTTP and a real WebSocket on 127.0.0.1, for the real discord.py client.

REST lives under /api/v10 (point `discord.http.Route.BASE` here), the gateway at
/gateway (point `DiscordWebSocket.DEFAULT_GATEWAY` here). The gateway says HELLO,
takes IDENTIFY, sends READY and GUILD_CREATE, acks heartbeats, and then
dispatches whatever a test injects (MESSAGE_CREATE, INTERACTION_CREATE...). REST
keeps channels, threads and messages as Discord would show them, honours message
nonces as Discord does (`discord_nonces`: per author, for minutes; `nonces.forget()`
is those minutes passing), and records every interaction response and follow-up. What the bot sends
is held to Discord's limits (`discord_limits`: content, components, modals; `discord_rules`:
embeds, forum tags, archived threads, the bot's permissions, closed DMs; `discord_interactions`:
the 3 s and 15 min of an interaction token), answered as Discord answers. `archive` is Discord
archiving an idle thread; `close_dms` a member who takes no DMs from the server. Attachments are
served from signed URLs that expire (`discord_cdn`; `expire_files` is a day passing). `add_channel` gives the guild more tickets channels
(before the bot connects); `storm` answers the bot's next REST calls with 429 and
a retry_after, as Discord does under load; `fail_next` answers a route (its name or
its path) once with an error before doing anything, `lose_answer` does the work and
then answers with an error (a 5xx says nothing of whether the write happened:
https://discord.com/developers/docs/topics/opcodes-and-status-codes#http: "The server had
an error processing your request"). `delete_channel` is a person deleting a thread.

The server (`server`, tests.support.discord_guild) has roles, members and channel
overwrites as Discord sends them, so discord.py computes `permissions_for` as it
would live; members' roles ride along every message and interaction. People act
only as Discord lets them: only members post in the server, and `interaction`
refuses (NotOffered) a command Discord would not show them (its contexts, its
default_member_permissions, the Integrations overrides) unless a test forges one.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from tests.support import discord_cdn as cdn
from tests.support import discord_guild as g
from tests.support import discord_limits
from tests.support import discord_payloads as p
from tests.support import discord_rules as rules
from tests.support.discord_http import as_json, error, rate_limited, refuse, take
from tests.support.discord_interactions import Interactions, NotOffered, Response, serve_gateway
from tests.support.discord_nonces import Nonces, fetched

Json = dict[str, Any]
__all__ = ["FakeDiscord", "NotOffered", "Response"]


class FakeDiscord:
    def __init__(self, *, forum: bool = False) -> None:
        self._ids = itertools.count(1_100_000_000_000_000_000)
        self.bot = p.user(self.next_id(), "tiketti", bot=True)
        self.app_id = self.next_id()
        self.guild_id = self.next_id()
        self.forum = forum
        tickets = p.forum_channel if forum else p.text_channel
        self.tickets_channel = tickets(self.next_id(), self.guild_id, "tickets")
        self.owner = p.user(self.next_id(), "Olga Owner")
        self.server = g.GuildModel(str(self.guild_id), self.owner["id"])
        bot_role = g.role(self.next_id(), "Tiketti", g.BOT_INVITE, 2, bot_id=self.bot["id"])
        self.support_role = g.role(self.next_id(), "Support", g.MANAGE_THREADS, 1)  # sees /ticket by default
        self.server.roles.update({bot_role["id"]: bot_role, self.support_role["id"]: self.support_role})
        self.users: dict[str, Json] = {}
        self.join(self.bot, [bot_role["id"]])
        self.join(self.owner)
        self.channels: dict[int, Json] = {int(self.tickets_channel["id"]): self.tickets_channel}
        self.messages: dict[int, list[Json]] = {}
        self.answers = Interactions(self)
        self.responses = self.answers.responses  # by interaction token
        self.commands: list[Json] = []
        self.calls: list[tuple[str, str]] = []
        self.fail_next: dict[str, int] = {}  # route name or path -> status to answer once, instead of the work
        self.lose_answer: dict[str, int] = {}  # route name or path -> status to answer once, after the work
        self.nonces = Nonces()
        self.closed_dms: set[str] = set()  # users who take no DMs from the server (50007)
        self.cdn_clock_offset = 0.0  # seconds the CDN's clock is ahead: expire_files() moves it a day on
        self._storms: list[list[Any]] = []  # [calls still to refuse, retry_after, route or None]
        self.rate_limited = 0  # 429s answered so far
        self.sockets: list[web.WebSocketResponse] = []
        self._seq = itertools.count(1)
        self.identified = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    def next_id(self) -> int:
        return next(self._ids)

    def add_channel(self, name: str, *, forum: bool = False) -> Json:
        """Another channel in the guild (a team's tickets channel); add it before the bot connects."""
        channel = (p.forum_channel if forum else p.text_channel)(self.next_id(), self.guild_id, name)
        self.channels[int(channel["id"])] = channel
        return channel

    def join(self, user: Json, roles: list[str] | None = None) -> None:
        """`user` becomes a member holding `roles` (ids); members' roles reach the bot with what they do."""
        self.users[user["id"]] = user
        self.server.members[user["id"]] = list(roles or [])

    def is_member(self, user: Json) -> bool:
        return user["id"] in self.server.members

    async def add_role(self, name: str, permissions: int = 0) -> Json:
        new = g.role(self.next_id(), name, permissions, len(self.server.roles))
        self.server.roles[new["id"]] = new
        await self.dispatch("GUILD_ROLE_CREATE", {"guild_id": str(self.guild_id), "role": new})
        return new

    async def set_overwrite(self, channel: Json, target_id: str, kind: int, *, allow: int = 0, deny: int = 0) -> None:
        """A channel permission overwrite for a role (kind 0) or a member (1), replacing theirs; CHANNEL_UPDATE."""
        kept = [o for o in channel["permission_overwrites"] if o["id"] != str(target_id)]
        channel["permission_overwrites"] = [*kept, g.overwrite(target_id, kind, allow=allow, deny=deny)]
        await self.dispatch("CHANNEL_UPDATE", channel)

    def allow_command(self, target_id: str, allowed: bool = True) -> None:
        """What a server admin sets under Server Settings → Integrations: /ticket for a role, a member or
        (the guild's id) everyone, overriding default_member_permissions."""
        self.server.command_overrides[str(target_id)] = allowed

    def member_json(self, user: Json, channel: Json | None = None) -> Json:
        """The member as an interaction carries it: their roles and their permissions in `channel`."""
        perms = None if channel is None else self.permissions(user, channel)
        return p.member(user, self.server.members[user["id"]], permissions=perms)

    def permissions(self, user: Json, channel: Json) -> int:
        parent = self.channels.get(int(channel["parent_id"])) if channel.get("parent_id") else None
        return self.server.in_channel(user["id"], channel, parent if channel["type"] in (10, 11, 12) else None)

    def interaction(self, kind: int, data: Json, user: Json, channel: Json, message: Json | None = None, *,
                    forged: bool = False) -> Json:
        """An INTERACTION_CREATE as Discord sends it (`discord_interactions.Interactions.make`)."""
        return self.answers.make(kind, data, user, channel, message, forged=forged)

    def storm(self, requests: int, retry_after: float = 0.02, *, route: str | None = None) -> None:
        """Answer the bot's next `requests` REST calls (to `route` only, if given) with 429 and when to try
        again, as Discord does under load (every fifth a global limit); discord.py retries, up to five times
        a call. Storms queue up: a call is refused by the first one it matches."""
        self._storms.append([requests, retry_after, route])

    async def __aenter__(self) -> FakeDiscord:
        app = web.Application(middlewares=[self._record])
        r = app.router
        r.add_get("/gateway", self._gateway)
        r.add_get("/cdn/{channel}/{file}/{name}", lambda request: cdn.serve(self, request))
        base = "/api/v10"
        r.add_get(base + "/users/@me", self._me)
        r.add_get(base + "/oauth2/applications/@me", lambda _: as_json(p.application(self.app_id, self.bot)))
        r.add_put(base + "/applications/{app}/guilds/{guild}/commands", self._put_commands)
        r.add_get(base + "/channels/{channel}", self._get_channel)
        r.add_patch(base + "/channels/{channel}", self._edit_channel)
        r.add_get(base + "/channels/{channel}/messages", self._history)
        r.add_post(base + "/channels/{channel}/messages", self._create_message)
        r.add_patch(base + "/channels/{channel}/messages/{message}", self._edit_message)
        r.add_post(base + "/channels/{channel}/messages/{message}/threads", self._thread_from_message)
        r.add_post(base + "/channels/{channel}/threads", self._forum_post)
        r.add_get(base + "/guilds/{guild}/threads/active", self._active_threads)
        r.add_post(base + "/users/@me/channels", self._open_dm)
        r.add_post(base + "/interactions/{id}/{token}/callback", self.answers.callback)
        r.add_post(base + "/webhooks/{app}/{token}", self.answers.followup)
        r.add_patch(base + "/webhooks/{app}/{token}/messages/@original", self.answers.followup)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: object) -> None:
        for ws in list(self.sockets):
            await ws.close()
        assert self._runner is not None
        await self._runner.cleanup()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        route = request.match_info.route.resource.canonical if request.match_info.route.resource else request.path
        name = f"{request.method} {route.removeprefix('/api/v10')}"
        self.calls.append((name, request.path))
        public = name == "GET /gateway" or "/interactions/" in name or "/webhooks/" in name \
            or name.startswith("GET /cdn/")  # a token (or a signature) in the URL
        if not public and request.headers.get("Authorization") != f"Bot {p.TOKEN}":
            return as_json({"message": "401: Unauthorized", "code": 0}, status=401)
        if (status := take(self.fail_next, name, request.path)) is not None:
            return as_json({"message": "injected failure", "code": 0}, status=status)
        storm = next((s for s in self._storms if s[0] > 0 and s[2] in (None, name)), None)
        if storm is not None and not public:
            storm[0] -= 1
            self.rate_limited += 1
            return rate_limited(storm[1], is_global=self.rate_limited % 5 == 0)
        lost = take(self.lose_answer, name, request.path)
        answer = await handler(request)
        if lost is not None and answer.status < 300:
            return as_json({"message": "injected failure after the work", "code": 0}, status=lost)
        return answer

    def called(self, name: str) -> int:
        return sum(1 for n, _ in self.calls if n == name)

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        return await serve_gateway(self, request)

    async def send(self, ws: web.WebSocketResponse, event: str, data: Json) -> None:
        await ws.send_str(json.dumps({"op": 0, "t": event, "s": next(self._seq), "d": data}))

    async def dispatch(self, event: str, data: Json) -> None:
        for ws in list(self.sockets):
            await self.send(ws, event, data)

    async def _me(self, request: web.Request) -> web.Response:
        return as_json(self.bot)

    async def _put_commands(self, request: web.Request) -> web.Response:
        try:
            stored = [g.stored_command(c) for c in await request.json()]
        except ValueError as exc:
            return as_json({"message": "Invalid Form Body", "code": 50035, "errors": {"_errors": [str(exc)]}}, 400)
        self.commands = [{**c, "id": str(self.next_id()), "application_id": str(self.app_id), "version": "1",
                          "guild_id": request.match_info["guild"], "type": c.get("type", 1)} for c in stored]
        return as_json(self.commands)

    # ---- channels and messages -------------------------------------------------------

    def threads(self) -> list[Json]:  # the threads and forum posts
        return [c for c in self.channels.values() if c["type"] == 11]

    def in_channel(self, channel_id: int | str) -> list[Json]:
        return self.messages.get(int(channel_id), [])

    def message(self, channel_id: int | str, message_id: int | str) -> Json:
        return next(m for m in self.in_channel(channel_id) if m["id"] == str(message_id))
    async def _get_channel(self, request: web.Request) -> web.Response:
        channel = self.channels.get(int(request.match_info["channel"]))
        return as_json(channel) if channel else error(404, 10003, "Unknown Channel")

    async def _edit_channel(self, request: web.Request) -> web.Response:
        channel = self.channels[int(request.match_info["channel"])]
        body = await request.json()
        if "available_tags" in body:
            refuse(rules.tag_problems(body["available_tags"]))
            if not self.permissions(self.bot, channel) & g.MANAGE_CHANNELS:
                return error(403, 50013, "Missing Permissions")
        if body.get("archived") is False and rules.archived(channel):
            channel["thread_metadata"]["archived"] = False  # unarchiving first is allowed (Manage Threads or owner)
        if "applied_tags" in body and rules.archived(channel):
            return error(400, 50083, "Thread is archived")
        if "available_tags" in body:
            channel["available_tags"] = [{**t, "id": str(t.get("id") or self.next_id()), "moderated": False,
                                          "emoji_id": None, "emoji_name": None} for t in body["available_tags"]]
        if "applied_tags" in body:
            channel["applied_tags"] = [str(t) for t in body["applied_tags"]]
        if body.get("archived") is True and channel["type"] == 11:
            channel["thread_metadata"]["archived"] = True
        return as_json(channel)

    def archive(self, thread: Json) -> None:
        """Discord archives a thread left idle for its auto_archive_duration (a forum post too)."""
        thread["thread_metadata"]["archived"] = True

    def expire_files(self) -> None:  # a day passes: every attachment URL handed out so far has expired
        self.cdn_clock_offset += cdn.LIFETIME + 1

    def close_dms(self, user: Json) -> None:  # `user` takes no DMs from server members: the bot gets 50007
        self.closed_dms.add(user["id"])
    async def _history(self, request: web.Request) -> web.Response:
        """GET /channels/{id}/messages: newest first, also with `after` (Discord pages `after` from the
        newest of each page); `before` and `after` bound the ids; at most `limit` (1-100, default 50)."""
        q = request.query
        limit = int(q.get("limit", "50"))
        if not 1 <= limit <= 100:
            return error(400, 50035, "Invalid Form Body: limit must be 1-100")
        found = [m for m in self.in_channel(request.match_info["channel"])
                 if ("after" not in q or int(m["id"]) > int(q["after"]))
                 and ("before" not in q or int(m["id"]) < int(q["before"]))]
        newest_first = sorted(found, key=lambda m: int(m["id"]), reverse=True)
        # with `after`, the page is the oldest `limit` after it (still sent newest first)
        page = newest_first[-limit:] if "after" in q else newest_first[:limit]
        return as_json([fetched(m) for m in page])

    async def _create_message(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel"])
        if channel_id not in self.channels:
            return error(404, 10003, "Unknown Channel")
        body, files = await p.read_body(request)
        refuse(self._problems(body))
        if (refused := self._may_not_write(self.channels[channel_id])) is not None:
            return refused
        nonce = body.get("nonce")
        if nonce and body.get("enforce_nonce") and (old := self.nonces.earlier(self.bot["id"], nonce)) is not None:
            return as_json(old)
        message = self.post(channel_id, self.bot, body, files)
        if nonce:
            self.nonces.keep(self.bot["id"], nonce, message)
        return as_json(message)

    @staticmethod
    def _problems(body: Json) -> list[str]:
        return discord_limits.message_problems(body) + rules.embed_problems(body.get("embeds") or [])

    def _may_not_write(self, channel: Json) -> web.Response | None:
        """Discord's refusal when the bot may not post here: its permissions in a server channel, or a
        DM recipient who takes no DMs (50007)."""
        if channel["type"] == 1:
            closed = channel["recipients"][0]["id"] in self.closed_dms
            return error(403, 50007, "Cannot send messages to this user") if closed else None
        problem = rules.write_problem(self.permissions(self.bot, channel), channel)
        return error(*problem) if problem else None

    def post(self, channel_id: int, author: Json, body: Json, files: dict[str, str] | None = None,
             message_id: int | None = None) -> Json:
        channel = self.channels[channel_id]
        in_guild = channel["type"] != 1
        if in_guild and not self.is_member(author):
            raise AssertionError(f"{author['username']} is not a member of the server: they cannot post there")
        if in_guild:
            body = {**body, "mentions": [{**u, "member": p.partial_member(self.member_json(u))} if self.is_member(u)
                                         else u for u in body.get("mentions", [])]}
        message = p.message(message_id or self.next_id(), channel_id, author, body, files or {},
                            guild_id=self.guild_id if in_guild else None,
                            member=self.member_json(author) if in_guild else None)
        message["pinged"] = rules.pinged(body)  # who Discord would notify (not a field Discord returns)
        cdn.sign(self, message)
        self.messages.setdefault(channel_id, []).append(message)
        channel["last_message_id"] = message["id"]
        if channel["type"] == 11 and channel.get("thread_metadata", {}).get("archived"):
            channel["thread_metadata"]["archived"] = False  # sending unarchives, as on Discord
        return message

    async def delete_channel(self, channel_id: int | str) -> None:
        """Someone deletes a thread (or a channel) in the client: gone with its messages, and the bot told."""
        channel = self.channels.pop(int(channel_id))
        self.messages.pop(int(channel_id), None)
        if channel["type"] in (10, 11, 12):
            await self.dispatch("THREAD_DELETE", {k: channel[k] for k in ("id", "guild_id", "parent_id", "type")})
        else:
            await self.dispatch("CHANNEL_DELETE", channel)

    async def _edit_message(self, request: web.Request) -> web.Response:
        message = self.message(request.match_info["channel"], request.match_info["message"])
        body, _ = await p.read_body(request)
        refuse(self._problems(body))
        if rules.archived(self.channels.get(int(request.match_info["channel"]))):
            return error(400, 50083, "Thread is archived")
        for key in ("content", "embeds", "components"):
            if key in body:
                message[key] = body[key]
        message["edited_timestamp"] = datetime.now(UTC).isoformat()
        return as_json(message)

    async def _thread_from_message(self, request: web.Request) -> web.Response:
        parent, message_id = int(request.match_info["channel"]), int(request.match_info["message"])
        if message_id in self.channels:
            return error(400, 160004, "A thread has already been created for this message")
        body = await request.json()
        thread = p.thread(message_id, self.guild_id, parent, int(self.bot["id"]), body["name"])
        self.channels[message_id] = thread
        await self.dispatch("THREAD_CREATE", {**thread, "newly_created": True})
        return as_json(thread)

    async def _forum_post(self, request: web.Request) -> web.Response:
        forum = int(request.match_info["channel"])
        body, files = await p.read_body(request)
        refuse(self._problems(body.get("message") or {}))
        if (refused := self._may_not_write(self.channels[forum])) is not None:
            return refused
        thread_id = self.next_id()
        thread = p.thread(thread_id, self.guild_id, forum, int(self.bot["id"]), body["name"])
        thread["applied_tags"] = [str(t) for t in body.get("applied_tags", [])]
        self.channels[thread_id] = thread
        starter = self.post(thread_id, self.bot, body.get("message") or {}, files, message_id=thread_id)
        await self.dispatch("THREAD_CREATE", {**thread, "newly_created": True})
        return as_json({**thread, "message": starter})

    async def _active_threads(self, request: web.Request) -> web.Response:
        return as_json({"threads": self.threads(), "members": []})

    async def _open_dm(self, request: web.Request) -> web.Response:
        body = await request.json()
        return as_json(self.dm_channel(self.users.get(str(body["recipient_id"])) or p.user(int(body["recipient_id"]), "someone")))

    def dm_channel(self, user: Json) -> Json:
        for channel in self.channels.values():
            if channel["type"] == 1 and channel["recipients"][0]["id"] == user["id"]:
                return channel
        channel = p.dm_channel(self.next_id(), user)
        self.channels[int(channel["id"])] = channel
        return channel
