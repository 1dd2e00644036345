"""Discord's rules: forum posts with tags in step, 2,000-character messages, one starter per ticket across
restarts and through a storm of 429s."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.chat import sync_queue
from tests.support.db import Database
from tests.support.discord_bot import ANA, running_discord_bot
from tests.support.fake_discord import FakeDiscord
from tests.support.mails import raw_mail
from tests.support.slack_bot import eventually


async def test_in_a_forum_each_ticket_is_a_post_whose_tags_follow_status_and_priority(sqlite_database: Database,
                                                                                      tmp_path: Path) -> None:
    async with running_discord_bot(sqlite_database, tmp_path, forum=True) as bot:
        tags = {t["name"]: t["id"] for t in bot.discord.tickets_channel["available_tags"]}
        assert {"new", "open", "solved", "urgent priority", "normal priority"} <= set(tags)
        number = await bot.mail(raw_mail(subject="Forum ticket"))
        await bot.settled()
        thread = await bot.thread_of(number)
        assert thread["parent_id"] == bot.discord.tickets_channel["id"]
        assert set(thread["applied_tags"]) == {tags["new"], tags["normal priority"]}
        starter = bot.starter(thread)
        assert starter["embeds"][0]["title"] == f"#{number} Forum ticket"
        await bot.click("tiketti:claim", thread, ANA)
        await bot.slash("priority", ANA, channel=thread, level="urgent")
        await bot.settled()
        assert set(thread["applied_tags"]) == {tags["open"], tags["urgent priority"]}
        assert "open" in bot.starter(thread)["embeds"][0]["fields"][1]["value"]


async def test_long_mail_is_split_within_2000_characters_or_attached_whole(sqlite_database: Database,
                                                                           tmp_path: Path) -> None:
    async with running_discord_bot(sqlite_database, tmp_path) as bot:
        medium = "\n".join(f"line {i} " + "x" * 60 for i in range(60))  # ~4,000 characters: two posts
        huge = "\n".join(f"row {i} " + "y" * 70 for i in range(400))  # ~30,000: head plus the file
        one = await bot.mail(raw_mail(subject="Medium", body=medium, message_id="<m@customer.example>"))
        two = await bot.mail(raw_mail(frm="Bo <bo@customer.example>", subject="Huge", body=huge,
                                      message_id="<h@customer.example>"))
        await bot.settled()
        posts = bot.thread_messages(await bot.thread_of(one))
        assert len(posts) >= 2 and all(len(p["content"]) <= 2000 for p in posts)
        assert "line 0 " in posts[0]["content"] and "line 59 " in posts[-1]["content"]
        [head] = bot.thread_messages(await bot.thread_of(two))
        assert len(head["content"]) <= 2000 and "whole text is attached" in head["content"]
        [attached] = head["attachments"]
        assert attached["filename"].endswith(".txt") and "row 399 " in attached["text"]


async def test_one_starter_per_ticket_across_a_crash_after_posting_and_a_restart(database: Database,
                                                                                 tmp_path: Path) -> None:
    async with FakeDiscord() as fake:
        async with running_discord_bot(database, tmp_path, fake=fake) as bot:
            number = await bot.mail(raw_mail(subject="Posted once"))
            await bot.settled()
            assert len(fake.threads()) == 1
            # The thread row forgets its root, as if the bot died between posting and recording it.
            async with bot.core.ctx.uow() as uow:
                row = await uow.chat_threads.get("discord", number)
                assert row is not None
                row.root_ref, row.rendered_at = None, None
                await uow.commit()
        async with running_discord_bot(database, tmp_path, fake=fake) as again:
            await again.settled()
            assert len(fake.threads()) == 1
            starters = [m for m in fake.in_channel(fake.tickets_channel["id"]) if m["embeds"]]
            assert len(starters) == 1
            later = await again.mail(raw_mail(subject="After restart", message_id="<later@customer.example>"))
            await again.settled()
            assert len(fake.threads()) == 2 and (await again.thread_of(later))["name"].startswith(f"#{later} ")
            await again.click("tiketti:claim", await again.thread_of(number), ANA)  # old buttons still work


async def test_half_a_discord_setup_is_refused_with_the_missing_setting_named(sqlite_database: Database,
                                                                              tmp_path: Path) -> None:
    from bot.app import build_core
    from bot.runtime import Runtime
    from tests.conftest import make_settings

    for overrides, missing in (({"discord_guild": "1"}, "TIKETTI_DISCORD_CHANNEL"),
                               ({"discord_channel": "2"}, "TIKETTI_DISCORD_GUILD"),
                               ({"discord_channel": "#tickets", "discord_guild": "1"}, "not a Discord id")):
        core = await build_core(make_settings(sqlite_database, tmp_path, discord_token="t", **overrides),
                                engine=sqlite_database.engine())
        try:
            with pytest.raises(ValueError, match=missing):
                Runtime(core, web=False)
        finally:
            await core.close()


async def test_slack_and_discord_run_side_by_side_on_one_store(sqlite_database: Database, tmp_path: Path) -> None:
    from bot.app import build_core
    from bot.runtime import Runtime
    from tests.conftest import make_settings

    core = await build_core(make_settings(sqlite_database, tmp_path, discord_token="t", discord_channel="2",
                                          discord_guild="1", slack_bot_token="xoxb-1", slack_signing_secret="s",
                                          slack_channel="C1"), engine=sqlite_database.engine())
    try:
        runtime = Runtime(core, web=False)
        assert runtime.slack is not None and runtime.discord is not None
    finally:
        await core.close()


@pytest.mark.parametrize("forum", [False, True], ids=["text-channel", "forum"])
async def test_a_429_storm_while_55_tickets_are_published_leaves_one_thread_each(
        database: Database, tmp_path: Path, forum: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Discord refuses a burst of calls with 429: discord.py waits and retries. The first few tickets'
    threads are refused five times, and discord.py gives up (in a text channel the starter is posted by
    then): the ticket is synced again, looks for what landed, and posts nothing twice."""
    monkeypatch.setattr(sync_queue, "RETRY_SECONDS", 0.05)
    async with running_discord_bot(database, tmp_path, forum=forum) as bot:
        fake = bot.discord
        thread_route = "POST /channels/{channel}/threads" if forum \
            else "POST /channels/{channel}/messages/{message}/threads"
        fake.storm(15, retry_after=0.01, route=thread_route)
        fake.storm(160, retry_after=0.01)
        numbers = [await bot.mail(raw_mail(frm=f"Customer {i} <c{i}@customer.example>", subject=f"Storm {i}", body=f"Body of mail {i}.")) for i in range(55)]

        async def all_shown() -> bool:
            await bot.settled()
            return all(len(bot.thread_messages(t)) == 1 for t in fake.threads()) and len(fake.threads()) == 55

        await eventually(all_shown, timeout=60)
        assert fake.rate_limited == 175
        searched = "GET /guilds/{guild}/threads/active" if forum else "GET /channels/{channel}/messages"
        assert fake.called(searched) >= 1  # a ticket whose thread was refused looked before posting again
        threads = {t["name"]: t for t in fake.threads()}
        assert sorted(threads) == sorted(f"#{n} Storm {i}" for i, n in enumerate(numbers))
        for i, n in enumerate(numbers):
            thread = threads[f"#{n} Storm {i}"]
            assert bot.starter(thread)["embeds"][0]["title"] == f"#{n} Storm {i}"
            [shown] = bot.thread_messages(thread)
            assert f"Body of mail {i}." in shown["content"]
        starters = [m for c in fake.channels for m in fake.in_channel(c) if m["embeds"]]
        assert len(starters) == 55
