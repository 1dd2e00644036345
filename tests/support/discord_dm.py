"""A customer in their DM with the bot: what they type, and what the bot answers there."""

from __future__ import annotations

import re
from typing import Any

from tests.support.discord_bot import DiscordBot
from tests.support.mails import parse_sent, text_body
from tests.support.slack_bot import eventually

Json = dict[str, Any]


def dm_answers(bot: DiscordBot, dm: Json) -> list[str]:
    return [m["content"] for m in bot.discord.in_channel(dm["id"]) if m["author"]["bot"]]


async def dm_command(bot: DiscordBot, user: Json, text: str) -> str:
    """Type `text` in the user's DM with the bot and return the bot's answer to it."""
    dm = bot.discord.dm_channel(user)
    before = len(dm_answers(bot, dm))
    await bot.say(dm["id"], user, text)
    return (await eventually(lambda: dm_answers(bot, dm)[before:]))[-1]


async def dm_ticket(bot: DiscordBot, user: Json, text: str) -> int:
    """The user opens a ticket by DM; its number, once its thread is shown."""
    await bot.say(bot.discord.dm_channel(user)["id"], user, text)
    thread = await eventually(lambda: next((t for t in bot.discord.threads() if text[:20] in t["name"]), None))
    await bot.settled()
    return int(thread["name"].split()[0].lstrip("#"))


async def link(bot: DiscordBot, user: Json, email: str) -> None:
    """The user proves `email` in their DM: asks for a code, reads it from the mail, sends it back."""
    asked = await dm_command(bot, user, f"link {email}")
    assert asked.startswith("I sent a code"), asked
    await bot.settled()
    [mail] = [r for r in bot.sink.received if email in r.rcpt_tos][-1:]
    code = re.findall(r"\b\d{6}\b", text_body(parse_sent(mail.raw)))[0]
    linked = await dm_command(bot, user, f"link {code}")
    assert linked.startswith("Linked"), linked
