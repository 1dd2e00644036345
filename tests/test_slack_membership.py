"""Who is in the tickets channels and the roster's user groups, as the bot learns it from Slack.

The real slack_sdk client talks to the fake Slack over HTTP: conversations.members
is read page by page, usergroups.users.list in one answer, and both are kept in
memory, changed at once by membership events, and kept through a failed reload.
The fake itself is held to Slack's documented behaviour first.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.membership import PAGE, MemberSet, Membership
from bot.adapters.slack.people import People
from tests.support.fake_slack import FakeSlack

TOKEN = "xoxb-membership"
TICKETS, BILLING, SECRET_ROOM = "C0TICKETS", "C0BILLING", "G0SECRET"
CROWD = [f"U{n:07d}" for n in range(1, 451)]  # more than two pages
ANA = {"id": "U0ANA", "name": "ana", "is_email_confirmed": True,
       "profile": {"display_name": "Ana", "email": "ana@helpdesk.test"}}
MALLORY = {"id": "U0MAL", "name": "mallory", "is_email_confirmed": False,
           "profile": {"display_name": "Mallory", "email": "boss@helpdesk.test"}}


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(token=TOKEN, users={"U0ANA": ANA, "U0MAL": MALLORY},
                         members={TICKETS: ["U0ANA", *CROWD], BILLING: ["U0BEN"], SECRET_ROOM: ["U0EVA"]},
                         usergroups={"S0HELPERS": ["U0EVA", "U0MAL"]}, private=[SECRET_ROOM]) as fake:
        yield fake


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def membership(slack: FakeSlack, clock: Clock, *, channels: tuple[str, ...] = (TICKETS, BILLING),
               groups: tuple[str, ...] = ("S0HELPERS", "ana@helpdesk.test", "U0BEN", "1234567890")) -> Membership:
    return Membership(AsyncWebClient(token=TOKEN, base_url=slack.base_url, retry_handlers=[]),
                      lambda: channels, lambda: groups, clock=clock, refresh=300.0, retry=30.0)


# --- the fake, as Slack documents the two methods --------------------------------------------

async def test_fake_conversations_members_pages_by_cursor_and_refuses_what_slack_refuses(slack: FakeSlack) -> None:
    api = AsyncWebClient(token=TOKEN, base_url=slack.base_url, retry_handlers=[])
    first = await api.conversations_members(channel=TICKETS, limit=200)
    assert first["members"][:2] == ["U0BOT", "U0ANA"] and len(first["members"]) == 200
    cursor = first["response_metadata"]["next_cursor"]
    second = await api.conversations_members(channel=TICKETS, limit=200, cursor=cursor)
    third = await api.conversations_members(channel=TICKETS, limit=200,
                                            cursor=second["response_metadata"]["next_cursor"])
    assert len(third["members"]) == 452 - 400 and third["response_metadata"]["next_cursor"] == ""
    assert (await api.conversations_members(channel=TICKETS))["members"][:1] == ["U0BOT"]  # default limit 100
    for args, error in (({"channel": TICKETS, "limit": 1000}, "invalid_limit"),
                        ({"channel": TICKETS, "limit": 0}, "invalid_limit"),
                        ({"channel": TICKETS, "cursor": "bm90LWEtY3Vyc29y"}, "invalid_cursor"),
                        ({"channel": BILLING, "cursor": cursor}, "invalid_cursor"),  # another channel's cursor
                        ({"channel": SECRET_ROOM}, "channel_not_found")):  # private, and the bot is not in it
        with pytest.raises(SlackApiError, match=error):
            await api.conversations_members(**args)


async def test_fake_conversations_members_reads_no_json_body(slack: FakeSlack) -> None:
    """"This method does not currently accept application/json": the channel in a JSON body is not seen."""
    api = AsyncWebClient(token=TOKEN, base_url=slack.base_url, retry_handlers=[])
    with pytest.raises(SlackApiError, match="channel_not_found"):
        await api.api_call("conversations.members", json={"channel": TICKETS})
    slack.add_member(SECRET_ROOM, "U0BOT")
    assert (await api.conversations_members(channel=SECRET_ROOM))["members"] == ["U0BOT", "U0EVA"]


async def test_fake_usergroups_users_list(slack: FakeSlack) -> None:
    api = AsyncWebClient(token=TOKEN, base_url=slack.base_url, retry_handlers=[])
    assert (await api.usergroups_users_list(usergroup="S0HELPERS"))["users"] == ["U0EVA", "U0MAL"]
    with pytest.raises(SlackApiError, match="no_such_subteam"):
        await api.usergroups_users_list(usergroup="S0NOBODY")
    with pytest.raises(SlackApiError, match="invalid_auth"):
        await AsyncWebClient(token="xoxb-other", base_url=slack.base_url).usergroups_users_list(usergroup="S0HELPERS")


# --- what the bot keeps ------------------------------------------------------------------

async def test_members_of_every_page_and_of_team_channels_count(slack: FakeSlack) -> None:
    members = membership(slack, Clock())
    assert await members.in_channels(CROWD[-1]) and await members.in_channels("U0ANA")
    assert await members.in_channels("U0BEN")  # a team's channel counts as well
    assert not await members.in_channels("U0OUT")
    pages = slack.calls_to("conversations.members")
    assert [c.args["channel"] for c in pages].count(TICKETS) == -(-452 // PAGE)
    calls = len(slack.calls)
    assert await members.in_channels("U0ANA") and not await members.in_channels("U0OUT")
    assert len(slack.calls) == calls + 0, "answered from memory: no call per click"


async def test_joining_and_leaving_take_effect_at_once_and_a_reload_agrees(slack: FakeSlack) -> None:
    clock = Clock()
    members = membership(slack, clock)
    assert not await members.in_channels("U0OUT")
    slack.add_member(TICKETS, "U0OUT")
    members.joined(TICKETS, "U0OUT")
    slack.remove_member(TICKETS, "U0ANA")
    members.left(TICKETS, "U0ANA")
    assert await members.in_channels("U0OUT") and not await members.in_channels("U0ANA")
    clock.now += 301  # the periodic reload sees the same
    assert await members.in_channels("U0OUT") and not await members.in_channels("U0ANA")
    assert len(slack.calls_to("conversations.members")) > 3


async def test_a_removal_missed_while_away_is_seen_at_the_next_refresh(slack: FakeSlack) -> None:
    clock = Clock()
    members = membership(slack, clock)
    assert await members.in_channels("U0ANA")
    slack.remove_member(TICKETS, "U0ANA")  # no event reached us
    clock.now += 299
    assert await members.in_channels("U0ANA")
    clock.now += 2
    assert not await members.in_channels("U0ANA")


async def test_a_failed_reload_keeps_the_members_known_and_logs_why(slack: FakeSlack,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    members = membership(slack, clock, channels=(TICKETS,))
    assert await members.in_channels("U0ANA")
    clock.now += 301
    slack.fail_next("conversations.members", status=200, error="fetch_members_failed")
    with caplog.at_level(logging.WARNING, logger="bot.adapters.slack.membership"):
        assert await members.in_channels("U0ANA") and not await members.in_channels("U0OUT")
    assert "fetch_members_failed" in caplog.text and "keeping the 452 known before" in caplog.text
    calls = len(slack.calls_to("conversations.members"))
    clock.now += 10
    assert await members.in_channels("U0ANA")
    assert len(slack.calls_to("conversations.members")) == calls, "no new try before the retry delay"
    clock.now += 30
    slack.remove_member(TICKETS, "U0ANA")
    assert not await members.in_channels("U0ANA")


async def test_with_nothing_loaded_a_failure_makes_nobody_a_member(slack: FakeSlack,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    members = membership(slack, Clock(), channels=(SECRET_ROOM,))  # private, the bot not invited
    with caplog.at_level(logging.WARNING, logger="bot.adapters.slack.membership"):
        assert not await members.in_channels("U0EVA")
    assert "channel_not_found" in caplog.text and "keeping nobody yet" in caplog.text


async def test_user_groups_named_in_the_roster_are_resolved_and_followed(slack: FakeSlack,
                                                                          caplog: pytest.LogCaptureFixture) -> None:
    members = membership(slack, Clock(), groups=("S0HELPERS", "s0gone", "ana@helpdesk.test", "U0BEN"))
    with caplog.at_level(logging.WARNING, logger="bot.adapters.slack.membership"):
        assert await members.groups_of("U0EVA") == {"S0HELPERS"}
    assert await members.groups_of("U0ANA") == frozenset()
    assert "no_such_subteam" in caplog.text  # S0GONE: logged, and nobody is in it
    asked = {c.args["usergroup"] for c in slack.calls_to("usergroups.users.list")}
    assert asked == {"S0HELPERS", "S0GONE"}, "only S… ids are user groups"
    members.group_changed("S0HELPERS", added=["U0ANA"], removed=["U0EVA"])
    assert await members.groups_of("U0ANA") == {"S0HELPERS"} and await members.groups_of("U0EVA") == frozenset()


async def test_the_actor_carries_every_fact_and_only_a_confirmed_email(slack: FakeSlack) -> None:
    people = People(AsyncWebClient(token=TOKEN, base_url=slack.base_url, retry_handlers=[]), membership(slack, Clock()))
    ana = await people.actor("U0ANA")
    assert (ana.name, ana.email, ana.in_tickets_channel, ana.groups) == ("Ana", "ana@helpdesk.test", True, frozenset())
    mallory = await people.actor("U0MAL")
    assert mallory.email is None, "an unconfirmed address must not match a roster entry"
    assert mallory.groups == {"S0HELPERS"} and not mallory.in_tickets_channel
    unknown = await people.actor("U0GHOST", "ghost")  # users.info fails: the id and memberships still count
    assert (unknown.name, unknown.email, unknown.in_tickets_channel) == ("ghost", None, False)


async def test_a_burst_waits_for_one_load_and_an_event_during_it_is_not_lost() -> None:
    release, loads = asyncio.Event(), []

    async def load() -> set[str]:
        loads.append(1)
        await release.wait()
        return {"U0ANA", "U0BEN"}  # what Slack said before the events below

    members = MemberSet("channel C0TICKETS", load, clock=Clock(), refresh=300.0, retry=30.0)
    asking = [asyncio.create_task(members.has(u)) for u in ("U0ANA", "U0OUT", "U0BEN") * 10]
    await asyncio.sleep(0.01)
    members.change("U0OUT", True)  # joined while the list was on its way
    members.change("U0BEN", False)  # left while the list was on its way
    release.set()
    answers = await asyncio.gather(*asking)
    assert len(loads) == 1, "thirty clicks, one conversations.members"
    assert await members.has("U0OUT") and not await members.has("U0BEN") and await members.has("U0ANA")
    assert answers[:3] == [True, True, False]
