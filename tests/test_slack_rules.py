"""Slack's rules, end to end: signatures, rate limits, server errors, restarts, long mail.

Every root is posted exactly once: through 429 storms, through a 500 that came
after Slack had posted the message anyway, and across a crash between posting
and recording. Requests that are forged or replayed change nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.adapters.slack import ticket_blocks
from bot.adapters.slack.client import SlackApi
from bot.app import build_core
from bot.handlers import threads
from tests.conftest import make_settings
from tests.support.db import Database
from tests.support.mails import deliver, raw_mail, ticket
from tests.support.slack_bot import CHANNEL, TOKEN, SlackBot, block_text, eventually, fake_slack, running_bot


@pytest.fixture
async def bot(sqlite_database: Database, tmp_path: Path) -> AsyncIterator[SlackBot]:
    async with running_bot(sqlite_database, tmp_path) as b:
        yield b


async def test_forged_and_stale_requests_are_rejected_and_change_nothing(bot: SlackBot) -> None:
    number = await bot.mail(raw_mail())
    await bot.settled()
    root = await bot.root_of(number)
    click = bot.requests.click(root.payload(), ticket_blocks.CLAIM, user="U0ANA")
    assert (await bot.send(click.forged())).status == 401
    assert (await bot.send(click.stale())).status == 401
    assert (await bot.send(bot.requests.command(f"close {number}", user="U0ANA").forged())).status == 401
    await bot.settled()
    t = await ticket(bot.core, number)
    assert t is not None and t.assignee_id is None and t.status.value == "new"
    assert not bot.slack.calls_to("chat.update")


async def test_url_verification_is_answered(bot: SlackBot) -> None:
    reply = await bot.send(bot.requests.url_verification("abc123"))
    assert reply.status == 200 and "abc123" in reply.text


@pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
async def test_a_429_storm_on_200_new_tickets_posts_exactly_200_roots(database: Database, tmp_path: Path) -> None:
    async with running_bot(database, tmp_path, ack_enabled=False) as bot:
        bot.slack.limit_posts(100)
        bot.slack.fail_next("chat.postMessage", status=429, retry_after=1, times=8)
        numbers = [await bot.mail(raw_mail(subject=f"Storm {i}", frm=f"c{i}@customer.example")) for i in range(200)]
        await bot.settled()
        roots = bot.roots()
        assert len(roots) == 200
        assert sorted(int(r.text.split()[0][1:]) for r in roots) == sorted(numbers)
        for root in roots:  # each customer mail once in its thread (beside the customer's other tickets)
            customer = [m for m in bot.thread(root) if "wrote:" in block_text(m.blocks)]
            assert len(customer) == 1
        assert any(c.status == 429 for c in bot.slack.calls_to("chat.postMessage"))


async def test_a_500_after_slack_posted_anyway_does_not_double_the_root(bot: SlackBot) -> None:
    bot.slack.fail_next("chat.postMessage", status=500, after=True, times=2)
    number = await bot.mail(raw_mail())
    await bot.settled()
    assert len(bot.roots()) == 1
    assert len(bot.thread(await bot.root_of(number))) == 1


async def test_a_crash_between_posting_and_recording_leaves_one_root_after_restart(
        sqlite_database: Database, tmp_path: Path) -> None:
    async with fake_slack() as slack:
        # The first life: the ticket is stored, its root reaches Slack, then the process dies before recording it.
        core = await build_core(make_settings(sqlite_database, tmp_path), engine=sqlite_database.engine())
        number = (await deliver(core, raw_mail(subject="Posted just before the crash"))).ticket_number
        assert number is not None
        an_hour_ago = core.ctx.clock() - timedelta(hours=1)
        crashed = dataclasses.replace(core.ctx, clock=lambda: an_hour_ago)  # its lease has long run out
        work = await threads.begin_sync(crashed, "slack", number, CHANNEL, "slack-dead-process")
        assert work is not None and work.root_ref is None
        await SlackApi(TOKEN, slack.base_url).post_once(CHANNEL, ticket_blocks.root_message(work.ticket), key=f"ticket-{number}")
        await core.close()
        assert len(slack.roots(CHANNEL)) == 1

        # The second life finds the root it already posted and goes on from there.
        async with running_bot(sqlite_database, tmp_path, slack=slack) as bot:
            await bot.settled()
            [root] = bot.roots()
            assert len(bot.thread(root)) == 1
            assert await threads.ticket_for_thread(bot.core.ctx, "slack", CHANNEL, root.ts) == number


async def test_tickets_stored_while_the_bot_was_away_are_posted_at_start(sqlite_database: Database, tmp_path: Path) -> None:
    core = await build_core(make_settings(sqlite_database, tmp_path), engine=sqlite_database.engine())
    for i in range(3):
        await deliver(core, raw_mail(subject=f"Arrived by pipe {i}"))  # `tiketti ingest` while the bot was down
    await core.close()
    async with running_bot(sqlite_database, tmp_path) as bot:
        await bot.settled()
        assert sorted(r.text.split(" —")[0] for r in bot.roots()) == [f"#{n} Arrived by pipe {n - 1}" for n in (1, 2, 3)]


async def test_an_over_long_mail_is_posted_in_pieces_with_the_whole_text_attached(bot: SlackBot) -> None:
    paragraph = "The error log says the spooler stopped. " * 40 + "\n\n"
    body = paragraph * 60 + "THE VERY END"  # ~100 KB: far beyond one message
    number = await bot.mail(raw_mail(subject="Huge log", body=body))
    await bot.settled()
    root = await bot.root_of(number)
    thread = bot.thread(root)
    assert len([m for m in thread if not m.files]) == 2  # the 15,000 characters shown take two Slack messages
    shown = "\n".join(block_text(m.blocks) for m in thread)
    assert "The error log says the spooler stopped." in shown and "attached as a file" in shown
    assert "THE VERY END" not in shown
    uploads = bot.slack.calls_to("files.completeUploadExternal", ok_only=True)
    assert len(uploads) == 1 and uploads[0].args.get("thread_ts") == root.ts
    [file_id] = [f["id"] for f in uploads[0].args["files"]]
    assert bot.slack.file_content(file_id).decode().rstrip().endswith("THE VERY END")


async def test_a_slash_command_is_acknowledged_before_the_work_is_done(bot: SlackBot) -> None:
    number = await bot.mail(raw_mail())
    await bot.settled()
    reply = await bot.send(bot.requests.command(f"claim {number}", user="U0ANA"))
    assert reply.status == 200 and reply.text == ""  # the empty ack; the answer follows on response_url
    answer = await eventually(lambda: bot.slack.responses)
    assert answer[0]["response_type"] == "ephemeral" and f"#{number} claimed by Ana" in answer[0]["text"]
