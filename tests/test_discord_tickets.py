"""A ticket's life in Discord, end to end: the real discord.py client against the fake Discord.

Mail in → a thread with the ticket's embed and buttons; Claim edits the embed in
place; thread messages are internal notes (never mailed, never echoed); Reply
opens a modal whose submission mails the customer once, threaded; the
customer's answer lands in the same thread.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.adapters.discord import controls
from bot.domain.model import MessageKind
from tests.support.db import Database
from tests.support.discord_bot import ANA, DiscordBot, running_discord_bot
from tests.support.mails import messages, raw_mail
from tests.support.slack_bot import eventually


@pytest.fixture
async def bot(sqlite_database: Database, tmp_path: Path) -> AsyncIterator[DiscordBot]:
    async with running_discord_bot(sqlite_database, tmp_path) as b:
        yield b


def embed_text(message: dict) -> str:
    [embed] = message["embeds"]
    return "\n".join([embed["title"], *(f"{f['name']}: {f['value']}" for f in embed.get("fields", []))])


def buttons(message: dict) -> list[str]:
    return [c["label"] for row in message["components"] for c in row["components"]]


async def test_mail_becomes_a_thread_whose_starter_shows_the_ticket_with_buttons(bot: DiscordBot) -> None:
    number = await bot.mail(raw_mail(subject="Printer on fire", body="Flames from the tray, please help."))
    await bot.settled()
    thread = await bot.thread_of(number)
    starter = bot.starter(thread)
    shown = embed_text(starter)
    assert f"#{number} Printer on fire" in shown
    assert "mia@customer.example" in shown and "new" in shown and "normal" in shown and "unassigned" in shown
    assert buttons(starter) == ["Claim", "Reply", "Close"]
    [first] = bot.thread_messages(thread)
    assert "Flames from the tray" in first["content"]


async def test_claim_edits_the_starter_in_place(bot: DiscordBot) -> None:
    number = await bot.mail(raw_mail())
    await bot.settled()
    thread = await bot.thread_of(number)
    answer = await bot.click(controls.CLAIM, thread, ANA)
    assert answer.followups[0]["flags"] & 64 and "claimed by Ana Agent" in answer.followups[0]["content"]
    await bot.settled()
    shown = embed_text(bot.starter(thread))
    assert f"<@{ANA['id']}>" in shown and "open" in shown
    assert len(bot.discord.threads()) == 1


async def test_thread_messages_are_notes_and_nothing_is_mailed(bot: DiscordBot) -> None:
    number = await bot.mail(raw_mail())
    await bot.settled()
    thread = await bot.thread_of(number)
    mails_before = len(bot.sink.received)
    for text in ("REPLY: we will refund you", "Dear customer, here is the fix"):
        await bot.say(thread["id"], ANA, text)

    async def notes() -> list[str]:
        found = [m.body_text for m in await messages(bot.core, number) if m.kind == MessageKind.NOTE]
        assert len(found) == 2
        return found

    assert sorted(await eventually(notes)) == ["Dear customer, here is the fix", "REPLY: we will refund you"]
    await bot.settled()
    assert len(bot.sink.received) == mails_before
    assert len([m for m in bot.thread_messages(thread) if m["author"]["bot"]]) == 1  # notes are not echoed
