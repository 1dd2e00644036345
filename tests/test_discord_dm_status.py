"""A customer asks the bot in their DM where their tickets stand (`status`): their own, in their words, nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.adapters.discord import dm_commands
from tests.support.db import Database
from tests.support.discord_bot import ANA, BEN, EVA, MIA, DiscordBot, running_discord_bot
from tests.support.discord_dm import dm_command, dm_ticket, link
from tests.support.mails import messages, raw_mail
from tests.support.slack_bot import eventually

SECRET = "internal: refund approved by finance"


@pytest.fixture
async def bot(database: Database, tmp_path: Path) -> AsyncIterator[DiscordBot]:
    async with running_discord_bot(database, tmp_path) as b:
        yield b


async def test_a_customer_sees_their_dm_and_linked_mail_tickets_and_nobody_elses(bot: DiscordBot) -> None:
    mailed = await bot.mail(raw_mail(frm="Mia Customer <mia@example.com>", subject="Invoice 17 is wrong"))
    parcel = await dm_ticket(bot, MIA, "My parcel never arrived")
    refund = await dm_ticket(bot, EVA, "Where is my refund")
    await bot.slash("claim", ANA, number=mailed)
    await bot.slash("note", ANA, number=mailed, text=SECRET)
    await link(bot, MIA, "mia@example.com")
    threads = len(bot.discord.threads())

    mine = await dm_command(bot, MIA, "Status")
    assert f"#{parcel}** My parcel never arrived — received" in mine
    assert f"#{mailed}** Invoice 17 is wrong — being worked on" in mine
    assert f"#{refund}" not in mine and "refund" not in mine
    for internal in (SECRET, "Ana Agent", "mia@example.com", "open"):  # no notes, assignees, addresses, team words
        assert internal not in mine

    theirs = await dm_command(bot, EVA, "tickets")
    assert f"#{refund}** Where is my refund" in theirs
    assert f"#{parcel}" not in theirs and f"#{mailed}" not in theirs and "Invoice" not in theirs

    assert await dm_command(bot, BEN, "!status?") == dm_commands.NO_TICKETS  # no tickets: said so, none opened
    assert len(bot.discord.threads()) == threads  # a command opens no ticket and adds to none
    assert [m.body_text for m in await messages(bot.core, parcel)] == ["My parcel never arrived"]


async def test_a_sentence_that_starts_with_status_is_a_customer_message(bot: DiscordBot) -> None:
    number = await dm_ticket(bot, MIA, "My order 55 is late")
    await bot.say(bot.discord.dm_channel(MIA)["id"], MIA, "status of order 55?")

    async def added() -> list[str] | None:
        texts = [m.body_text for m in await messages(bot.core, number)]
        return texts if len(texts) == 2 else None
    assert (await eventually(added))[-1] == "status of order 55?"


def test_what_counts_as_the_status_command() -> None:
    for text in ("status", " STATUS ", "!status", "status?", "tickets", "Tickets."):
        assert dm_commands.is_status(text), text
    for text in ("status of my order", "my tickets", "statuses", "link status", "status\nplease"):
        assert not dm_commands.is_status(text), text
