"""SLA warnings and breaches as agents meet them in Slack: in the ticket's thread, the assignee mentioned.

The bot runs against the fake Slack API with a workflow file whose calendar is open
around the clock, so the test does not depend on the hour it runs at; the SLA check
is the one the scheduler runs, called directly with the clock moved forward.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.handlers import sla
from tests.support.db import Database
from tests.support.mails import raw_mail
from tests.support.slack_bot import CHANNEL, SlackBot, block_text, eventually, running_bot

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
async def bot(sqlite_database: Database, tmp_path: Path) -> AsyncIterator[SlackBot]:
    path = tmp_path / "workflow.toml"
    path.write_text(WORKFLOW)
    async with running_bot(sqlite_database, tmp_path, workflow_file=path) as b:
        yield b


async def test_warning_and_breach_are_posted_in_the_thread_mentioning_the_assignee(bot: SlackBot) -> None:
    number = await bot.mail(raw_mail(subject="Server down"))
    await bot.settled()
    root = await bot.root_of(number)
    assert "first reply due in" in bot.root_text(root)
    await bot.send(bot.requests.command(f"claim {number}", user="U0ANA"))
    await eventually(lambda: "<@U0ANA>" in bot.root_text(root) or "Ana" in bot.root_text(root))
    start = bot.core.ctx.clock
    bot.core.ctx.clock = lambda: start() + timedelta(minutes=35)
    assert await sla.check_sla(bot.core.ctx) == 1
    assert await sla.check_sla(bot.core.ctx) == 0

    def posts(word: str) -> list[str]:
        return [block_text(m.blocks) for m in bot.thread(root) if word in block_text(m.blocks)]

    [warning] = await eventually(lambda: posts("first reply due in"))
    assert "<@U0ANA>" in warning
    bot.core.ctx.clock = lambda: start() + timedelta(minutes=70)
    assert await sla.check_sla(bot.core.ctx) == 1
    [breach] = await eventually(lambda: posts("SLA breached"))
    assert "<@U0ANA>" in breach and "first reply" in breach
    assert await sla.check_sla(bot.core.ctx) == 0
    await bot.settled()
    assert "first reply overdue by" in bot.root_text(root)
    assert len(posts("SLA breached")) == 1 and len(posts("first reply due in")) == 1


async def test_an_unassigned_ticket_is_warned_about_in_the_team_channel(bot: SlackBot) -> None:
    number = await bot.mail(raw_mail(subject="Nobody took this"))
    await bot.settled()
    start = bot.core.ctx.clock
    bot.core.ctx.clock = lambda: start() + timedelta(minutes=35)
    assert await sla.check_sla(bot.core.ctx) == 1
    root = await bot.root_of(number)
    top = await eventually(lambda: [m for m in bot.slack.roots(CHANNEL) if "nobody is assigned" in block_text(m.blocks)])
    assert f"#{number}" in block_text(top[0].blocks) and root.ts.replace(".", "") in block_text(top[0].blocks)
    assert not [m for m in bot.thread(root) if "first reply due in" in block_text(m.blocks)]
