"""/ticket as Slack really sends it (should_escape: true), and the order of ack and work in modals.

Commands are typed as a person would and escaped by the fake as Slack does (FakeSlack.escaped); forms
are opened and submitted through the fake, which holds trigger ids to 3 seconds and one use, and
response_urls to 5 answers (tests/support/slack_interaction_rules.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.adapters.commands import UsageError, parse_ticket
from bot.adapters.slack import ticket_blocks
from bot.adapters.slack.escaping import SLACK, as_typed
from bot.adapters.slack.interactions import SEND_TO_CUSTOMER
from bot.handlers import queries
from tests.support.db import Database
from tests.support.mails import messages, raw_mail
from tests.support.people import OPERATOR
from tests.support.slack_bot import SlackBot, block_text, eventually, running_bot
from tests.support.slack_requests import SlackRequests


@pytest.fixture
async def bot(sqlite_database: Database, tmp_path: Path) -> AsyncIterator[SlackBot]:
    async with running_bot(sqlite_database, tmp_path) as b:
        yield b


async def new_ticket(bot: SlackBot, subject: str = "Price list") -> tuple[int, object]:
    number = await bot.mail(raw_mail(subject=subject))
    await bot.settled()
    return number, await bot.root_of(number)


async def typed(bot: SlackBot, text: str, user: str = "U0ANA", *, sent: str | None = None) -> str:
    """`/ticket text` typed in Slack (escaped as Slack does; or `sent` as is); what the caller is shown."""
    before = len(bot.slack.responses)
    assert (await bot.send(bot.requests.command(sent or bot.slack.escaped(text), user=user))).status == 200
    answer = (await eventually(lambda: bot.slack.responses[before:]))[0]
    return answer.get("text", "") + "\n" + block_text(answer.get("blocks") or [])


def mailed(bot: SlackBot) -> list[str]:
    return [r.message.get_body(("plain",)).get_content() for r in bot.sink.received]


async def test_escaped_text_is_stored_and_mailed_as_typed(bot: SlackBot) -> None:
    number, _ = await new_ticket(bot)
    assert bot.slack.escaped(f"reply {number} Price < 10 & free") == f"reply {number} Price &lt; 10 &amp; free"
    await typed(bot, f"reply {number} Price < 10 & free, ask @ben in #tickets")
    await bot.settled()
    sent = [m for m in mailed(bot) if "free" in m]
    assert len(sent) == 1 and "Price < 10 & free, ask @ben in #tickets" in sent[0], sent
    assert "&lt;" not in sent[0] and "&amp;" not in sent[0] and "<@U0BEN" not in sent[0]
    await typed(bot, "", sent=f"note {number} a &lt;b&gt; tag &amp; <@U0EVA> said so")  # Slack left the name out
    notes = [m.body_text for m in await messages(bot.core, number)]
    assert "a <b> tag & @Eva said so" in notes  # the name users.info gives


async def test_mention_forms_resolve_and_unknown_names_are_refused(bot: SlackBot) -> None:
    number, root = await new_ticket(bot)
    assert "no such person: @nobody" in await typed(bot, f"assign {number} @nobody")
    assert "no such person" in await typed(bot, f"assign {number} <@U0GHOST|ghost>")  # users.info: user_not_found
    assert "no such person" in await typed(bot, f"assign {number} U0BEN")  # not a mention Slack made
    assert (await queries.show(bot.core.ctx, OPERATOR, number)).ticket.assignee is None  # no phantom agent
    assert "assigned to Ben" in await typed(bot, f"assign {number} @ben")  # Slack sends <@U0BEN|ben>
    assert "assigned to Eva" in await typed(bot, "", sent=f"assign {number} <@U0EVA>")  # the name left out
    await bot.settled()
    assert "<@U0EVA>" in bot.root_text(root)


async def test_a_slow_users_info_does_not_hold_the_modal_submission(bot: SlackBot) -> None:
    number, root = await new_ticket(bot)
    await bot.send(bot.requests.click(root.payload(), ticket_blocks.REPLY, user="U0ANA"))
    form = await eventually(lambda: next((v for v in bot.slack.views.values()
                                          if v.get("callback_id") == ticket_blocks.REPLY_MODAL), None))
    bot.runtime.slack.parts.people._cache.clear()  # type: ignore[union-attr]  # users.info is asked again
    bot.slack.rules.delay["users.info"] = 4.0  # longer than Slack waits for an ack
    values = {ticket_blocks.REPLY_BLOCK: {ticket_blocks.REPLY_INPUT: "It ships tomorrow."}}
    started = time.monotonic()
    reply = await bot.send(bot.requests.view_submission(form, values, user="U0ANA"))
    assert time.monotonic() - started < 1.0 and reply.status == 200
    assert reply.json()["response_action"] == "update" and "Sending" in block_text(reply.json()["view"]["blocks"])
    done = await eventually(lambda: "on its way" in block_text(bot.slack.views[form["id"]]["blocks"]), timeout=15)
    assert done
    await bot.settled()
    assert [m for m in mailed(bot) if "It ships tomorrow." in m]


async def test_an_empty_reply_is_refused_in_the_ack(bot: SlackBot) -> None:
    _, root = await new_ticket(bot)
    await bot.send(bot.requests.click(root.payload(), ticket_blocks.REPLY, user="U0ANA"))
    form = await eventually(lambda: next((v for v in bot.slack.views.values()
                                          if v.get("callback_id") == ticket_blocks.REPLY_MODAL), None))
    reply = await bot.send(bot.requests.view_submission(form, {ticket_blocks.REPLY_BLOCK: {
        ticket_blocks.REPLY_INPUT: "   "}}, user="U0ANA"))
    assert reply.json() == {"response_action": "errors", "errors": {ticket_blocks.REPLY_BLOCK: "An empty reply: write what to send."}}


async def test_the_reply_form_opens_before_anything_slow(bot: SlackBot) -> None:
    _, root = await new_ticket(bot)
    bot.runtime.slack.parts.people._cache.clear()  # type: ignore[union-attr]
    bot.slack.rules.delay["users.info"] = 4.0  # past the trigger's 3 seconds
    await bot.send(bot.requests.click(root.payload(), ticket_blocks.REPLY, user="U0ANA"))
    opened = await eventually(lambda: bot.slack.calls_to("views.open", ok_only=True))
    assert not bot.slack.calls_to("users.info")[-1:] or \
        bot.slack.calls.index(opened[0]) < bot.slack.calls.index(bot.slack.calls_to("users.info")[-1])
    form = await eventually(lambda: next((v for v in bot.slack.views.values()
                                          if v.get("callback_id") == ticket_blocks.REPLY_MODAL), None), timeout=15)
    assert form["id"] == opened[0].args.get("view_id", form["id"])


async def test_an_expired_trigger_gives_a_clear_error_not_a_stuck_form(bot: SlackBot) -> None:
    _, root = await new_ticket(bot)
    late = SlackRequests(bot.requests.secret, channel_id=bot.requests.channel_id,
                         response_url_base=bot.slack.hooks_url, clock=lambda: time.time() - 4)
    await bot.send(late.click(root.payload(), ticket_blocks.REPLY, user="U0ANA"))
    told = await eventually(lambda: [e for e in bot.slack.ephemeral if e["user"] == "U0ANA"])
    assert "could not open in time" in told[0]["text"] and "again" in told[0]["text"]
    assert [c.error for c in bot.slack.calls_to("views.open")] == ["expired_trigger_id"]
    assert not bot.slack.views


async def test_a_refused_answer_is_logged_and_told(bot: SlackBot, caplog: pytest.LogCaptureFixture) -> None:
    request = bot.requests.command("help", user="U0ANA")
    url = next(p.split("=", 1)[1] for p in request.body.split("&") if p.startswith("response_url="))
    bot.slack.rules.spend(url.replace("%3A", ":").replace("%2F", "/"))  # all five answers used up
    with caplog.at_level(logging.ERROR):
        assert (await bot.send(request)).status == 200
        told = await eventually(lambda: [e for e in bot.slack.ephemeral if e["user"] == "U0ANA"])
    assert "could not be shown" in told[0]["text"] and "used_url" in told[0]["text"]
    assert any("refused by response_url (HTTP 404: used_url)" in r.getMessage() for r in caplog.records)
    assert not any("/hooks/" in r.getMessage() for r in caplog.records)  # the URL is a credential


async def test_a_message_too_long_for_the_form_is_refused_not_cut(bot: SlackBot) -> None:
    _, root = await new_ticket(bot)
    long = bot.requests.message("x" * 3500, user="U0ANA", thread_ts=root.ts)
    await bot.event(long)
    await bot.settled()
    message = {**long, "thread_ts": root.ts}
    await bot.send(bot.requests.message_action(message, callback_id=SEND_TO_CUSTOMER, user="U0ANA"))
    told = await eventually(lambda: [e for e in bot.slack.ephemeral if e["user"] == "U0ANA"])
    assert "3,500 characters" in told[-1]["text"] and "nothing was cut" in told[-1]["text"]
    assert not bot.slack.calls_to("views.open")


@pytest.mark.parametrize("sent, typed", [
    ("Price &lt; 10 &amp; free", "Price < 10 & free"),
    ("a typed &amp;lt; stays", "a typed &lt; stays"),
    ("ask <@U0BEN|ben> in <#C0BILL|billing>", "ask @ben in #billing"),
    ("<!here> and <!subteam^S0HELP|@helpers>", "@here and @helpers"),
    ("see <https://example.com/a?b=1&amp;c=2|the page>", "see the page (https://example.com/a?b=1&c=2)"),
    ("Order | to <mailto:sales@supplier.example|sales@supplier.example>", "Order | to sales@supplier.example"),
])
def test_slack_markup_reads_as_typed(sent: str, typed: str) -> None:
    assert as_typed(sent) == typed


def test_only_a_mention_slack_made_is_a_person() -> None:
    assert parse_ticket("assign 3 <@U0BEN|ben>", SLACK).assignee == "U0BEN"
    assert parse_ticket("assign 3 <@W0ENT>", SLACK).assignee == "W0ENT"
    for typed in ("@ben", "ben", "U0BEN", "&lt;@U0BEN&gt;"):
        with pytest.raises(UsageError, match="no such person"):
            parse_ticket(f"assign 3 {typed}", SLACK)
    assert parse_ticket("assign 3 @U3 Cleo").assignee == "U3"  # the console's plain dialect is unchanged
