"""The fake Slack is as strict as Slack: each rule of tests/support/slack_rules.py, and the channel,
message, user and paging errors, refused through the real AsyncWebClient over HTTP.

A rule the fake did not enforce would let the bot pass here and fail in a workspace; each test
first shows what Slack accepts, then what it refuses, so it fails if the rule is dropped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.support.fake_slack import FakeSlack
from tests.support.slack_rules import MAX_BLOCKS_TEXT, blocks_text_length

TOKEN = "xoxb-fake-token"
CHANNEL = "C0TICKETS"


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(token=TOKEN, users={"U0ANA": {"id": "U0ANA", "name": "ana"}}) as fake:
        yield fake


def web(slack: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=TOKEN, base_url=slack.base_url, retry_handlers=[])


def sections(total: int, each: int = 3000) -> list[dict[str, Any]]:
    """Sections of at most `each` characters holding `total` characters in all (each one valid alone)."""
    sizes = [each] * (total // each) + ([total % each] if total % each else [])
    return [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * n}} for n in sizes]


async def refused(call: Any) -> str:
    with pytest.raises(SlackApiError) as caught:
        await call
    return str(caught.value.response["error"])


async def test_blocks_over_12000_characters_in_all_are_msg_blocks_too_long(slack: FakeSlack) -> None:
    client = web(slack)
    fits = await client.chat_postMessage(channel=CHANNEL, text="fits", blocks=sections(MAX_BLOCKS_TEXT))
    assert blocks_text_length(slack.message(CHANNEL, fits["ts"]).blocks) == MAX_BLOCKS_TEXT
    too_long = sections(MAX_BLOCKS_TEXT + 1)
    assert await refused(client.chat_postMessage(channel=CHANNEL, text="long", blocks=too_long)) == "msg_blocks_too_long"
    assert await refused(client.chat_update(channel=CHANNEL, ts=fits["ts"], text="long", blocks=too_long)) \
        == "msg_blocks_too_long"
    assert await refused(client.chat_postEphemeral(channel=CHANNEL, user="U0ANA", text="long", blocks=too_long)) \
        == "msg_blocks_too_long"
    assert len(slack.messages) == 1 and slack.ephemeral == []


async def test_text_over_40000_characters_is_msg_too_long(slack: FakeSlack) -> None:
    await web(slack).chat_postMessage(channel=CHANNEL, text="x" * 40_000)
    assert await refused(web(slack).chat_postMessage(channel=CHANNEL, text="x" * 40_001)) == "msg_too_long"


@pytest.mark.parametrize("select", ["static_select", "multi_static_select"])
async def test_a_static_select_needs_an_option_in_messages_and_views(slack: FakeSlack, select: str) -> None:
    def blocks(options: list[dict[str, Any]]) -> list[dict[str, Any]]:
        element = {"type": select, "action_id": "team", "options": options,
                   "placeholder": {"type": "plain_text", "text": "Team"}}
        return [{"type": "input", "block_id": "team", "element": element, "label": {"type": "plain_text", "text": "To"}}]

    def modal(options: list[dict[str, Any]]) -> dict[str, Any]:
        return {"type": "modal", "title": {"type": "plain_text", "text": "Move"}, "blocks": blocks(options),
                "submit": {"type": "plain_text", "text": "Move"}}

    one = [{"text": {"type": "plain_text", "text": "Billing"}, "value": "billing"}]
    await web(slack).views_open(trigger_id="1.2.ok", view=modal(one))
    assert await refused(web(slack).views_open(trigger_id="1.2.none", view=modal([]))) == "invalid_arguments"
    actions = [{"type": "actions", "elements": [{**blocks([])[0]["element"]}]}]
    assert await refused(web(slack).chat_postMessage(channel=CHANNEL, text="x", blocks=actions)) == "invalid_blocks"


async def test_channels_the_bot_cannot_post_in(slack: FakeSlack) -> None:
    client = web(slack)
    root = await client.chat_postMessage(channel=CHANNEL, text="root")
    slack.outside.add("C0GONE")
    assert await refused(client.chat_postMessage(channel="C0GONE", text="x")) == "not_in_channel"
    slack.archive(CHANNEL)
    assert await refused(client.chat_postMessage(channel=CHANNEL, text="x")) == "is_archived"
    assert await refused(client.chat_update(channel=CHANNEL, ts=root["ts"], text="x")) == "is_archived"
    async with FakeSlack(token=TOKEN, channels={CHANNEL: "tickets"}) as strict:
        await web(strict).chat_postMessage(channel=CHANNEL, text="known")
        assert await refused(web(strict).chat_postMessage(channel="C0NOPE", text="x")) == "channel_not_found"


async def test_a_deleted_message_cannot_be_updated(slack: FakeSlack) -> None:
    client = web(slack)
    root = await client.chat_postMessage(channel=CHANNEL, text="root")
    await client.chat_update(channel=CHANNEL, ts=root["ts"], text="edited")
    await client.chat_delete(channel=CHANNEL, ts=root["ts"])
    assert await refused(client.chat_update(channel=CHANNEL, ts=root["ts"], text="again")) == "message_not_found"
    assert await refused(client.chat_delete(channel=CHANNEL, ts=root["ts"])) == "message_not_found"


async def test_an_unknown_user_is_user_not_found(slack: FakeSlack) -> None:
    assert (await web(slack).users_info(user="U0ANA"))["user"]["id"] == "U0ANA"
    assert await refused(web(slack).users_info(user="123456789012345678")) == "user_not_found"


async def test_history_and_replies_come_in_pages(slack: FakeSlack) -> None:
    client = web(slack)
    roots = [(await client.chat_postMessage(channel=CHANNEL, text=f"root {i}"))["ts"] for i in range(5)]
    for i in range(4):
        await client.chat_postMessage(channel=CHANNEL, thread_ts=roots[0], text=f"reply {i}")

    async def read(method: Any, **kwargs: Any) -> tuple[list[str], int]:
        seen, pages, cursor = [], 0, None
        while True:
            answer = await method(channel=CHANNEL, limit=2, cursor=cursor, **kwargs)
            seen += [m["text"] for m in answer["messages"]]
            pages += 1
            cursor = answer["response_metadata"]["next_cursor"]
            assert bool(cursor) == answer["has_more"]
            if not answer["has_more"]:
                return seen, pages

    assert await read(client.conversations_history) == ([f"root {i}" for i in reversed(range(5))], 3)
    assert await read(client.conversations_replies, ts=roots[0]) == (["root 0", *(f"reply {i}" for i in range(4))], 3)
    assert await refused(client.conversations_history(channel=CHANNEL, cursor="bm90LWEtY3Vyc29y")) == "invalid_cursor"


async def test_a_response_url_answer_slack_would_refuse_is_a_400_and_not_shown(slack: FakeSlack) -> None:
    async with aiohttp.ClientSession() as session:
        ok = await session.post(f"{slack.hooks_url}h1", json={"text": "fine", "blocks": sections(100)})
        long = await session.post(f"{slack.hooks_url}h1", json={"text": "long", "blocks": sections(13_000)})
        assert (ok.status, long.status, (await long.json())["error"]) == (200, 400, "msg_blocks_too_long")
    assert [r["text"] for r in slack.responses] == ["fine"]
