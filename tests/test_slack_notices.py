"""Notices reach Slack at least once and are shown once: across a crash, a Slack error, a channel that is gone.

A notice (an SLA warning, a task coming due) is a row written with the change that causes
it (`bot.handlers.notices`); the Slack adapter's `NoticeDelivery` posts it through
`SlackSurface` under the notice's key. These tests drive the real handlers with the clock
moved forward and the whole bot against the fake Slack Web API, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_core
from bot.handlers import notices as kept_notices
from bot.handlers import sla, tasks
from tests.conftest import make_settings
from tests.support.db import Database
from tests.support.fake_slack import FakeSlack, Posted
from tests.support.mails import raw_mail
from tests.support.slack_bot import CHANNEL, SlackBot, block_text, eventually, fake_slack, running_bot

WORKFLOW = """
[sla]
timezone = "UTC"
workdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
hours = "00:00-23:59"
warn_before_minutes = 30

[sla.targets]
normal = { first_response = "60m", resolution = "8h" }
"""


@pytest.fixture
def workflow(tmp_path: Path) -> Path:
    path = tmp_path / "workflow.toml"
    path.write_text(WORKFLOW)
    return path


def warning_text(number: int) -> str:
    return f"SLA warning on #{number}: first reply due soon"  # the notice's fallback text (sla_blocks)


def posted(slack: FakeSlack, text: str) -> list[Posted]:
    """Every message anywhere in the workspace whose fallback text is `text`."""
    return [m for m in slack.messages.values() if m.text == text]


def move_clock(bot: SlackBot, by: timedelta) -> None:
    start = bot.core.ctx.clock
    bot.core.ctx.clock = lambda: start() + by


async def ticket_with_root(bot: SlackBot, subject: str, *, claimed_by: str | None = None) -> tuple[int, Posted]:
    number = await bot.mail(raw_mail(subject=subject, frm=f"{subject} <{subject.split()[0].lower()}@customer.example>"))
    if claimed_by:
        await bot.send(bot.requests.command(f"claim {number}", user=claimed_by))
    await bot.settled()
    return number, await bot.root_of(number)


async def delivered(bot: SlackBot, check: Callable[[], Any]) -> Any:
    """Deliver what is due now (as the deliverer's next round would), until `check` holds."""
    assert bot.runtime.slack is not None
    notices = bot.runtime.slack.notices

    async def round_then_check() -> Any:
        await notices.deliver_due()
        return check()
    return await eventually(round_then_check)


# ---- a crash between the commit and the post ------------------------------------------------------

async def test_notices_committed_while_slack_was_down_are_posted_once_after_the_restart(
        database: Database, tmp_path: Path, workflow: Path) -> None:
    async with fake_slack() as slack:
        async with running_bot(database, tmp_path, slack=slack, workflow_file=workflow) as bot:
            taken, taken_root = await ticket_with_root(bot, "Server down", claimed_by="U0ANA")
            await bot.send(bot.requests.command(f"task {taken} in 20m call the customer back", user="U0ANA"))
            nobody, nobody_root = await ticket_with_root(bot, "Nobody took this")
            await eventually(lambda: "<@U0ANA>" in bot.root_text(taken_root))  # claimed
        # Slack's runtime is gone; a process without any chat adapter (the scheduler elsewhere, or this
        # one before the crash) finds the SLA warnings and the task due, and commits them.
        core = await build_core(make_settings(database, tmp_path, workflow_file=workflow), engine=database.engine())
        try:
            start = core.ctx.clock
            core.ctx.clock = lambda: start() + timedelta(minutes=35)
            assert await sla.check_sla(core.ctx) == 2
            assert await tasks.remind_due(core.ctx) == 1
        finally:
            await core.close()
        assert not posted(slack, warning_text(taken)) and not posted(slack, warning_text(nobody))

        async with running_bot(database, tmp_path, slack=slack, workflow_file=workflow) as bot:
            # The adapter's own deliverer finds them at start (nothing in this process announced them).
            await eventually(lambda: posted(slack, warning_text(taken)) and posted(slack, warning_text(nobody))
                             and posted(slack, f"Task due on #{taken}"))
            await bot.settled()
            [warning] = posted(slack, warning_text(taken))
            assert (warning.channel, warning.thread_ts) == (CHANNEL, taken_root.ts)  # in the ticket's thread
            assert "<@U0ANA>" in block_text(warning.blocks)  # whom it is for
            [reminder] = posted(slack, f"Task due on #{taken}")
            assert reminder.thread_ts == taken_root.ts and "<@U0ANA>" in block_text(reminder.blocks)
            assert "call the customer back" in block_text(reminder.blocks)
            [unassigned] = posted(slack, warning_text(nobody))
            assert (unassigned.channel, unassigned.thread_ts) == (CHANNEL, None)  # in the channel: nobody follows
            shown = block_text(unassigned.blocks)
            assert "nobody is assigned" in shown and nobody_root.ts.replace(".", "") in shown and "<@" not in shown
            everything = len(slack.messages)

        async with running_bot(database, tmp_path, slack=slack, workflow_file=workflow) as bot:
            await bot.settled()
            assert bot.runtime.slack is not None and await bot.runtime.slack.notices.deliver_due() == 0
            assert len(posted(slack, warning_text(taken))) == 1 and len(posted(slack, warning_text(nobody))) == 1
            assert len(posted(slack, f"Task due on #{taken}")) == 1
            assert len(slack.messages) == everything  # nothing at all posted again


async def test_a_notice_posted_just_before_a_crash_is_not_posted_again(
        database: Database, tmp_path: Path, workflow: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Slack took the post; the process died before recording it. The next one finds it by its key."""
    async def killed(*args: object) -> None:
        raise RuntimeError("the process is killed here, before the post is recorded")

    async with fake_slack() as slack:
        with monkeypatch.context() as patch:  # until that runtime is gone: it never records the post
            async with running_bot(database, tmp_path, slack=slack, workflow_file=workflow) as bot:
                number, root = await ticket_with_root(bot, "Server down", claimed_by="U0ANA")
                await eventually(lambda: "<@U0ANA>" in bot.root_text(root))  # claimed
                patch.setattr(kept_notices, "delivered", killed)  # the module NoticeDelivery records through
                move_clock(bot, timedelta(minutes=35))
                assert await sla.check_sla(bot.core.ctx) == 1
                await eventually(lambda: posted(slack, warning_text(number)))
        assert len(posted(slack, warning_text(number))) == 1

        async with running_bot(database, tmp_path, slack=slack, workflow_file=workflow) as bot:
            restarted = len(slack.calls)
            move_clock(bot, timedelta(minutes=40))  # the dead process's lease has run out
            await delivered(bot, lambda: True)
            await bot.settled()
            assert bot.runtime.slack is not None and await bot.runtime.slack.notices.deliver_due() == 0
            [warning] = posted(slack, warning_text(number))
            assert warning.thread_ts == root.ts and "<@U0ANA>" in block_text(warning.blocks)
            looked = [c for c in slack.calls[restarted:] if c.method == "conversations.replies"
                      and c.args.get("ts") == root.ts]
            assert looked, "the restarted deliverer looked for the earlier post by its key"


# ---- Slack errors ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("status", "error", "after"), [
    (200, "internal_error", False),  # refused, nothing posted: the deliverer tries again later
    (200, "fatal_error", True),  # "some aspect of the operation succeeded": posted, yet answered an error
    (500, "internal_error", True),  # posted, then a 5xx: the client looks before posting again
], ids=["internal_error", "fatal_error-after-posting", "http-500-after-posting"])
async def test_a_notice_slack_failed_once_is_retried_and_posted_once(
        database: Database, tmp_path: Path, workflow: Path, status: int, error: str, after: bool) -> None:
    async with running_bot(database, tmp_path, workflow_file=workflow) as bot:
        number, root = await ticket_with_root(bot, "Nobody took this")
        text = warning_text(number)
        bot.slack.fail_next("chat.postMessage", status=status, error=error, after=after,
                            when=lambda args: args.get("text") == text)
        move_clock(bot, timedelta(minutes=35))
        assert await sla.check_sla(bot.core.ctx) == 1
        await eventually(lambda: [c for c in bot.slack.calls_to("chat.postMessage") if c.error == error])
        move_clock(bot, timedelta(minutes=2))  # past the deliverer's backoff
        [warning] = await delivered(bot, lambda: posted(bot.slack, text))
        await bot.settled()
        assert posted(bot.slack, text) == [warning] and warning.thread_ts is None
        assert root.ts.replace(".", "") in block_text(warning.blocks)
        tries = [c for c in bot.slack.calls_to("chat.postMessage") if c.args.get("text") == text]
        assert [c.error for c in tries] == [error] if after else [error, None]


@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel"])
async def test_a_notice_slack_refuses_for_good_is_given_up_and_the_others_still_go(
        database: Database, tmp_path: Path, workflow: Path, error: str, caplog: pytest.LogCaptureFixture) -> None:
    async with running_bot(database, tmp_path, workflow_file=workflow) as bot:
        doomed, _ = await ticket_with_root(bot, "Doomed notice")
        fine, fine_root = await ticket_with_root(bot, "Fine notice")
        bot.slack.fail_next("chat.postMessage", status=200, error=error,
                            when=lambda args: args.get("text") == warning_text(doomed))
        with caplog.at_level(logging.ERROR, logger="bot.chat.notices"):
            move_clock(bot, timedelta(minutes=35))
            assert await sla.check_sla(bot.core.ctx) == 2
            [other] = await delivered(bot, lambda: posted(bot.slack, warning_text(fine)))
            await eventually(lambda: "gave up" in caplog.text)
        assert fine_root.ts.replace(".", "") in block_text(other.blocks)
        [given_up] = [r for r in caplog.records if r.levelno == logging.ERROR and "gave up" in r.getMessage()]
        assert error in given_up.getMessage() and f"sla_warning:{doomed}:" in given_up.getMessage()
        move_clock(bot, timedelta(hours=2))  # long past any backoff: a notice given up is not tried again
        await bot.settled()
        assert not posted(bot.slack, warning_text(doomed))
        assert len([c for c in bot.slack.calls_to("chat.postMessage") if c.args.get("text") == warning_text(doomed)]) == 1
        assert len(posted(bot.slack, warning_text(fine))) == 1
