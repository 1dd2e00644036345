"""The Discord adapter assembled: the client for what Discord sends; for what we show, the chat layer's
`ThreadSync` (tickets' threads), `DmRelay` (customers' DMs) and `NoticeDelivery` over Discord's surfaces
(`bot.adapters.discord.surface`), and the managers' digest.

The bot connects out to Discord's gateway (no public URL). It runs beside the
Slack adapter or instead of it; both read the same store, and each ticket is
shown where its team works (`bot.handlers.placement`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime

import discord

from bot.adapters.discord import catch_up
from bot.adapters.discord.client import TikettiClient
from bot.adapters.discord.digest import DigestPoster
from bot.adapters.discord.parts import PLATFORM, DiscordParts
from bot.adapters.discord.surface import DiscordDmSurface, DiscordSurface
from bot.chat.dm_relay import DmRelay
from bot.chat.notices import NoticeDelivery
from bot.chat.thread_sync import ThreadSync
from bot.handlers.context import Context
from bot.settings import Settings

log = logging.getLogger(__name__)

READY_SECONDS = 60.0


class DiscordConfigError(ValueError):
    """Discord is half set up; the message names what is missing."""


class DiscordAdapter:
    def __init__(self, ctx: Context, settings: Settings) -> None:
        if settings.discord_token is None:
            raise DiscordConfigError("DISCORD_TOKEN is not set")
        channel, guild = _snowflake(settings.discord_channel), _snowflake(settings.discord_guild)
        if channel is None:
            raise DiscordConfigError("TIKETTI_DISCORD_CHANNEL (the id of the tickets forum or text channel) is not set")
        if guild is None:
            raise DiscordConfigError("TIKETTI_DISCORD_GUILD (the id of the Discord server) is not set")
        self.token = settings.discord_token.get_secret_value()
        self.client = TikettiClient(guild)
        self.parts = DiscordParts(ctx, self.client, channel, guild)
        self.client.parts = self.parts
        self.surface = DiscordSurface(self.parts)
        self.publisher = ThreadSync(ctx, self.surface)  # tickets' threads
        self.dms = DmRelay(ctx, DiscordDmSurface(self.parts), chat_platform=PLATFORM)  # customers' DMs
        self.notices = NoticeDelivery(ctx, self.surface)
        for part in (self.publisher, self.dms, self.notices):
            part.subscribe()
        self.digest = DigestPoster(self.parts, _snowflake(settings.discord_managers_channel))
        self.digest.subscribe()
        self._tasks: list[asyncio.Task[None]] = []
        self.read_back: asyncio.Task[int] | None = None  # notes typed while we were away (catch_up)

    async def start(self, stop: asyncio.Event) -> asyncio.Task[None]:
        """Log in, connect, and start showing tickets. Returns the task that runs until `stop`."""
        await self.client.login(self.token)
        gateway = asyncio.create_task(self.client.connect(reconnect=True), name="discord-gateway")
        ready = asyncio.create_task(self.client.ready.wait())
        await asyncio.wait({gateway, ready}, timeout=READY_SECONDS, return_when=asyncio.FIRST_COMPLETED)
        if gateway.done():
            ready.cancel()
            gateway.result()  # the connection failed: say why
        ready.cancel()
        connected_at = discord.utils.utcnow()  # what is typed from now on comes live; before it, read back
        await self.surface.prepare()
        self.read_back = asyncio.create_task(self._read_back(connected_at), name="discord-read-back")
        log.info("discord: tickets go to channels %s (the first unless a team names its own)",
                 ", ".join(map(str, self.parts.ticket_channels())))
        return asyncio.create_task(self._run(stop, gateway), name="discord")

    async def _run(self, stop: asyncio.Event, gateway: asyncio.Task[None]) -> None:
        publishing = [asyncio.create_task(self.publisher.run(stop), name="discord-publisher"),
                      asyncio.create_task(self.dms.run(stop), name="discord-dm"),
                      asyncio.create_task(self.notices.run(stop), name="discord-notices")]
        try:
            await asyncio.gather(*publishing)
        finally:
            await self.client.close()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(gateway, timeout=5)

    async def _read_back(self, connected_at: datetime) -> int:
        try:
            return await catch_up.read_back(self.parts, connected_at)
        except Exception:  # Discord or the database away: live messages still work; the next start tries again
            log.exception("discord: reading back messages typed while the bot was away failed")
            return 0

    async def stop(self) -> None:
        if self.read_back is not None and not self.read_back.done():
            self.read_back.cancel()
        if not self.client.is_closed():
            await self.client.close()


def _snowflake(value: str | None) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    if not value.isdecimal():
        raise DiscordConfigError(f"{value!r} is not a Discord id (enable Developer Mode, then Copy ID)")
    return int(value)
