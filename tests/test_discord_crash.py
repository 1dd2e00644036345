"""A crash in the middle of a thread's sync on Discord: nothing shown twice, nothing left out.

The process "dies" (its record of what it showed never commits, its lease stays) after posting a
message, or before; minutes later (Discord has forgotten the nonces) the bot is back, takes over the
lease and looks in the thread before posting. Two messages with the same words (a customer who
writes "Thanks" twice) stay two: one found is never taken for the other.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.discord.surface import DiscordSurface
from bot.handlers import threads
from tests.support.db import Database
from tests.support.discord_bot import DiscordBot, running_discord_bot
from tests.support.fake_discord import FakeDiscord
from tests.support.mails import raw_mail
from tests.support.slack_bot import eventually

Json = dict[str, Any]
THANKS = "📨 **Mia Customer <mia@customer.example>** wrote:\nThanks"


async def _died(*args: object, **kwargs: object) -> None:
    raise ConnectionError("the process died here")


async def _thanks_twice(bot: DiscordBot, monkeypatch: pytest.MonkeyPatch,
                        crash: Callable[[pytest.MonkeyPatch], None]) -> tuple[int, Json]:
    """A ticket whose first message says "Thanks", shown; then the customer says it again, and the
    sync showing it dies as `crash` arranges."""
    number = await bot.mail(raw_mail(subject="Solved", body="Thanks", message_id="<one@customer.example>"))
    await bot.settled()
    thread = await bot.thread_of(number)
    crash(monkeypatch)
    await bot.mail(raw_mail(subject=f"Re: Solved [#{number}]", body="Thanks", message_id="<two@customer.example>",
                            in_reply_to="<one@customer.example>"))
    return number, thread


async def _back(db: Database, tmp_path: Path, fake: FakeDiscord, number: int) -> list[Json]:
    """The bot started again minutes later (past the dead sync's lease): the thread's posts, and each
    message's recorded post checked against them."""
    fake.nonces.forget()
    async with running_discord_bot(db, tmp_path, fake=fake) as again:
        before = again.core.ctx.clock
        again.core.ctx.clock = lambda: before() + timedelta(minutes=5)
        await again.settled()
        thread = await again.thread_of(number)
        posts = again.thread_messages(thread)
        async with again.core.ctx.uow() as uow:
            refs = await uow.chat_posts.seen_refs("discord", number)
        assert sorted(refs) == sorted(p["id"] for p in posts), "every post recorded, and only those"
        return posts


async def test_a_message_posted_just_before_the_crash_is_not_posted_again(database: Database, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    async with FakeDiscord() as fake:
        async with running_discord_bot(database, tmp_path, fake=fake) as bot:
            number, thread = await _thanks_twice(bot, monkeypatch,
                                                 lambda m: m.setattr(threads, "end_sync", _died))
            await eventually(lambda: len(bot.thread_messages(thread)) == 2)  # posted; its record never commits
            monkeypatch.undo()
        posts = await _back(database, tmp_path, fake, number)
        assert [p["content"] for p in posts] == [THANKS, THANKS]


async def test_a_message_the_crash_kept_from_posting_is_posted_though_an_earlier_one_has_its_words(
        database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def before_posting(m: pytest.MonkeyPatch) -> None:
        m.setattr(DiscordSurface, "post_message", _died)
        m.setattr(threads, "end_sync", _died)

    async with FakeDiscord() as fake:
        async with running_discord_bot(database, tmp_path, fake=fake) as bot:
            number, thread = await _thanks_twice(bot, monkeypatch, before_posting)
            await eventually(lambda: _leased(bot, number))
            assert len(bot.thread_messages(thread)) == 1
            monkeypatch.undo()
        posts = await _back(database, tmp_path, fake, number)
        assert [p["content"] for p in posts] == [THANKS, THANKS]


async def _leased(bot: DiscordBot, number: int) -> bool:
    """The dying sync holds the thread's lease (it began, and never ended)."""
    async with bot.core.ctx.uow() as uow:
        row = await uow.chat_threads.get("discord", number)
        return row is not None and row.lease_owner is not None
