"""Notes typed in a ticket's thread while the bot was down are read back when it connects again, once.

Discord does not deliver a gateway event again: the fake keeps the messages posted while no bot was
connected (as Discord does) and never dispatches them. The next bot on the same database and server
reads them back from the thread's history and stores each as a note; what was seen live before is not
stored twice, and a later start finds nothing new.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain.model import MessageKind
from tests.support.db import Database
from tests.support.discord_bot import ANA, BEN, EVA, DiscordBot, running_discord_bot
from tests.support.fake_discord import FakeDiscord
from tests.support.mails import messages, raw_mail
from tests.support.slack_bot import eventually


async def notes(bot: DiscordBot, number: int) -> list[str]:
    return [m.body_text for m in await messages(bot.core, number) if m.kind == MessageKind.NOTE]


async def read_back(bot: DiscordBot) -> int:
    assert bot.runtime.discord is not None and bot.runtime.discord.read_back is not None
    return await bot.runtime.discord.read_back


@pytest.mark.parametrize("forum", [False, True], ids=["text channel", "forum"])
async def test_notes_typed_while_the_bot_was_down_are_stored_once_when_it_is_back(
        database: Database, tmp_path: Path, forum: bool) -> None:
    async with FakeDiscord(forum=forum) as server:
        async with running_discord_bot(database, tmp_path, fake=server) as bot:
            number = await bot.mail(raw_mail(subject="Printer on fire"))
            await bot.settled()
            thread = await bot.thread_of(number)
            await bot.say(thread["id"], ANA, "Seen live.")
            await eventually(lambda: notes(bot, number))
            assert await read_back(bot) == 0  # nothing was typed while it was away

        server.post(int(thread["id"]), BEN, {"content": "Typed while the bot was down."})
        server.post(int(thread["id"]), EVA, {"content": "And a second one."})

        async with running_discord_bot(database, tmp_path, fake=server) as bot:
            assert await read_back(bot) == 2
            assert await notes(bot, number) == ["Seen live.", "Typed while the bot was down.", "And a second one."]
            await bot.settled()
            said = [m["content"] for m in bot.thread_messages(thread) if m["author"].get("bot") is not True]
            assert said.count("Typed while the bot was down.") == 1  # a note is never echoed by the bot

        async with running_discord_bot(database, tmp_path, fake=server) as bot:
            assert await read_back(bot) == 0
            assert await notes(bot, number) == ["Seen live.", "Typed while the bot was down.", "And a second one."]
