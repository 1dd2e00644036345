"""Notes typed in ticket threads while the bot was away, read back when it connects again.

Discord does not deliver a gateway event again: a message posted while the bot was down (a crash, a
deploy, a lost connection) never reaches `on_message`. So, once connected, the bot asks Discord for the
active threads (one call), and for each ticket thread whose last message is newer than anything the
store knows of it (our posts, the notes typed there) reads the messages after that, up to the moment it
connected, and handles each as `on_message` would have: a person's message becomes a note. Notes are
idempotent by their chat_ref (the Discord message), so a message seen live before is not stored again;
messages after the moment of connecting arrive live.
"""

from __future__ import annotations

import logging
from datetime import datetime

import discord

from bot.adapters.discord import messages
from bot.adapters.discord.parts import PLATFORM, DiscordParts
from bot.handlers import threads

log = logging.getLogger(__name__)

LIMIT = 100  # messages read back per thread: a thread busier than that while we were down is unusual


async def read_back(parts: DiscordParts, connected_at: datetime) -> int:
    """Messages typed in ticket threads before `connected_at` that the store has not seen; how many were handled."""
    until = discord.Object(id=discord.utils.time_snowflake(connected_at))
    guild = parts.client.get_guild(parts.guild_id) or await parts.client.fetch_guild(parts.guild_id)
    homes = set(parts.ticket_channels())
    handled = 0
    for thread in await guild.active_threads():
        if thread.parent_id not in homes or not thread.last_message_id:
            continue
        number = await parts.ticket_in(thread.id, thread.parent_id)
        if number is None:
            continue
        seen = await threads.last_seen(parts.ctx, PLATFORM, number)
        if thread.last_message_id <= seen:
            continue
        after = discord.Object(id=max(seen, thread.id))  # a thread's id is its starter's: nothing typed before it
        async for message in thread.history(after=after, before=until, oldest_first=True, limit=LIMIT):
            if not message.author.bot:
                await messages.on_message(parts, message)
                handled += 1
    if handled:
        log.info("discord: read back %d messages typed in ticket threads while the bot was away", handled)
    return handled
