"""The managers' figures in Discord: `/ticket report` for the caller alone, the daily digest with its charts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.handlers import reports
from tests.support import discord_payloads as p
from tests.support.db import Database
from tests.support.discord_bot import ANA, DiscordBot, running_discord_bot
from tests.support.fake_discord import FakeDiscord
from tests.support.mails import raw_mail
from tests.support.slack_bot import eventually


@pytest.fixture
async def bot(sqlite_database: Database, tmp_path: Path) -> AsyncIterator[DiscordBot]:
    async with FakeDiscord() as fake:
        managers = p.text_channel(fake.next_id(), fake.guild_id, "managers")
        fake.channels[int(managers["id"])] = managers
        async with running_discord_bot(sqlite_database, tmp_path, fake=fake,
                                       discord_managers_channel=managers["id"]) as b:
            b.managers = managers["id"]  # type: ignore[attr-defined]
            yield b


async def test_report_answers_only_the_caller(bot: DiscordBot) -> None:
    for subject in ("Printer", "VPN", "Invoice"):
        await bot.mail(raw_mail(subject=subject))
    await bot.settled()
    answer = await bot.slash("report", ANA, period="today")
    content = answer.followups[0]["content"]
    assert answer.followups[0]["flags"] & 64
    assert "**New** 3" in content and "**Backlog** 3" in content and "Oldest open" in content


async def test_the_digest_is_posted_to_the_managers_channel_with_its_charts(bot: DiscordBot) -> None:
    await bot.mail(raw_mail(subject="Printer"))
    await bot.settled()
    await reports.publish_digest(bot.core.ctx)
    [posted] = await eventually(lambda: bot.discord.in_channel(bot.managers))  # type: ignore[attr-defined]
    assert posted["content"].startswith("**Daily digest")
    names = [a["filename"] for a in posted["attachments"]]
    assert len(names) == 2 and all(n.endswith(".png") for n in names)
    assert all("PNG" in a["text"][:8] for a in posted["attachments"])
