"""Forum posts as Discord keeps them: tag names of at most 20 characters and 20 tags a forum, each tag
made on its own so one refused leaves the others; an archived post refuses edits (50083) until the
bot unarchives it, so a claim or a priority still reaches the card."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.adapters.discord import embeds
from tests.support import discord_payloads as p
from tests.support.db import Database
from tests.support.discord_bot import ANA, running_discord_bot
from tests.support.fake_discord import FakeDiscord

Json = dict[str, Any]


async def _call(fake: FakeDiscord, method: str, path: str, body: Json) -> tuple[int, Json]:
    async with aiohttp.ClientSession(headers={"Authorization": f"Bot {p.TOKEN}"}) as http, \
            http.request(method, fake.api_base + path, json=body) as answer:
        return answer.status, await answer.json()


async def test_the_fake_refuses_tag_names_over_20_characters_and_more_than_20_tags() -> None:
    async with FakeDiscord(forum=True) as fake:
        forum = f"/channels/{fake.tickets_channel['id']}"
        status, body = await _call(fake, "PATCH", forum, {"available_tags": [{"name": "waiting on third party"}]})
        assert (status, body["code"]) == (400, 50035)
        status, _ = await _call(fake, "PATCH", forum, {"available_tags": [{"name": f"t{i}"} for i in range(21)]})
        assert status == 400
        assert fake.tickets_channel["available_tags"] == []  # a refused PATCH changes nothing
        status, _ = await _call(fake, "PATCH", forum, {"available_tags": [{"name": "x" * 20}]})
        assert status == 200


async def test_the_fake_refuses_edits_in_an_archived_thread_until_it_is_unarchived() -> None:
    async with FakeDiscord(forum=True) as fake:
        forum = fake.tickets_channel["id"]
        status, post = await _call(fake, "POST", f"/channels/{forum}/threads",
                                   {"name": "a post", "message": {"content": "starter"}})
        assert status == 200
        thread = fake.channels[int(post["id"])]
        fake.archive(thread)
        status, body = await _call(fake, "PATCH", f"/channels/{post['id']}/messages/{post['id']}", {"content": "x"})
        assert (status, body["code"]) == (400, 50083)
        status, body = await _call(fake, "PATCH", f"/channels/{post['id']}", {"applied_tags": []})
        assert (status, body["code"]) == (400, 50083)
        assert (await _call(fake, "PATCH", f"/channels/{post['id']}", {"archived": False}))[0] == 200
        assert (await _call(fake, "PATCH", f"/channels/{post['id']}/messages/{post['id']}", {"content": "x"}))[0] == 200
        fake.archive(thread)
        assert (await _call(fake, "POST", f"/channels/{post['id']}/messages", {"content": "hello"}))[0] == 200
        assert not thread["thread_metadata"]["archived"]  # sending a message unarchives


def test_every_tag_name_fits_discord() -> None:
    names = embeds.forum_tag_names()
    assert all(len(n) <= 20 for n in names) and len(set(names)) == len(names) <= 20
    assert "waiting on 3rd party" in names


async def test_a_tag_discord_refuses_is_skipped_and_the_others_are_made(sqlite_database: Database, tmp_path: Path,
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    async with FakeDiscord(forum=True) as fake:
        fake.fail_next["PATCH /channels/{channel}"] = 400  # the first tag's PATCH is refused
        with caplog.at_level(logging.WARNING, "bot.adapters.discord.surface"):
            async with running_discord_bot(sqlite_database, tmp_path, fake=fake) as bot:
                made = {t["name"] for t in bot.discord.tickets_channel["available_tags"]}
        wanted = embeds.forum_tag_names()
        assert made == set(wanted[1:])
        assert f"could not add tag {wanted[0]!r}" in caplog.text


async def test_a_full_forum_gets_the_tags_it_has_room_for(sqlite_database: Database, tmp_path: Path) -> None:
    async with FakeDiscord(forum=True) as fake:
        fake.tickets_channel["available_tags"] = [{"id": str(fake.next_id()), "name": f"theirs {i}", "moderated": False,
                                                   "emoji_id": None, "emoji_name": None} for i in range(15)]
        async with running_discord_bot(sqlite_database, tmp_path, fake=fake) as bot:
            names = [t["name"] for t in bot.discord.tickets_channel["available_tags"]]
        assert len(names) == 20 and names[15:] == embeds.forum_tag_names()[:5]


async def test_an_archived_post_is_unarchived_and_its_card_and_tags_updated(sqlite_database: Database,
                                                                            tmp_path: Path) -> None:
    from tests.support.mails import raw_mail
    async with running_discord_bot(sqlite_database, tmp_path, forum=True) as bot:
        tags = {t["name"]: t["id"] for t in bot.discord.tickets_channel["available_tags"]}
        number = await bot.mail(raw_mail(subject="Gone quiet"))
        await bot.settled()
        thread = await bot.thread_of(number)
        bot.discord.archive(thread)
        answer = await bot.slash("priority", ANA, channel=bot.discord.tickets_channel, level="urgent", number=number)
        assert "urgent" in str(answer.followups or answer.data)
        await bot.settled()
        assert set(thread["applied_tags"]) == {tags["new"], tags["urgent priority"]}
        assert "urgent" in bot.starter(thread)["embeds"][0]["fields"][2]["value"]
