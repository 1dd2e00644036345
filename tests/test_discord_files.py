"""Files people attach on Discord outlive Discord's signed CDN URLs: a customer's DM attachment is read at
once and stored with their message; a note names its file with a link to the message, never the URL alone."""

from __future__ import annotations

from pathlib import Path

import aiohttp
from sqlalchemy import select

from bot.store import orm
from tests.support.db import Database
from tests.support.discord_bot import ANA, MIA, running_discord_bot
from tests.support.fake_discord import FakeDiscord
from tests.support.mails import messages, raw_mail
from tests.support.slack_bot import eventually


async def test_the_fakes_attachment_urls_expire() -> None:
    async with FakeDiscord() as fake:
        fake.join(MIA)
        posted = fake.post(int(fake.tickets_channel["id"]), MIA, {"content": "see file"}, {"log.txt": "boot failed"})
        url = posted["attachments"][0]["url"]
        async with aiohttp.ClientSession() as http:
            async with http.get(url) as fresh:
                assert fresh.status == 200 and await fresh.text() == "boot failed"
            fake.expire_files()
            async with http.get(url) as stale:
                assert stale.status == 404


async def test_a_dm_attachment_is_stored_with_the_customers_message(sqlite_database: Database,
                                                                    tmp_path: Path) -> None:
    async with running_discord_bot(sqlite_database, tmp_path) as bot:
        dm = bot.discord.dm_channel(MIA)
        await bot.say(dm["id"], MIA, "Here is the error log", files={"error.log": "disk full at 03:12"})
        await eventually(lambda: bot.discord.threads())
        await bot.settled()
        bot.discord.expire_files()  # a day later the URL is dead; the file is still the ticket's
        async with bot.core.engine.connect() as conn:
            rows = (await conn.execute(select(orm.attachments.c.filename, orm.attachments.c.content))).all()
        assert [(r[0], bytes(r[1])) for r in rows] == [("error.log", b"disk full at 03:12")]
        [thread] = bot.discord.threads()
        assert any("error.log" in m["content"] for m in bot.thread_messages(thread))


async def test_a_notes_attachment_is_linked_by_its_message_not_its_expiring_url(sqlite_database: Database,
                                                                               tmp_path: Path) -> None:
    async with running_discord_bot(sqlite_database, tmp_path) as bot:
        number = await bot.mail(raw_mail(subject="Screenshot"))
        await bot.settled()
        thread = await bot.thread_of(number)
        said = await bot.say(thread["id"], ANA, "see the screenshot", files={"shot.png": "PNG"})

        async def note() -> str | None:
            return next((m.body_text for m in await messages(bot.core, number) if "shot.png" in m.body_text), None)

        text = await eventually(note)
        assert f"https://discord.com/channels/{bot.discord.guild_id}/{thread['id']}/{said['id']}" in text
        assert "/cdn/" not in text and "?ex=" not in text
