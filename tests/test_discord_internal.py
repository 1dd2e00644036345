"""An internal ticket (a child split off for a team: no customer) on Discord: its card says so, and there is no
Reply: nobody to mail, so no form with an empty "to"."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.adapters.discord import controls, embeds, reply_form
from tests.support.db import Database
from tests.support.discord_bot import BEN, EVA, DiscordBot, action_of, roster_discord_bot
from tests.support.discord_doors import store_state
from tests.support.mails import raw_mail


@pytest.fixture
async def bot(sqlite_database: Database, tmp_path: Path) -> AsyncIterator[DiscordBot]:
    async with roster_discord_bot(sqlite_database, tmp_path) as b:
        yield b


async def test_an_internal_ticket_shows_internal_and_offers_no_reply(bot: DiscordBot) -> None:
    parent = await bot.mail(raw_mail(subject="Laptop broken"))
    await bot.slash("child", BEN, number=parent, subject="Order a spare keyboard")
    await bot.settled()
    child = await bot.thread_of(parent + 1)
    card = bot.starter(child)
    [embed] = card["embeds"]
    requester = next(f["value"] for f in embed["fields"] if f["name"] == "Requester")
    assert requester == embeds.INTERNAL and "nothing is mailed" in embed["footer"]["text"]
    buttons = [action_of(c["custom_id"]) for row in card["components"] for c in row["components"]]
    assert buttons[:2] == [controls.CLAIM, controls.CLOSE] and controls.REPLY not in buttons
    customer = bot.starter(await bot.thread_of(parent))  # the parent still has its Reply
    assert controls.REPLY in [action_of(c["custom_id"]) for row in customer["components"] for c in row["components"]]

    before = await store_state(bot.core)
    clicked = await bot.click(controls.REPLY, child, BEN)  # a Reply on an older card of it: no form
    assert clicked.kind == 4 and clicked.ephemeral and reply_form.INTERNAL_REPLY in clicked.data["content"]
    stranger = await bot.click(controls.REPLY, child, EVA)  # a stranger learns nothing, not even that
    assert "only the helpdesk's agents" in stranger.data["content"] and "internal" not in stranger.data["content"]
    typed = await bot.slash("reply", BEN, number=parent + 1, text="Hello?")
    assert "internal ticket" in typed.followups[0]["content"]
    assert await store_state(bot.core) == before  # no reply, no draft, no mail queued

    shown = await bot.slash("show", BEN, number=parent + 1)
    assert f"from {embeds.INTERNAL}" in shown.followups[0]["content"]
