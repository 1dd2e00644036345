"""The fake Slack Web API and the signed Slack requests, checked with Slack's own client and Bolt.

The end-to-end suite trusts these two to behave like Slack; these tests hold them
to it: the real AsyncWebClient talks to the fake over HTTP (tokens, 429 +
Retry-After, 500, invalid blocks, files upload v2), and a real Bolt AsyncApp
served over HTTP accepts our signed requests and rejects forged and stale ones.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler, AsyncServerErrorRetryHandler
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack import ticket_blocks
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import SlackRequests
from tests.test_slack_blocks import MAIL, TICKET

TOKEN = "xoxb-fake-token"
SECRET = "signing-secret-for-tests"
CHANNEL = "C0TICKETS"
ANA = {"id": "U0ANA", "name": "ana", "real_name": "Ana Agent",
       "profile": {"email": "ana@example.com", "real_name": "Ana Agent"}}


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(token=TOKEN, users={"U0ANA": ANA}) as fake:
        yield fake


def client(slack: FakeSlack, *, token: str | None = TOKEN, retries: bool = False) -> AsyncWebClient:
    handlers = [AsyncRateLimitErrorRetryHandler(max_retry_count=2),
                AsyncServerErrorRetryHandler(max_retry_count=2, interval_calculator=FixedValueRetryIntervalCalculator(0.05))]
    return AsyncWebClient(token=token, base_url=slack.base_url, retry_handlers=handlers if retries else [])


async def test_posts_threads_and_updates_are_kept_like_slack_keeps_them(slack: FakeSlack) -> None:
    web_client = client(slack)
    root = await web_client.chat_postMessage(channel=CHANNEL, **ticket_blocks.root_message(TICKET))
    reply = await web_client.chat_postMessage(channel=CHANNEL, thread_ts=root["ts"], **ticket_blocks.thread_message(MAIL))
    claimed = ticket_blocks.root_message(replace(TICKET, assignee="Ana", assignee_chat_id="U0ANA"))
    await web_client.chat_update(channel=CHANNEL, ts=root["ts"], **claimed)

    assert root["ts"] < reply["ts"] and root["message"]["text"] == ticket_blocks.root_message(TICKET)["text"]
    assert [m.ts for m in slack.roots(CHANNEL)] == [root["ts"]]
    assert [m.ts for m in slack.thread(CHANNEL, root["ts"])] == [reply["ts"]]
    latest = slack.message(CHANNEL, root["ts"])
    assert len(latest.versions) == 2 and "<@U0ANA>" in str(latest.blocks) and "<@U0ANA>" not in str(latest.versions[0])
    assert all(b.get("block_id") for b in latest.blocks)  # Slack names every block
    assert [c.method for c in slack.calls] == ["chat.postMessage", "chat.postMessage", "chat.update"]
    assert slack.calls[1].args["thread_ts"] == root["ts"]

    with pytest.raises(SlackApiError) as missing:
        await web_client.chat_update(channel=CHANNEL, ts="1.000000", text="x")
    assert missing.value.response["error"] == "message_not_found"
    with pytest.raises(SlackApiError) as orphan:
        await web_client.chat_postMessage(channel=CHANNEL, thread_ts="1.000000", text="x")
    assert orphan.value.response["error"] == "thread_not_found"


async def test_429_carries_retry_after_and_slacks_retry_handler_gets_through(slack: FakeSlack) -> None:
    slack.fail_next("chat.postMessage", status=429, retry_after=1)
    with pytest.raises(SlackApiError) as limited:
        await client(slack).chat_postMessage(channel=CHANNEL, text="first")
    assert limited.value.response.status_code == 429 and limited.value.response.headers["Retry-After"] == "1"
    assert slack.roots(CHANNEL) == []

    slack.fail_next("chat.postMessage", status=429, retry_after=1)
    posted = await client(slack, retries=True).chat_postMessage(channel=CHANNEL, text="second")
    assert posted["ok"] and [m.text for m in slack.roots(CHANNEL)] == ["second"]
    assert [(c.status, c.error) for c in slack.calls_to("chat.postMessage")][-2:] == [(429, "ratelimited"), (200, None)]


async def test_server_errors_and_error_bodies_can_be_programmed(slack: FakeSlack) -> None:
    slack.fail_next("chat.update", status=500, times=2)
    with pytest.raises(SlackApiError) as failed:
        await client(slack).chat_update(channel=CHANNEL, ts="1.0", text="x")
    assert failed.value.response.status_code == 500
    slack.fail_next("chat.postMessage", status=503)
    assert (await client(slack, retries=True).chat_postMessage(channel=CHANNEL, text="after a 503"))["ok"]
    slack.fail_next("users.info", status=200, error="user_not_visible")
    with pytest.raises(SlackApiError) as hidden:
        await client(slack).users_info(user="U0ANA")
    assert hidden.value.response["error"] == "user_not_visible"


@pytest.mark.parametrize("payload, error", [
    ({"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]}, "invalid_blocks"),
    ({"blocks": [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}]}, "invalid_blocks"),
    ({"blocks": [{"type": "actions", "elements": [{"type": "button", "action_id": "a",
                                                    "text": {"type": "plain_text", "text": "x" * 76}}]}]}, "invalid_blocks"),
    ({"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}] * 51}, "invalid_blocks"),
    ({"blocks": [{"type": "section", "txt": {"type": "mrkdwn", "text": "typo"}}]}, "invalid_blocks"),
    ({"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}, "colour": "red"}]}, "invalid_blocks"),
    ({"blocks": [{"type": "sektion", "text": {"type": "mrkdwn", "text": "x"}}]}, "invalid_blocks"),
    ({"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": ""}}]}, "invalid_blocks"),
    ({"blocks": [{"type": "section", "fields": [{"type": "mrkdwn", "text": "x" * 2001}]}]}, "invalid_blocks"),
    ({"text": "x" * 40_001}, "msg_too_long"),
    pytest.param({}, "no_text", marks=pytest.mark.filterwarnings("ignore:The top-level `text`")),
], ids=["section", "header", "button", "51-blocks", "typo", "unknown-key", "unknown-type", "empty", "field", "text",
        "nothing"])
async def test_what_slack_would_refuse_is_refused(slack: FakeSlack, payload: dict[str, Any], error: str) -> None:
    kwargs = {"text": "fallback", **payload} if "blocks" in payload else payload
    with pytest.raises(SlackApiError) as refused:
        await client(slack).chat_postMessage(channel=CHANNEL, **kwargs)
    assert refused.value.response["error"] == error
    assert slack.messages == {}


async def test_form_encoded_calls_with_the_token_in_the_body_work_too(slack: FakeSlack) -> None:
    form = {"token": TOKEN, "channel": CHANNEL, "text": "form", "blocks": json.dumps(ticket_blocks.root_message(TICKET)["blocks"])}
    async with aiohttp.ClientSession() as http, http.post(slack.base_url + "chat.postMessage", data=form) as resp:
        answer = await resp.json()
    assert answer["ok"] and slack.message(CHANNEL, answer["ts"]).blocks[0]["type"] == "header"


async def test_tokens_are_checked(slack: FakeSlack) -> None:
    for token, error in (("xoxb-wrong", "invalid_auth"), (None, "not_authed")):
        with pytest.raises(SlackApiError) as refused:
            await client(slack, token=token).chat_postMessage(channel=CHANNEL, text="hi")
        assert refused.value.response["error"] == error
    assert slack.messages == {} and all("token" not in c.args for c in slack.calls)
    assert (await client(slack).auth_test())["user_id"] == slack.bot_user_id


async def test_files_upload_v2_lands_in_the_thread(slack: FakeSlack) -> None:
    web_client = client(slack)
    root = await web_client.chat_postMessage(channel=CHANNEL, text="root")
    body = "line of a very long mail\n" * 4000
    done = await web_client.files_upload_v2(channel=CHANNEL, thread_ts=root["ts"], content=body,
                                            filename="ticket-42-message-7.txt", title="#42 full message",
                                            initial_comment="The whole mail")
    assert done["file"]["name"] == "ticket-42-message-7.txt"
    assert slack.file_content(done["file"]["id"]) == body.encode()
    [shared] = slack.thread(CHANNEL, root["ts"])
    assert shared.text == "The whole mail" and shared.files[0]["title"] == "#42 full message"
    assert [c.method for c in slack.calls][1:] == ["files.getUploadURLExternal", "files.completeUploadExternal"]


async def test_per_channel_post_limit_answers_429_beyond_it() -> None:
    now = [1000.0]
    async with FakeSlack(token=TOKEN, clock=lambda: now[0]) as slack:
        slack.limit_posts(3)
        web_client = client(slack)
        for i in range(3):
            await web_client.chat_postMessage(channel=CHANNEL, text=f"root {i}")
        with pytest.raises(SlackApiError) as limited:
            await web_client.chat_postMessage(channel=CHANNEL, text="one too many")
        assert limited.value.response.status_code == 429 and limited.value.response.headers["Retry-After"] == "1"
        await web_client.chat_postMessage(channel="C0OTHER", text="another channel has its own budget")
        now[0] += 1.0
        await web_client.chat_postMessage(channel=CHANNEL, text="a second later")
        assert len(slack.roots(CHANNEL)) == 4


async def test_the_other_methods_the_bot_uses(slack: FakeSlack) -> None:
    web_client = client(slack)
    root = await web_client.chat_postMessage(channel=CHANNEL, text="root")
    assert (await web_client.users_info(user="U0ANA"))["user"]["profile"]["email"] == "ana@example.com"
    assert (await web_client.conversations_info(channel=CHANNEL))["channel"]["id"] == CHANNEL
    link = await web_client.chat_getPermalink(channel=CHANNEL, message_ts=root["ts"])
    assert root["ts"].replace(".", "") in link["permalink"]
    await web_client.chat_postEphemeral(channel=CHANNEL, user="U0ANA", text="only you")
    assert slack.ephemeral[0]["user"] == "U0ANA"
    await web_client.reactions_add(channel=CHANNEL, timestamp=root["ts"], name="eyes")
    with pytest.raises(SlackApiError) as twice:
        await web_client.reactions_add(channel=CHANNEL, timestamp=root["ts"], name="eyes")
    assert twice.value.response["error"] == "already_reacted"
    opened = await web_client.views_open(trigger_id="1.2.abc", view=ticket_blocks.reply_modal(TICKET, private_metadata="42"))
    again = ticket_blocks.reply_modal(TICKET, private_metadata="43")
    updated = await web_client.views_update(view_id=opened["view"]["id"], view=again)
    assert slack.views[updated["view"]["id"]]["private_metadata"] == "43"
    with pytest.raises(SlackApiError) as bad_view:
        await web_client.views_open(trigger_id="1.2.abc", view={"type": "modal", "title": {"type": "plain_text",
                                    "text": "A title far longer than Slack allows"}, "blocks": []})
    assert bad_view.value.response["error"] == "invalid_arguments"


async def test_history_finds_a_root_by_its_metadata_and_replies_read_the_thread(slack: FakeSlack) -> None:
    web_client = client(slack)
    meta = {"event_type": "tiketti_ticket", "event_payload": {"ticket": 42}}
    root = await web_client.chat_postMessage(channel=CHANNEL, text="root", metadata=meta)
    await web_client.chat_postMessage(channel=CHANNEL, thread_ts=root["ts"], text="in the thread")
    history = await web_client.conversations_history(channel=CHANNEL, include_all_metadata=True)
    assert [(m["ts"], m["metadata"]) for m in history["messages"]] == [(root["ts"], meta)]
    replies = await web_client.conversations_replies(channel=CHANNEL, ts=root["ts"])
    assert [m["text"] for m in replies["messages"]] == ["root", "in the thread"]


# --- signed requests, as a real Bolt app sees them ----------------------------------------

@pytest.fixture
async def bolt(slack: FakeSlack) -> AsyncIterator[tuple[str, list[tuple[str, Any]]]]:
    """A Bolt AsyncApp behind aiohttp on 127.0.0.1, recording what each listener received."""
    seen: list[tuple[str, Any]] = []
    app = AsyncApp(signing_secret=SECRET, client=client(slack))

    @app.command("/ticket")
    async def command(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        seen.append(("command", body["text"]))

    @app.action(ticket_blocks.REPLY)
    async def reply(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        number = ticket_blocks.ticket_number(body["actions"][0])
        await client.views_open(trigger_id=body["trigger_id"], view=ticket_blocks.reply_modal(TICKET, private_metadata=str(number)))
        seen.append(("reply", number))

    @app.action(ticket_blocks.PRIORITY)
    async def priority(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        action = body["actions"][0]
        seen.append(("priority", (ticket_blocks.ticket_number(action), action["selected_option"]["value"])))

    @app.view(ticket_blocks.REPLY_MODAL)
    async def submitted(ack: Any, view: dict[str, Any]) -> None:
        await ack()
        text = view["state"]["values"][ticket_blocks.REPLY_BLOCK][ticket_blocks.REPLY_INPUT]["value"]
        seen.append(("submitted", (view["private_metadata"], text)))

    @app.shortcut("ticket.send_to_customer")
    async def shortcut(ack: Any, shortcut: dict[str, Any]) -> None:
        await ack()
        seen.append(("shortcut", shortcut["message"]["text"]))

    @app.event("message")
    async def message(event: dict[str, Any]) -> None:
        seen.append(("message", (event.get("subtype"), event.get("thread_ts") or event["message"].get("thread_ts"))))

    @app.event("app_mention")
    async def mention(event: dict[str, Any]) -> None:
        seen.append(("mention", event["text"]))

    @app.event("reaction_added")
    async def reaction(event: dict[str, Any]) -> None:
        seen.append(("reaction", event["reaction"]))

    async def endpoint(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    server = web.Application()
    server.router.add_post("/slack/events", endpoint)
    runner = web.AppRunner(server, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events", seen
    await runner.cleanup()


async def test_bolt_accepts_every_kind_of_signed_request(slack: FakeSlack, bolt: tuple[str, list[tuple[str, Any]]]) -> None:
    url, seen = bolt
    req = SlackRequests(SECRET, channel_id=CHANNEL, bot_user_id=slack.bot_user_id, response_url_base=slack.hooks_url)
    root = await client(slack).chat_postMessage(channel=CHANNEL, **ticket_blocks.root_message(TICKET))
    posted = slack.message(CHANNEL, root["ts"]).payload()
    note = req.message("checking with <@U0BOB>", user="U0ANA", thread_ts=root["ts"])
    async with aiohttp.ClientSession() as http:
        replies = [await r.post(http, url) for r in (
            req.command("claim 42", user="U0ANA"),
            req.click(posted, ticket_blocks.REPLY, user="U0ANA"),
            req.select_option(posted, ticket_blocks.PRIORITY, "urgent", user="U0ANA"),
            req.event(note),
            req.event(req.message_changed(note, "checked with <@U0BOB>")),
            req.event(req.reaction_added("eyes", user="U0ANA", item_ts=root["ts"])),
            req.event(req.app_mention(f"<@{slack.bot_user_id}> close", user="U0ANA", thread_ts=root["ts"])),
            req.message_action(note, callback_id="ticket.send_to_customer", user="U0ANA"),
        )]
        [opened] = slack.views.values()
        replies.append(await req.view_submission(opened, {ticket_blocks.REPLY_BLOCK: {ticket_blocks.REPLY_INPUT: "Fixed!"}},
                                                 user="U0ANA").post(http, url))
        challenge = await req.url_verification("abc123").post(http, url)
    assert [r.status for r in replies] == [200] * 9
    assert challenge.json() == {"challenge": "abc123"}
    assert seen == [
        ("command", "claim 42"), ("reply", 42), ("priority", (42, "urgent")), ("message", (None, root["ts"])),
        ("message", ("message_changed", root["ts"])), ("reaction", "eyes"), ("mention", "<@U0BOT> close"),
        ("shortcut", "checking with <@U0BOB>"), ("submitted", ("42", "Fixed!")),
    ]


async def test_forged_and_stale_requests_are_what_slack_would_call_invalid(
        slack: FakeSlack, bolt: tuple[str, list[tuple[str, Any]]]) -> None:
    url, seen = bolt
    req = SlackRequests(SECRET)
    good = req.command("queue", user="U0ANA")
    verifier = SignatureVerifier(SECRET)
    assert verifier.is_valid_request(good.body, good.headers)
    assert not verifier.is_valid_request(good.forged().body, good.forged().headers)
    assert not verifier.is_valid_request(good.stale().body, good.stale().headers)
    async with aiohttp.ClientSession() as http:
        assert [(await r.post(http, url)).status for r in (good.forged(), good.stale(), good)] == [401, 401, 200]
    assert seen == [("command", "queue")]
    with pytest.raises(LookupError):
        req.click({"ts": "1.0", "blocks": ticket_blocks.root_message(TICKET)["blocks"]}, "ticket.nonexistent", user="U0ANA")
