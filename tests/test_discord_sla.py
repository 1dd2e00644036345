"""Service levels in Discord: time left on the ticket's card, warnings and breaches in its thread."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.handlers import sla
from tests.support.db import Database
from tests.support.discord_bot import ANA, DiscordBot, running_discord_bot
from tests.support.mails import raw_mail
from tests.support.slack_bot import eventually
from tests.test_slack_sla import WORKFLOW


@pytest.fixture
async def bot(sqlite_database: Database, tmp_path: Path) -> AsyncIterator[DiscordBot]:
    path = tmp_path / "workflow.toml"
    path.write_text(WORKFLOW)
    async with running_discord_bot(sqlite_database, tmp_path, workflow_file=path) as b:
        yield b


def card(bot: DiscordBot, thread: dict) -> str:  # type: ignore[type-arg]
    embed = bot.starter(thread)["embeds"][0]
    return "\n".join(f"{f['name']}: {f['value']}" for f in embed.get("fields", []))


async def test_time_left_on_the_card_and_warnings_in_the_thread(bot: DiscordBot) -> None:
    number = await bot.mail(raw_mail(subject="Server down"))
    await bot.settled()
    thread = await bot.thread_of(number)
    assert "Service level: ⏱ first reply due in" in card(bot, thread)
    await bot.slash("claim", ANA, number=number)
    start = bot.core.ctx.clock
    bot.core.ctx.clock = lambda: start() + timedelta(minutes=35)
    assert await sla.check_sla(bot.core.ctx) == 1

    def posts(word: str) -> list[str]:
        return [m["content"] for m in bot.thread_messages(thread) if word in m["content"]]

    [warning] = await eventually(lambda: posts("first reply due in"))
    assert f"<@{ANA['id']}>" in warning
    bot.core.ctx.clock = lambda: start() + timedelta(minutes=70)
    assert await sla.check_sla(bot.core.ctx) == 1
    [breach] = await eventually(lambda: posts("SLA breached"))
    assert f"<@{ANA['id']}>" in breach
    await bot.settled()
    assert "first reply overdue by" in card(bot, thread)


async def _unassigned_after(bot: DiscordBot, minutes: int) -> tuple[int, dict]:  # type: ignore[type-arg]
    """A new ticket nobody took, `minutes` later, once the SLA check ran: its number and thread."""
    number = await bot.mail(raw_mail(subject="Server down"))
    await bot.settled()
    thread = await bot.thread_of(number)
    start = bot.core.ctx.clock
    bot.core.ctx.clock = lambda: start() + timedelta(minutes=minutes)
    assert await sla.check_sla(bot.core.ctx) == 1
    return number, thread


async def test_with_nobody_assigned_the_warning_goes_where_the_team_reads(bot: DiscordBot) -> None:
    """As on Slack: a message in a thread reaches no one, so the team's channel hears it, linked to the thread."""
    number, thread = await _unassigned_after(bot, 35)
    channel = bot.discord.tickets_channel["id"]
    [warning] = await eventually(lambda: [m["content"] for m in bot.discord.in_channel(channel)
                                          if "first reply due in" in m["content"]])
    assert f"#{number}" in warning and f"nobody is assigned: <#{thread['id']}>" in warning
    assert not [m for m in bot.thread_messages(thread) if "due in" in m["content"]]


async def test_in_a_forum_the_unassigned_warning_stays_in_the_tickets_post(sqlite_database: Database,
                                                                           tmp_path: Path) -> None:
    path = tmp_path / "workflow.toml"
    path.write_text(WORKFLOW)
    async with running_discord_bot(sqlite_database, tmp_path, forum=True, workflow_file=path) as bot:
        _, thread = await _unassigned_after(bot, 70)
        [breach] = await eventually(lambda: [m["content"] for m in bot.thread_messages(thread)
                                             if "SLA breached" in m["content"]])
        assert "nobody is assigned" in breach and len(bot.discord.threads()) == 1  # no post of its own
