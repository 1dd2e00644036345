"""Discord autocomplete for canned replies: `/ticket reply text::ref…` and `/helpdesk replies words:…`.

Discord asks while the agent types (https://discord.com/developers/docs/interactions/application-commands#autocomplete:
"up to 25 choices", each name and value at most 100 characters). On `/ticket reply` only a text that starts
with ":" is a canned reply being named, so anything else is answered with no choices and sent as typed.
Asked quietly (bot.handlers.canned.offered): someone who may not use canned replies is offered none, and a
keystroke is not audited.
"""

from __future__ import annotations

import discord
from discord import app_commands

from bot.adapters.discord.embeds import cut
from bot.adapters.discord.parts import DiscordParts
from bot.handlers import canned

MAX_CHOICES = 25


async def _entries(parts: DiscordParts, interaction: discord.Interaction, typed: str) -> list[canned.ReplyEntry]:
    if interaction.guild_id != parts.guild_id:
        return []
    return (await canned.offered(parts.ctx, parts.actor(interaction.user), typed))[:MAX_CHOICES]


async def reply_texts(parts: DiscordParts, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    """`:name` choices for a reply's text once it starts with ':' (the rest of the text is kept after the name)."""
    if not current.startswith(":") or " " in current.strip():
        return []
    return [app_commands.Choice(name=cut(f":{e.name} — {e.title} ({', '.join(e.languages)})", 100), value=f":{e.name}")
            for e in await _entries(parts, interaction, current)]


async def reply_names(parts: DiscordParts, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    """For `/helpdesk replies words:`: the replies whose name or title match what is typed."""
    return [app_commands.Choice(name=cut(f":{e.name} — {e.title} ({', '.join(e.languages)})", 100), value=e.name)
            for e in await _entries(parts, interaction, current)]
