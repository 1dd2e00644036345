"""Discord's refusals, end to end: a reply that cannot reach a customer's DMs is told to agents, once.

The fake answers 403 with code 50007 "Cannot send messages to this user" to a DM whose
recipient takes no DMs (https://discord.com/developers/docs/topics/opcodes-and-status-codes#json).
The bot maps it (`bot.adapters.discord.refusals`); the customer's DM thread records the reply as
refused, the agents read why in the ticket's thread, and /metrics counts it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot import metrics
from bot.adapters.discord import controls
from tests.support.db import Database
from tests.support.discord_bot import ANA, MIA, DiscordBot, running_discord_bot
from tests.support.slack_bot import eventually


@pytest.fixture
async def bot(database: Database, tmp_path: Path) -> AsyncIterator[DiscordBot]:
    async with running_discord_bot(database, tmp_path) as b:
        yield b


def refusals() -> float:
    value = metrics.REGISTRY.get_sample_value("tiketti_chat_post_failures_total",
                                              {"platform": "discord-dm", "code": "50007", "kind": "permanent"})
    return value or 0.0


async def test_a_reply_to_closed_dms_is_told_in_the_tickets_thread(bot: DiscordBot) -> None:
    dm = bot.discord.dm_channel(MIA)
    await bot.say(dm["id"], MIA, "My order #55 never arrived")
    [thread] = await eventually(lambda: bot.discord.threads())
    await bot.settled()
    bot.discord.close_dms(MIA)  # Mia turns off DMs from server members
    before = refusals()

    modal = await bot.click(controls.REPLY, thread, ANA)
    await bot.submit_modal(modal, ANA, thread, "It left our warehouse today.")
    await bot.settled()
    await bot.settled()  # sweeps after the refusal try nothing again

    to_mia = [m["content"] for m in bot.discord.in_channel(dm["id"]) if m["author"]["bot"]]
    assert not any("warehouse" in m for m in to_mia)
    told = [m["content"] for m in bot.thread_messages(thread) if "couldn't post" in m["content"]]
    number = thread["name"].split()[0]
    assert told == [f"⚠️ {number}: couldn't post a reply to the customer's DMs: the customer's Discord DMs are "
                    "closed — reply by mail or ask them to open DMs"]
    sends = [path for name, path in bot.discord.calls if name.startswith("POST") and path.endswith(f"/{dm['id']}/messages")]
    assert len(sends) == 2, "the acknowledgement, then the reply: tried once"
    assert refusals() - before == 1
