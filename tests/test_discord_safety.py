"""What the customer writes never acts in Discord: a pulled-in summary quoting their mail pings only the
colleagues pulled in (allowed_mentions), whatever ids or @everyone the mail holds. What cannot reach the
customer is told to agents: a reply to a DM customer whose DMs are closed (50007)."""

from __future__ import annotations

from pathlib import Path

from tests.support import discord_rules
from tests.support.db import Database
from tests.support.discord_bot import ANA, BEN, EVA, MIA, running_discord_bot
from tests.support.discord_dm import dm_ticket
from tests.support.mails import raw_mail
from tests.support.slack_bot import eventually


def test_the_fake_knows_who_a_message_pings() -> None:
    body = {"content": f"<@{BEN['id']}> and <@{EVA['id']}> @everyone"}
    assert discord_rules.pinged(body) == [BEN["id"], EVA["id"], "everyone"]  # no allowed_mentions: all of them
    assert discord_rules.pinged({**body, "allowed_mentions": {"parse": [], "users": [EVA["id"]]}}) == [EVA["id"]]
    assert discord_rules.pinged({**body, "allowed_mentions": {"parse": ["users"]}}) == [BEN["id"], EVA["id"]]


async def test_a_pulled_in_summary_pings_only_who_was_pulled_in(sqlite_database: Database, tmp_path: Path) -> None:
    async with running_discord_bot(sqlite_database, tmp_path) as bot:
        number = await bot.mail(raw_mail(subject="Invoice", body=f"Hey <@{BEN['id']}> @everyone, refund me"))
        await bot.settled()
        thread = await bot.thread_of(number)
        await bot.say(thread["id"], ANA, f"<@{EVA['id']}> can you check?", mentions=[EVA])

        def summary() -> list[dict[str, object]]:
            return [m for m in bot.thread_messages(thread) if "you were added to" in m["content"]]

        [posted] = await eventually(summary)
        assert f"<@{BEN['id']}>" in str(posted["content"])  # quoted, as the customer wrote it
        assert posted["pinged"] == [EVA["id"]]


async def test_a_reply_to_a_customer_whose_dms_are_closed_is_told_to_agents_in_the_thread(
        sqlite_database: Database, tmp_path: Path) -> None:
    async with running_discord_bot(sqlite_database, tmp_path) as bot:
        number = await dm_ticket(bot, MIA, "My parcel is lost somewhere")
        thread = await bot.thread_of(number)
        bot.discord.close_dms(MIA)  # Privacy Settings: no DMs from server members (Discord answers 50007)
        done = await bot.slash("reply", ANA, channel=thread, text="We found it.", number=number)
        assert "DM" in done.followups[0]["content"]
        await bot.settled()

        def told() -> list[str]:
            return [m["content"] for m in bot.thread_messages(thread) if "DMs are closed" in m["content"]]

        [notice] = await eventually(told)
        assert "reply by mail or ask them to open DMs" in notice
        assert not [m for m in bot.discord.in_channel(bot.discord.dm_channel(MIA)["id"]) if "We found it" in m["content"]]
