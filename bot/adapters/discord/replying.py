"""Answering an interaction within Discord's 3 seconds: defer first, work, then follow up (ephemeral)."""

from __future__ import annotations

import io
import logging
from collections.abc import Awaitable, Callable

import discord

from bot.adapters.discord.answers import Answer
from bot.adapters.discord.parts import OUTSIDE_THE_SERVER, DiscordParts
from bot.adapters.errors import something_went_wrong
from bot.domain.errors import UserFacingError

log = logging.getLogger(__name__)


async def answer(interaction: discord.Interaction, reply: Answer) -> None:
    """Send `reply` to the caller alone. Never raises: this is also how errors are shown."""
    kwargs: dict[str, object] = {"ephemeral": True}
    if reply.file_name and reply.file_text is not None:
        kwargs["file"] = discord.File(io.BytesIO(reply.file_text.encode("utf-8")), filename=reply.file_name)
    if reply.view is not None:
        kwargs["view"] = reply.view
    try:
        if interaction.response.is_done():
            await interaction.followup.send(reply.text, **kwargs)  # type: ignore[arg-type]
        else:
            await interaction.response.send_message(reply.text, **kwargs)  # type: ignore[arg-type]
    except discord.HTTPException as exc:
        log.warning("discord: could not answer an interaction (%s %s)", exc.status, exc.text)


async def deferred(interaction: discord.Interaction, work: Callable[[], Awaitable[Answer]], what: str) -> None:
    """Acknowledge now (the caller sees "thinking…"), do `work`, and show its answer or the error."""
    if not interaction.response.is_done():
        await interaction.response.defer(ephemeral=True, thinking=True)
    try:
        reply = await work()
    except UserFacingError as exc:
        reply = Answer(f"⚠️ {exc}")
    except Exception:
        reply = Answer(f"⚠️ {something_went_wrong(log, 'discord: %s', what)}")
    await answer(interaction, reply)


async def clicked_in_our_server(interaction: discord.Interaction) -> DiscordParts | None:
    """The bot's parts for a control used in our server; None, with the clicker told, for one forged from a
    DM or another server (a DynamicItem's custom id can be sent from anywhere)."""
    parts = getattr(interaction.client, "parts", None)
    assert isinstance(parts, DiscordParts), "the Tiketti client carries its parts"
    if interaction.guild_id != parts.guild_id:
        await answer(interaction, Answer(OUTSIDE_THE_SERVER))
        return None
    return parts
