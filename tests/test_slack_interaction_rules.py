"""The fake Slack keeps Slack's interaction rules (tests/support/slack_interaction_rules.py), each shown failing.

trigger_id: 3 seconds, one use (views.open `expired_trigger_id` / `exchanged_trigger_id` /
`invalid_trigger_id`); response_url: 5 answers in 30 minutes (404 `used_url` / `expired_url`);
slash-command text escaped as Slack sends it with `should_escape: true`; users.info `user_not_found`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import SlackRequests

TOKEN = "xoxb-rules"
USERS = {"U0BEN": {"id": "U0BEN", "name": "ben", "profile": {"real_name": "Ben Agent"}}}
MODAL = {"type": "modal", "title": {"type": "plain_text", "text": "Hello"},
         "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]}


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(token=TOKEN, users=USERS, channels={"C0TICKETS": "tickets", "C0BILL": "billing"}) as fake:
        yield fake


def web(slack: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=TOKEN, base_url=slack.base_url)


def requests(slack: FakeSlack, age: float = 0.0) -> SlackRequests:
    """Requests as if Slack had sent them `age` seconds ago."""
    return SlackRequests("secret", response_url_base=slack.hooks_url, clock=lambda: time.time() - age)


async def refused(call: Any) -> str:
    with pytest.raises(SlackApiError) as error:
        await call
    return str(error.value.response["error"])


async def test_a_trigger_id_opens_one_view(slack: FakeSlack) -> None:
    trigger = requests(slack).trigger_id()
    await web(slack).views_open(trigger_id=trigger, view=MODAL)
    assert await refused(web(slack).views_open(trigger_id=trigger, view=MODAL)) == "exchanged_trigger_id"
    assert len(slack.views) == 1


async def test_a_trigger_id_expires_after_three_seconds(slack: FakeSlack) -> None:
    assert await refused(web(slack).views_open(trigger_id=requests(slack, age=3.5).trigger_id(), view=MODAL)) \
        == "expired_trigger_id"
    await web(slack).views_open(trigger_id=requests(slack, age=2.0).trigger_id(), view=MODAL)  # within the window
    assert await refused(web(slack).views_open(trigger_id="", view=MODAL)) == "invalid_trigger_id"
    assert len(slack.views) == 1


async def test_a_response_url_takes_five_answers(slack: FakeSlack) -> None:
    hook = AsyncWebhookClient(requests(slack).response_url("commands"))
    statuses = [(await hook.send(text=f"answer {i}")).status_code for i in range(6)]
    assert statuses == [200] * 5 + [404]
    assert (await hook.send(text="again")).body == "used_url"
    assert len(slack.responses) == 5


async def test_a_response_url_expires_after_thirty_minutes(slack: FakeSlack) -> None:
    old = AsyncWebhookClient(requests(slack, age=31 * 60).response_url("commands"))
    answer = await old.send(text="too late")
    assert (answer.status_code, answer.body) == (404, "expired_url")
    assert (await AsyncWebhookClient(requests(slack, age=29 * 60).response_url("commands")).send(text="ok")).status_code == 200


async def test_command_text_is_escaped_as_slack_sends_it(slack: FakeSlack) -> None:
    assert slack.escaped("assign 1 @ben") == "assign 1 <@U0BEN|ben>"
    assert slack.escaped("assign 1 @nobody") == "assign 1 @nobody"  # Slack does not know them: text
    assert slack.escaped("move 1 #billing") == "move 1 <#C0BILL|billing>"
    assert slack.escaped("reply 1 Price < 10 & free <b>") == "reply 1 Price &lt; 10 &amp; free &lt;b&gt;"
    assert slack.escaped("note 1 #12 and #nochannel") == "note 1 #12 and #nochannel"


async def test_users_must_exist_and_a_slow_slack_is_slow(slack: FakeSlack) -> None:
    assert await refused(web(slack).users_info(user="U0GHOST")) == "user_not_found"
    slack.rules.delay["users.info"] = 0.3
    started = time.monotonic()
    assert (await web(slack).users_info(user="U0BEN"))["user"]["name"] == "ben"
    assert time.monotonic() - started >= 0.3
