"""Merging two customers' tickets on Discord: asked first with a *Merge anyway* button only the caller sees.

Without the click nothing is merged; the click merges, checked for whoever clicks (a stranger or a light
agent given the button is refused, privately, with no effect); the button carries both numbers in its
custom id, so it works after a restart.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.adapters.discord.confirm import MERGE_ANYWAY
from tests.support.db import Database
from tests.support.discord_bot import BEN, EVA, LEE, DiscordBot, roster_discord_bot
from tests.support.discord_doors import public_writes, refusals, store_state
from tests.support.fake_discord import FakeDiscord, Response
from tests.support.mails import raw_mail, ticket

Json = dict[str, Any]


async def _two_customers(bot: DiscordBot) -> tuple[int, int]:
    target = await bot.mail(raw_mail(frm="Mia <mia@customer.example>", subject="Screen flickers"))
    source = await bot.mail(raw_mail(frm="Olli <olli@other.example>", subject="My screen flickers too"))
    await bot.settled()
    return source, target


async def _asked(bot: DiscordBot, source: int, target: int) -> Json:
    """Ben asks to merge; the confirmation he alone sees, with its button."""
    asked: Response = await bot.slash("merge", BEN, number=source, into=target)
    [question] = asked.followups
    assert question["flags"] & 64, "the confirmation is ephemeral"
    return question


async def test_merging_two_customers_tickets_asks_first_and_merges_on_the_click(
        database: Database, tmp_path: Path) -> None:
    async with roster_discord_bot(database, tmp_path) as bot:
        source, target = await _two_customers(bot)
        before = await store_state(bot.core)
        question = await _asked(bot, source, target)
        text = question["content"]
        assert "different customers" in text and "Nothing has been merged" in text
        assert "o***@other.example" in text and "olli@other.example" not in text  # masked
        [button] = [c for row in question["components"] for c in row["components"]]
        assert button["label"] == "Merge anyway" and button["custom_id"] == MERGE_ANYWAY.format(
            source=source, target=target)
        after = await store_state(bot.core)
        before.pop("agents"), after.pop("agents")  # Ben, who may merge, is known as an agent now; nothing else
        assert after == before, "asking merges nothing"
        before = await store_state(bot.core)

        writes = len(public_writes(bot.discord))
        for someone in (EVA, LEE):  # the button passed on to a stranger and a light agent
            refused = await bot.press(question, someone)
            [said] = refused.followups
            assert said["flags"] & 64 and said["content"].startswith("⚠️"), said
            assert "Screen flickers" not in said["content"]
            assert await refusals(bot.core, someone) == 1
        await bot.settled()
        assert await store_state(bot.core) == before
        assert len(public_writes(bot.discord)) == writes

        merged = await bot.press(question, BEN)
        [said] = merged.followups
        assert said["flags"] & 64 and f"#{source} merged into #{target}" in said["content"]
        t = await ticket(bot.core, source)
        assert t is not None and t.merged_into == target
        again = await bot.press(question, BEN)  # the old button does no harm
        assert "already merged" in again.followups[0]["content"]


async def test_the_button_works_after_a_restart(database: Database, tmp_path: Path) -> None:
    async with FakeDiscord() as fake:
        async with roster_discord_bot(database, tmp_path, fake=fake) as bot:
            source, target = await _two_customers(bot)
            question = await _asked(bot, source, target)
        async with roster_discord_bot(database, tmp_path, fake=fake) as bot:
            merged = await bot.press(question, BEN)
            assert f"#{source} merged into #{target}" in merged.followups[0]["content"]
            t = await ticket(bot.core, source)
            assert t is not None and t.merged_into == target
