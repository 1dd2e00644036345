"""Two agents answering one customer on Discord: warned when the form opens, held at submit, and `/ticket reply`
held too; nothing is mailed until the agent has read what happened and sends it again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.adapters.discord import controls
from tests.support.db import Database
from tests.support.discord_bot import ANA, BEN, DiscordBot, running_discord_bot
from tests.support.fake_discord import Response
from tests.support.mails import raw_mail
from tests.support.slack_bot import eventually


@pytest.fixture
async def bot(sqlite_database: Database, tmp_path: Path) -> AsyncIterator[DiscordBot]:
    async with running_discord_bot(sqlite_database, tmp_path) as b:
        yield b


def mailed(bot: DiscordBot, words: str) -> int:
    return len([r for r in bot.sink.received if words in r.message.get_body(("plain",)).get_content()])


def placeholder(form: Response) -> str:
    return str(form.data["components"][0]["components"][0].get("placeholder"))


def said(answer: Response) -> str:
    return str(answer.followups[0]["content"]) if answer.kind == 5 else str(answer.data["content"])


async def test_the_second_form_is_warned_the_first_told_and_a_stale_submit_is_held(bot: DiscordBot) -> None:
    number = await bot.mail(raw_mail())
    await bot.settled()
    thread = await bot.thread_of(number)
    first = await bot.click(controls.REPLY, thread, ANA)
    second = await bot.click(controls.REPLY, thread, BEN)
    assert "Ana Agent is writing a reply too" in placeholder(second)
    dm = bot.discord.dm_channel(ANA)
    [told] = await eventually(lambda: [m for m in bot.discord.in_channel(dm["id"]) if m["author"]["bot"]])
    assert f"Ben Agent just opened a reply on #{number} too" in told["content"]

    await bot.submit_modal(second, BEN, thread, "From Ben")
    held = await bot.submit_modal(first, ANA, thread, "From Ana")
    assert "Not sent" in said(held) and "Ben Agent replied" in said(held) and held.followups[0]["flags"] & 64
    await bot.settled()
    assert mailed(bot, "From Ben") == 1 and mailed(bot, "From Ana") == 0

    review = await bot.press(held.followups[0], BEN)  # someone else's held reply is not theirs to send
    assert "colleague's held reply" in said(review)
    again = await bot.press(held.followups[0], ANA)
    assert again.kind == 9 and again.data["components"][0]["components"][0]["value"] == "From Ana"
    assert "Ben Agent replied" in placeholder(again)
    sent = await bot.submit_modal(again, ANA, thread, "From Ana")
    assert "reply sent" in said(sent)
    await bot.settled()
    assert mailed(bot, "From Ana") == 1


async def test_a_typed_reply_after_a_colleagues_is_held_with_the_same_button(bot: DiscordBot) -> None:
    number = await bot.mail(raw_mail())
    await bot.settled()
    await bot.slash("reply", BEN, number=number, text="Ben answers first.")
    again = await bot.slash("reply", BEN, number=number, text="Ben adds a line.")  # one's own reply is no collision
    assert "reply sent" in said(again)
    held = await bot.slash("reply", ANA, number=number, text="Ana answers too.")
    assert "Not sent" in said(held) and "Ben Agent replied to the customer" in said(held)
    await bot.settled()
    assert mailed(bot, "Ana answers too.") == 0
    form = await bot.press(held.followups[0], ANA)
    sent = await bot.submit_modal(form, ANA, bot.discord.tickets_channel, "Ana answers too.")
    assert "reply sent" in said(sent)
    await bot.settled()
    assert mailed(bot, "Ana answers too.") == 1
