"""DM intake: a member who writes to the bot opens a ticket; the agent's reply goes back to the DM, not by mail."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.adapters.discord import controls
from bot.domain.model import MessageKind
from tests.support.db import Database
from tests.support.discord_bot import ANA, MIA, DiscordBot, running_discord_bot
from tests.support.mails import messages, ticket
from tests.support.slack_bot import eventually


@pytest.fixture
async def bot(sqlite_database: Database, tmp_path: Path) -> AsyncIterator[DiscordBot]:
    async with running_discord_bot(sqlite_database, tmp_path) as b:
        yield b


async def test_a_dm_opens_a_ticket_and_the_reply_goes_back_to_the_dm(bot: DiscordBot) -> None:
    dm = bot.discord.dm_channel(MIA)
    await bot.say(dm["id"], MIA, "My order #55 never arrived")
    [thread] = await eventually(lambda: bot.discord.threads())  # the gateway event was handled
    await bot.settled()
    assert "My order #55 never arrived" in thread["name"]
    starter = bot.starter(thread)
    assert f"<@{MIA['id']}> (Discord DM)" in starter["embeds"][0]["fields"][0]["value"]
    [customer] = bot.thread_messages(thread)
    assert "never arrived" in customer["content"]
    [ack] = [m for m in bot.discord.in_channel(dm["id"]) if m["author"]["bot"]]
    number = int(thread["name"].split()[0].lstrip("#"))
    assert f"#{number}" in ack["content"]

    await bot.say(thread["id"], ANA, "internal: check the courier")  # a note: never reaches the DM

    async def noted() -> bool:
        return any(m.kind == MessageKind.NOTE for m in await messages(bot.core, number))

    await eventually(noted)
    modal = await bot.click(controls.REPLY, thread, ANA)
    assert "Discord DM" in str(modal.data)
    done = await bot.submit_modal(modal, ANA, thread, "It left our warehouse today.")
    assert "by discord DM" in done.followups[0]["content"]
    await bot.settled()
    to_mia = [m["content"] for m in bot.discord.in_channel(dm["id"]) if m["author"]["bot"]]
    assert len(to_mia) == 2 and "It left our warehouse today." in to_mia[1]
    assert not any("courier" in m for m in to_mia)
    assert bot.sink.received == []  # nothing mailed, not even an acknowledgement

    await bot.say(dm["id"], MIA, "Thanks! It's here now.")

    async def stored() -> bool:
        return len(await messages(bot.core, number)) == 4

    await eventually(stored)
    await bot.settled()
    assert "It's here now" in bot.thread_messages(thread)[-1]["content"]
    assert len(bot.discord.threads()) == 1  # the same ticket, the same thread
    t = await ticket(bot.core, number)
    assert t is not None and t.status.value == "customer_replied"
    kinds = [m.kind for m in await messages(bot.core, number)]
    assert kinds == [MessageKind.INBOUND, MessageKind.NOTE, MessageKind.REPLY, MessageKind.INBOUND]


async def test_the_same_dm_delivered_twice_is_stored_once(bot: DiscordBot) -> None:
    dm = bot.discord.dm_channel(MIA)
    said = await bot.say(dm["id"], MIA, "Hello?")
    await eventually(lambda: bot.discord.threads())
    await bot.discord.dispatch("MESSAGE_CREATE", said)  # delivered again, as after a gateway resume
    [thread] = await eventually(lambda: bot.discord.threads())
    await bot.settled()
    number = int(thread["name"].split()[0].lstrip("#"))
    assert len(await messages(bot.core, number)) == 1
