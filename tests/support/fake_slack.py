"""A fake Slack Web API over real HTTP, for the real slack_sdk clients to talk to.

Point `AsyncWebClient(token=..., base_url=fake.base_url)` (or the bot's
SLACK_API_URL) at it. It checks the bearer token, records every call, keeps the
channel's messages (threads, chat.update versions, files), and judges blocks as
Slack does: with slack_sdk's own block models plus the limits Slack enforces,
answering `invalid_blocks` / `msg_too_long` / `msg_blocks_too_long` instead of
accepting a bad payload (the rules, each with its source: tests/support/slack_rules.py).
Channels can be archived (`archive`) or closed to the bot (`outside`), messages deleted
(`delete`, or chat.delete), and history and replies come in pages, as in Slack.
It can be told to fail: `fail_next(method, status=429, retry_after=1)`, a 500, an
error body (for the calls `when` picks out, or the next ones), or a per-channel rate
limit on chat.postMessage. Who is in which
channel and user group: tests/support/slack_directory.py.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.support.block_kit import view_errors
from tests.support.fake_socket import FakeSocketMode
from tests.support.slack_channels import SlackChannels
from tests.support.slack_directory import SlackDirectory
from tests.support.slack_files import SlackFiles
from tests.support.slack_interaction_rules import InteractionRules, escape_command
from tests.support.slack_reading import SlackReading
from tests.support.slack_rules import content_error

JSON_ARGS = ("blocks", "attachments", "view", "files", "metadata")  # sent as JSON strings in forms
# "This method does not currently accept application/json" (api.slack.com/methods/conversations.members)
FORM_ONLY = frozenset({"conversations.members"})


# --- what the fake remembers -----------------------------------------------------

@dataclass
class Call:
    method: str
    args: dict[str, Any]
    status: int = 200
    error: str | None = None


@dataclass
class Posted:
    """A message in a channel; `versions` holds every text/blocks it had, latest last."""

    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None
    user: str
    versions: list[dict[str, Any]] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)
    reactions: list[tuple[str, str]] = field(default_factory=list)  # (name, user)
    metadata: dict[str, Any] | None = None  # chat.postMessage's message metadata, if any

    def payload(self, *, with_metadata: bool = False) -> dict[str, Any]:
        """The message as Slack shows it in events and interaction payloads."""
        body: dict[str, Any] = {"type": "message", "user": self.user, "bot_id": FakeSlack.bot_id,
                                "ts": self.ts, "text": self.text, "blocks": self.blocks, "team": FakeSlack.team_id}
        if self.thread_ts:
            body["thread_ts"] = self.thread_ts
        if self.files:
            body["files"] = self.files
        if with_metadata and self.metadata:
            body["metadata"] = self.metadata
        return body


@dataclass
class Failure:
    status: int
    retry_after: int | None
    error: str
    after: bool = False  # the call takes effect, then fails: the client cannot know it worked
    when: Callable[[dict[str, Any]], bool] | None = None  # fails only a call whose arguments this accepts


class FakeSlack(SlackDirectory, SlackFiles, SlackReading, SlackChannels):
    """Start with `async with FakeSlack(token=...) as slack:`; use `slack.base_url`.

    `members` (channel -> user ids), `usergroups` (S… -> user ids) and `private` (private channel ids)
    set up the workspace directory (tests/support/slack_directory.py).
    """

    team_id = "T0TEST"
    bot_id = "B0TEST"

    def __init__(self, *, token: str = "xoxb-test-token", bot_user_id: str = "U0BOT",
                 users: dict[str, dict[str, Any]] | None = None, channels: dict[str, str] | None = None,
                 clock: Callable[[], float] = time.monotonic, app_token: str = "xapp-test-token",
                 members: dict[str, Iterable[str]] | None = None, usergroups: dict[str, Iterable[str]] | None = None,
                 private: Iterable[str] = ()) -> None:
        self.token = token
        self.socket_mode = FakeSocketMode(app_token)
        self.bot_user_id = bot_user_id
        self.users: dict[str, dict[str, Any]] = dict(users or {})
        self.channels = channels  # id -> name; None accepts any channel
        self._init_directory(members, usergroups, private)
        self.clock = clock
        self.calls: list[Call] = []
        self.messages: dict[tuple[str, str], Posted] = {}
        self.ephemeral: list[dict[str, Any]] = []
        self.views: dict[str, dict[str, Any]] = {}
        self.uploads: dict[str, dict[str, Any]] = {}  # file_id -> {"filename", "length", "content"}
        self.responses: list[dict[str, Any]] = []  # what was POSTed to response_url hooks
        self.post_limit: int | None = None  # chat.postMessage per channel per second
        self.rules = InteractionRules()  # trigger ids, response_urls, slow methods (slack_interaction_rules.py)
        self.archived: set[str] = set()  # channels archived: posts answer is_archived
        self.outside: set[str] = set()  # channels the bot was removed from: posts answer not_in_channel
        self._failures: dict[str, deque[Failure]] = defaultdict(deque)
        self._posts: dict[str, deque[float]] = defaultdict(deque)
        self._seq = itertools.count(1)
        self.port = 0
        self._runner: web.AppRunner | None = None

    # --- lifecycle -----------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    @property
    def hooks_url(self) -> str:
        """Give this to tests/support/slack_requests as the response_url base."""
        return f"http://127.0.0.1:{self.port}/hooks/"

    async def __aenter__(self) -> FakeSlack:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_post("/hooks/{hook}", self._hook)
        self.socket_mode.install(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = self.socket_mode.port = int(self._runner.addresses[0][1])  # the kernel picked a free port
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.socket_mode.close()
        if self._runner:
            await self._runner.cleanup()

    # --- programming failures ---------------------------------------------------------
    def fail_next(self, method: str, *, status: int = 429, retry_after: int | None = 1, error: str | None = None,
                  times: int = 1, after: bool = False, when: Callable[[dict[str, Any]], bool] | None = None) -> None:
        """The next `times` calls of `method` fail: 429 + Retry-After, a 5xx, or `ok: false` with `error`.

        With `after=True` each call first takes effect (the message is posted) and then fails, as when
        Slack times out after doing the work; Slack says as much of `internal_error` and `fatal_error`
        ("It's possible some aspect of the operation succeeded before the error was raised",
        https://api.slack.com/methods/chat.postMessage). With `when`, only calls whose arguments it
        accepts fail (one post among the others); the rest go through untouched.
        """
        default = {429: "ratelimited"}.get(status, "internal_error" if status >= 500 else "fatal_error")
        for _ in range(times):
            self._failures[method].append(
                Failure(status, retry_after if status == 429 else None, error or default, after, when))

    def _failure_for(self, method: str, args: dict[str, Any]) -> Failure | None:
        """The first programmed failure that applies to this call, taken off the list."""
        pending = self._failures.get(method)
        for fail in pending or ():
            if fail.when is None or fail.when(args):
                pending.remove(fail)  # type: ignore[union-attr]
                return fail
        return None

    def limit_posts(self, per_second: int | None) -> None:
        """Allow at most this many chat.postMessage per channel in any one second; 429 beyond."""
        self.post_limit = per_second

    # --- reading what happened ------------------------------------------------------
    def calls_to(self, method: str, *, ok_only: bool = False) -> list[Call]:
        return [c for c in self.calls if c.method == method and (not ok_only or c.error is None)]

    def message(self, channel: str, ts: str) -> Posted:
        """A message as it looks now, after any chat.update."""
        return self.messages[(channel, ts)]

    def roots(self, channel: str) -> list[Posted]:
        return sorted((m for m in self.messages.values() if m.channel == channel and not m.thread_ts), key=lambda m: m.ts)

    def thread(self, channel: str, root_ts: str) -> list[Posted]:
        """The replies under a root, oldest first (the root itself excluded)."""
        return sorted((m for m in self.messages.values() if m.channel == channel and m.thread_ts == root_ts),
                      key=lambda m: m.ts)

    # --- HTTP -----------------------------------------------------------------------
    async def _args(self, request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            if request.match_info["method"] not in FORM_ONLY:
                args.update(await request.json())
        elif request.can_read_body:
            args.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
        for key in JSON_ARGS:
            if isinstance(args.get(key), str):
                try:
                    args[key] = json.loads(args[key])
                except ValueError:
                    pass
        return args

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._args(request)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip() or args.pop("token", "")
        args.pop("token", None)
        call = Call(method, args)
        self.calls.append(call)
        if pause := self.rules.delay.get(method):  # a slow Slack: the call answers after `pause` seconds
            await asyncio.sleep(pause)
        headers: dict[str, str] = {}
        if token == self.token and (fail := self._failure_for(method, args)) is not None:
            if fail.after and (handler := self._methods().get(method)) is not None:
                handler(args)
            call.status, call.error = fail.status, fail.error
            if fail.retry_after is not None:
                headers["Retry-After"] = str(fail.retry_after)
            return web.json_response({"ok": False, "error": fail.error}, status=fail.status, headers=headers)
        if method == "apps.connections.open":
            body: dict[str, Any] = self.socket_mode.connections_open(token)
        elif not token:
            body = {"ok": False, "error": "not_authed"}
        elif token != self.token:
            body = {"ok": False, "error": "invalid_auth"}
        elif method == "chat.postMessage" and (wait := self._rate_limited(str(args.get("channel", "")))):
            call.status, call.error = 429, "ratelimited"
            return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                     headers={"Retry-After": str(wait)})
        elif (handler := self._methods().get(method)) is None:
            body = {"ok": False, "error": "unknown_method"}
        else:
            body = handler(args)
        if not body.get("ok"):
            call.error = body.get("error")
        return web.json_response(body)

    def _rate_limited(self, channel: str) -> int:
        """Seconds to wait (0 = go ahead) under the per-channel limit, counted over the last second."""
        if self.post_limit is None:
            return 0
        now, recent = self.clock(), self._posts[channel]
        while recent and recent[0] <= now - 1.0:
            recent.popleft()
        if len(recent) >= self.post_limit:
            return max(1, math.ceil(recent[0] + 1.0 - now))
        recent.append(now)
        return 0

    async def _hook(self, request: web.Request) -> web.Response:
        """A response_url answer: judged like a message; a refused one is a 400 with Slack's error
        (https://api.slack.com/interactivity/handling#message_responses), and is not shown."""
        body = await request.json()
        if refused := self.rules.use_hook(request.match_info["hook"]):  # 5 uses in 30 minutes
            return web.Response(status=404, text=refused, content_type="text/plain")
        if error := content_error(body, need=not body.get("delete_original")):
            return web.json_response(error, status=400)
        self.responses.append({"hook": request.match_info["hook"], **body})
        return web.Response(text="ok", content_type="text/plain")

    def escaped(self, typed: str) -> str:
        """Slash-command text as Slack sends `typed` with should_escape: true, for this workspace."""
        return escape_command(typed, self.users, self.channels)

    # --- methods ----------------------------------------------------------------------
    def _methods(self) -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
        return {
            "auth.test": self._auth_test, "chat.postMessage": self._post, "chat.update": self._update,
            "chat.postEphemeral": self._ephemeral, "chat.getPermalink": self._permalink,
            "views.open": self._views_open, "views.update": self._views_update, "users.info": self._users_info,
            "conversations.info": self._conversation, "reactions.add": self._react,
            "conversations.members": self._members, "usergroups.users.list": self._usergroup_users,
            "conversations.history": self._history, "conversations.replies": self._replies,
            "files.getUploadURLExternal": self._upload_url, "files.completeUploadExternal": self._complete_upload,
            "chat.delete": self._delete,
        }

    def _with_block_ids(self, blocks: Any) -> list[dict[str, Any]]:
        """Slack gives every block an id when the sender did not; clicks echo it back."""
        return [b if b.get("block_id") else {**b, "block_id": f"b{next(self._seq)}"} for b in blocks or []]

    def _next_ts(self) -> str:
        micros = next(self._seq) * 100
        return f"{1_700_000_000 + micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _content_error(self, args: dict[str, Any], *, need: bool = True) -> dict[str, Any] | None:
        return self._channel_error(args.get("channel")) or content_error(args, need=need)

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": "https://fake.slack.test/", "team": "Fake", "user": "tiketti",
                "team_id": self.team_id, "user_id": self.bot_user_id, "bot_id": self.bot_id}

    def _post(self, args: dict[str, Any]) -> dict[str, Any]:
        if error := self._content_error(args):
            return error
        channel, thread_ts = str(args["channel"]), args.get("thread_ts") or None
        if thread_ts and (channel, str(thread_ts)) not in self.messages:
            return {"ok": False, "error": "thread_not_found"}
        posted = Posted(channel, self._next_ts(), str(args.get("text") or ""), self._with_block_ids(args.get("blocks")),
                        str(thread_ts) if thread_ts else None, self.bot_user_id)
        posted.versions.append({"text": posted.text, "blocks": posted.blocks})
        posted.metadata = args.get("metadata") if isinstance(args.get("metadata"), dict) else None
        self.messages[(channel, posted.ts)] = posted
        return {"ok": True, "channel": channel, "ts": posted.ts, "message": posted.payload()}

    def _update(self, args: dict[str, Any]) -> dict[str, Any]:
        if error := self._content_error(args, need=False):
            return error
        posted = self.messages.get((str(args.get("channel")), str(args.get("ts"))))
        if posted is None:
            return {"ok": False, "error": "message_not_found"}
        if "text" in args:
            posted.text = str(args["text"] or "")
        if "blocks" in args:
            posted.blocks = self._with_block_ids(args["blocks"])
        posted.versions.append({"text": posted.text, "blocks": posted.blocks})
        return {"ok": True, "channel": posted.channel, "ts": posted.ts, "text": posted.text, "message": posted.payload()}

    def _ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        if error := self._content_error(args):
            return error
        if not args.get("user"):
            return {"ok": False, "error": "user_not_in_channel"}
        self.ephemeral.append(args)
        return {"ok": True, "message_ts": self._next_ts()}

    def _permalink(self, args: dict[str, Any]) -> dict[str, Any]:
        posted = self.messages.get((str(args.get("channel")), str(args.get("message_ts"))))
        if posted is None:
            return {"ok": False, "error": "message_not_found"}
        link = f"https://fake.slack.test/archives/{posted.channel}/p{posted.ts.replace('.', '')}"
        if posted.thread_ts:
            link += f"?thread_ts={posted.thread_ts}&cid={posted.channel}"
        return {"ok": True, "channel": posted.channel, "permalink": link}

    def _store_view(self, view: dict[str, Any], view_id: str) -> dict[str, Any]:
        stored = {**view, "id": view_id, "team_id": self.team_id, "app_id": "A0TEST", "bot_id": self.bot_id,
                  "root_view_id": view_id, "hash": f"{next(self._seq)}.hash", "state": {"values": {}}}
        self.views[view_id] = stored
        return {"ok": True, "view": stored}

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        if problems := view_errors(args.get("view")):
            return {"ok": False, "error": "invalid_arguments", "errors": problems}
        if refused := self.rules.exchange_trigger(args.get("trigger_id")):  # 3 s, once
            return {"ok": False, "error": refused}
        return self._store_view(args["view"], f"V{next(self._seq):08d}")

    def _views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        external = args.get("external_id")
        by_external = [k for k, v in self.views.items() if external and v.get("external_id") == external]
        view_id = args.get("view_id") or (by_external[0] if by_external else None)
        if view_id not in self.views:
            return {"ok": False, "error": "not_found"}
        if args.get("hash") and args["hash"] != self.views[view_id]["hash"]:
            return {"ok": False, "error": "hash_conflict"}
        if problems := view_errors(args.get("view")):
            return {"ok": False, "error": "invalid_arguments", "errors": problems}
        return self._store_view(args["view"], view_id)

    def _react(self, args: dict[str, Any]) -> dict[str, Any]:
        posted = self.messages.get((str(args.get("channel")), str(args.get("timestamp"))))
        if posted is None:
            return {"ok": False, "error": "message_not_found"}
        reaction = (str(args.get("name")), self.bot_user_id)
        if reaction in posted.reactions:
            return {"ok": False, "error": "already_reacted"}
        posted.reactions.append(reaction)
        return {"ok": True}

    def _posted(self, channel: str, ts: str, text: str, thread_ts: str | None, files: list[dict[str, Any]]) -> Posted:
        """A message made by files.completeUploadExternal (tests/support/slack_files.py)."""
        return Posted(channel, ts, text, [], thread_ts, self.bot_user_id, files=files)
