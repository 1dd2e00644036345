"""Slack's door is always verified: signed or refused, well-formed or 400, answers only to Slack.

`/slack/events` exists only in HTTP mode with a signing secret. Unsigned, forged,
stale and garbled-signature requests get 401; correctly signed requests of a shape
Slack does not send get 400, never 500; a response_url that is not Slack's is
refused and never called. None of them has any effect: the ticket, its messages,
the mail sink, Slack and the response hooks are as they were. In Socket Mode the
route is not there at all, and the socket's payloads are checked the same way.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from aiohttp import web

from bot.adapters.slack import ticket_blocks
from bot.adapters.slack.inbound import ResponseUrls
from tests.support.db import Database
from tests.support.mails import messages, raw_mail, ticket
from tests.support.slack_bot import SECRET, SlackBot, eventually, running_bot
from tests.support.slack_requests import FORM

WRITES = ("chat.postMessage", "chat.update", "chat.postEphemeral", "views.open", "views.update", "reactions.add")


@pytest.fixture
async def bot(sqlite_database: Database, tmp_path: Path) -> AsyncIterator[SlackBot]:
    async with running_bot(sqlite_database, tmp_path) as b:
        yield b


async def ticket_with_root(bot: SlackBot) -> tuple[int, Any]:
    number = await bot.mail(raw_mail())
    await bot.settled()
    return number, await bot.root_of(number)


async def everything(bot: SlackBot, number: int) -> tuple[Any, ...]:
    """All a request could change: the ticket, its messages, mail, Slack writes, response hooks."""
    await bot.settled()
    t = await ticket(bot.core, number)
    assert t is not None
    writes = sum(len(bot.slack.calls_to(m)) for m in WRITES)
    return (t.assignee_id, t.status, t.priority, len(await messages(bot.core, number)), len(bot.sink.received),
            writes, len(bot.slack.responses), len(bot.slack.views))


def signed(body: str | bytes, content_type: str, *, secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    raw = body.encode() if isinstance(body, str) else body
    ts = str(int(time.time()))
    sig = "v0=" + hmac.new(secret.encode(), f"v0:{ts}:".encode() + raw, hashlib.sha256).hexdigest()
    return raw, {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig}


async def post(bot: SlackBot, raw: bytes, headers: dict[str, str]) -> int:
    async with bot.http.post(bot.url, data=raw, headers=headers) as resp:
        await resp.read()
        return resp.status


# --- signatures ---------------------------------------------------------------------------------

async def test_unsigned_forged_stale_and_garbled_signatures_are_refused_with_no_effect(bot: SlackBot) -> None:
    number, root = await ticket_with_root(bot)
    before = await everything(bot, number)
    reply = bot.requests.command(f"reply {number} mailed by nobody", user="U0ANA")
    claim = bot.requests.click(root.payload(), ticket_blocks.CLAIM, user="U0ANA")
    for request in (reply, claim):
        body = request.body.encode()
        assert await post(bot, body, {"Content-Type": request.content_type}) == 401  # unsigned
        assert (await bot.send(request.forged())).status == 401
        assert (await bot.send(request.stale())).status == 401
        for ts, sig in (("not-a-number", request.headers["X-Slack-Signature"]),  # Slack's verifier raised on these
                        (str(request.timestamp), "v0=\u00e9t\u00e9"), ("", ""), (str(request.timestamp), "v1=abc")):
            headers = {**request.headers, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig}
            assert await post(bot, body, headers) == 401
    assert await everything(bot, number) == before


# --- shapes ---------------------------------------------------------------------------------

def _payload(payload: Any) -> tuple[str, str]:
    return urlencode({"payload": payload if isinstance(payload, str) else json.dumps(payload)}), FORM


def _event(event: Any) -> tuple[str, str]:
    envelope = {"type": "event_callback", "team_id": "T0TEST", "api_app_id": "A0TEST", "event": event,
                "event_id": "Ev0MALFORMED", "event_time": int(time.time())}
    return json.dumps(envelope), "application/json"


USER = {"id": "U0ANA", "name": "ana", "team_id": "T0TEST"}
MALFORMED: dict[str, tuple[str | bytes, str]] = {
    "not JSON": ("{not json", "application/json"),
    "a JSON list": ("[1, 2, 3]", "application/json"),
    "not UTF-8": (b"{\"type\": \"url_verification\", \"challenge\": \"\xff\xfe\"}", "application/json"),
    "plain text": ("claim 1", "text/plain"),
    "form garbage": ("%%%&&&===", FORM),
    "payload not JSON": _payload("{{{"),
    "payload a string": _payload(json.dumps("block_actions")),
    "unknown type": _payload({"type": "block_suggestion_v9", "user": USER}),
    "no type": ("{}", "application/json"),
    "block_actions without user": _payload({"type": "block_actions", "actions": [{"action_id": ticket_blocks.CLAIM}]}),
    "block_actions user a string": _payload({"type": "block_actions", "user": "U0ANA",
                                             "actions": [{"action_id": ticket_blocks.CLAIM, "value": "1"}]}),
    "actions not a list": _payload({"type": "block_actions", "user": USER, "actions": {"action_id": ticket_blocks.CLAIM}}),
    "action without id": _payload({"type": "block_actions", "user": USER, "actions": [{"value": "1"}]}),
    "selected_option a string": _payload({"type": "block_actions", "user": USER, "actions": [
        {"action_id": ticket_blocks.PRIORITY, "block_id": "ticket.1.actions.1", "selected_option": "urgent"}]}),
    "view without callback": _payload({"type": "view_submission", "user": USER, "view": {"state": {}}}),
    "view without type": _payload({"type": "view_submission", "user": USER, "view": {"callback_id": "x"}}),
    "view state garbage": _payload({"type": "view_submission", "user": USER,
                                    "view": {"type": "modal", "callback_id": ticket_blocks.REPLY_MODAL,
                                             "state": {"values": [1]}}}),
    "reply metadata not JSON": _payload({"type": "view_submission", "user": USER, "view": {
        "type": "modal", "callback_id": ticket_blocks.REPLY_MODAL, "private_metadata": "ticket=1", "state": {"values": {}}}}),
    "reply metadata odd number": _payload({"type": "view_submission", "user": USER, "view": {
        "type": "modal", "callback_id": ticket_blocks.REPLY_MODAL, "private_metadata": json.dumps({"ticket": "\u00b2"}), "state": {"values": {}}}}),
    "reply metadata naive time": _payload({"type": "view_submission", "user": USER, "view": {
        "type": "modal", "callback_id": ticket_blocks.REPLY_MODAL, "private_metadata": json.dumps({"ticket": 1, "opened": "2024-01-01T10:00"}),
        "state": {"values": {}}}}),
    "tags metadata not a number": _payload({"type": "view_submission", "user": USER, "view": {
        "type": "modal", "callback_id": ticket_blocks.TAGS_MODAL, "private_metadata": "all", "state": {"values": {}}}}),
    "shortcut without message": _payload({"type": "message_action", "user": USER, "callback_id": "x",
                                          "trigger_id": "1.2.3", "channel": {"id": "C0TICKETS"}}),
    "event a string": _event("message"),
    "event of no type": _event({"channel": "C0TICKETS"}),
    "event not subscribed": _event({"type": "channel_rename", "channel": {"id": "C0TICKETS"}}),
    "message without channel": _event({"type": "message", "user": "U0ANA", "text": "hi", "ts": "1.1"}),
    "reaction item a list": _event({"type": "reaction_added", "user": "U0ANA", "reaction": "eyes", "item": []}),
    "joined without user": _event({"type": "member_joined_channel", "channel": "C0TICKETS"}),
    "group change of numbers": _event({"type": "subteam_members_changed", "subteam_id": "S0X", "added_users": [1]}),
    "command without user": (urlencode({"command": "/ticket", "text": "claim 1",
                                        "response_url": "https://hooks.slack.com/commands/T0/1/x"}), FORM),
    "command without response_url": (urlencode({"command": "/ticket", "text": "claim 1", "user_id": "U0ANA"}), FORM),
}


@pytest.mark.parametrize("case", list(MALFORMED))
async def test_signed_requests_of_an_unexpected_shape_get_400_and_do_nothing(bot: SlackBot, case: str,
                                                                           caplog: pytest.LogCaptureFixture) -> None:
    number, _ = await ticket_with_root(bot)
    before = await everything(bot, number)
    body, content_type = MALFORMED[case]
    with caplog.at_level(logging.WARNING):
        assert await post(bot, *signed(body, content_type)) == 400
    assert await everything(bot, number) == before
    assert "unexpected shape" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], "refused, not failed"


async def test_the_door_still_takes_what_slack_sends(bot: SlackBot) -> None:
    """The checks refuse only what Slack does not send: its ssl_check, and a command mentioning "payload"."""
    number, root = await ticket_with_root(bot)
    assert await post(bot, *signed(urlencode({"ssl_check": "1", "token": "legacy"}), FORM)) == 200
    assert await post(bot, urlencode({"ssl_check": "1"}).encode(), {"Content-Type": FORM}) == 200  # nothing runs
    before = len(bot.slack.responses)
    await bot.send(bot.requests.command(f"note {number} the payload was 3 MB", user="U0ANA"))
    answer = await eventually(lambda: bot.slack.responses[before:])
    assert "note saved" in answer[0]["text"]  # Bolt alone read this form as an empty payload: no answer at all
    notes = [m.body_text for m in await messages(bot.core, number)]
    assert "the payload was 3 MB" in notes


# --- response_url ------------------------------------------------------------------------------

def test_only_slack_hooks_and_the_api_host_may_receive_answers() -> None:
    urls = ResponseUrls.for_api("http://127.0.0.1:8123/api/")
    assert urls.allows("https://hooks.slack.com/commands/T0/123/abc")
    assert urls.allows("https://HOOKS.slack.com:443/actions/T0/1/x")
    assert urls.allows("http://127.0.0.1:8123/hooks/x")
    for url in ("http://hooks.slack.com/commands/T0/1/x", "https://hooks.slack.com.evil.example/commands/x",
                "https://evil.example/?https://hooks.slack.com/", "https://hooks.slack.com@evil.example/x",
                "https://user@hooks.slack.com/x", "https://hooks.slack.com:8443/x", "http://127.0.0.1:8124/hooks/x",
                "file:///etc/passwd", "", "https://[::1/x", "javascript:alert(1)"):
        assert not urls.allows(url), url
    assert ResponseUrls.for_api("https://slack.com/api/").allows("https://slack.com/x")


@pytest.fixture
async def elsewhere() -> AsyncIterator[tuple[str, list[str]]]:
    """A server that is not Slack, recording every request it gets."""
    hits: list[str] = []

    async def record(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", record)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}/", hits
    await runner.cleanup()


async def test_a_response_url_that_is_not_slacks_is_never_called(bot: SlackBot, elsewhere: tuple[str, list[str]],
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    base, hits = elsewhere
    number, root = await ticket_with_root(bot)
    before = await everything(bot, number)
    command = bot.requests.command(f"show {number}", user="U0ANA")
    form = dict(parse_qsl(command.body))
    form["response_url"] = f"{base}commands/T0TEST/1/SECRET-HOOK-PATH"
    click = json.loads(dict(parse_qsl(bot.requests.click(root.payload(), ticket_blocks.CLAIM, user="U0ANA").body))["payload"])
    click["response_url"] = f"{base}actions/T0TEST/2/SECRET-HOOK-PATH"
    with caplog.at_level(logging.WARNING):
        assert await post(bot, *signed(urlencode(form), FORM)) == 400
        assert await post(bot, *signed(*_payload(click))) == 400
    await asyncio.sleep(0.2)
    assert hits == [] and await everything(bot, number) == before
    assert "127.0.0.1" in caplog.text and "SECRET-HOOK-PATH" not in caplog.text


# --- Socket Mode: no HTTP door at all -------------------------------------------------------------

@pytest.fixture
async def socket_bot(sqlite_database: Database, tmp_path: Path) -> AsyncIterator[SlackBot]:
    async with running_bot(sqlite_database, tmp_path, slack_app_token="xapp-test-token",
                           slack_signing_secret=None) as b:
        yield b


async def test_socket_mode_serves_no_http_door_and_checks_the_socket(socket_bot: SlackBot,
                                                                     elsewhere: tuple[str, list[str]]) -> None:
    bot, socket = socket_bot, socket_bot.slack.socket_mode
    number, root = await ticket_with_root(bot)
    before = await everything(bot, number)
    unsigned = bot.requests.command(f"reply {number} mailed over plain HTTP", user="U0ANA")
    assert await post(bot, unsigned.body.encode(), {"Content-Type": FORM}) == 404
    assert (await bot.send(unsigned)).status == 404  # signed with some secret: still no door
    async with bot.http.get(bot.url.replace("/slack/events", "/healthz")) as health:
        assert health.status == 200
    # Over the socket, a payload of the wrong shape or answering elsewhere is acknowledged and dropped.
    command = dict(parse_qsl(bot.requests.command(f"claim {number}", user="U0ANA").body))
    assert (await socket.send("slash_commands", {**command, "user_id": 42}))["envelope_id"]
    assert (await socket.send("slash_commands", {**command, "response_url": f"{elsewhere[0]}x/SECRET"}))["envelope_id"]
    await asyncio.sleep(0.2)
    assert elsewhere[1] == [] and await everything(bot, number) == before
    assert (await socket.send("slash_commands", command))["envelope_id"]  # the real thing works
    await eventually(lambda: "<@U0ANA>" in bot.root_text(root))


async def test_socket_mode_with_a_signing_secret_serves_no_http_door_either(sqlite_database: Database,
                                                                            tmp_path: Path) -> None:
    async with running_bot(sqlite_database, tmp_path, slack_app_token="xapp-test-token") as bot:
        number, _ = await ticket_with_root(bot)
        assert (await bot.send(bot.requests.command(f"claim {number}", user="U0ANA"))).status == 404


# --- start-up ---------------------------------------------------------------------------------

async def test_run_with_a_bot_token_and_no_way_to_verify_requests_refuses_to_start(tmp_path: Path) -> None:
    from tests.test_slack_run import run_env

    for secret in (None, "   "):
        extra = {"SLACK_SIGNING_SECRET": secret} if secret else {}
        env = run_env(tmp_path, SLACK_BOT_TOKEN="xoxb-x", TIKETTI_SLACK_CHANNEL="C0TICKETS", **extra)
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", env=env, cwd=tmp_path,
                                                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        out, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
        assert proc.returncode == 78, out.decode()
        assert b"SLACK_SIGNING_SECRET is not set" in out and b"SLACK_APP_TOKEN" in out


async def test_a_refused_request_says_nothing_about_the_secret(bot: SlackBot, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        number, _ = await ticket_with_root(bot)
        await bot.send(bot.requests.command(f"claim {number}", user="U0ANA").forged())
        await post(bot, *signed("{not json", "application/json"))
    assert SECRET not in caplog.text
