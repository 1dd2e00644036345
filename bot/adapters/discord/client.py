"""The discord.py client: the intents Tiketti needs, the persistent buttons, `/ticket`, and message events.

Intents: guilds (channels and threads), guild messages and direct messages (notes
and DM intake), guild message reactions (👀 on a card claims, ✅ solves), and message content, a privileged intent switched on in the
Developer Portal, without which thread messages arrive empty.
"""

from __future__ import annotations

import asyncio
import logging

import discord
from discord import app_commands

from bot.adapters.discord import messages, reply_form
from bot.adapters.discord.commands import ticket_group
from bot.adapters.discord.confirm import MergeAnyway
from bot.adapters.discord.controls import CardButton, CardSelect, legacy_views
from bot.adapters.discord.parts import DiscordParts
from bot.adapters.discord.toolkit_commands import toolkit_group
from bot.adapters.discord.undo_button import UndoSend

log = logging.getLogger(__name__)


def intents() -> discord.Intents:
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.guild_messages = True
    wanted.dm_messages = True
    wanted.guild_reactions = True
    wanted.message_content = True
    return wanted


class TikettiClient(discord.Client):
    def __init__(self, guild_id: int) -> None:
        super().__init__(intents=intents(), allowed_mentions=discord.AllowedMentions.none())
        self.tree = app_commands.CommandTree(self)
        self.guild = discord.Object(guild_id)
        self.parts: DiscordParts | None = None
        self.ready = asyncio.Event()

    def register(self) -> None:
        """What Discord may send us: the cards' controls, the confirmations, `/ticket` (before syncing it)."""
        assert self.parts is not None
        for view in legacy_views(self.parts):  # cards drawn before custom ids named their ticket
            self.add_view(view)
        # state in the custom id: cards' controls and confirmations from before a restart work
        self.add_dynamic_items(CardButton, CardSelect, MergeAnyway, UndoSend)
        self.tree.add_command(ticket_group(self.parts), guild=self.guild)
        self.tree.add_command(toolkit_group(self.parts), guild=self.guild)

    async def setup_hook(self) -> None:
        """Runs once after login, before the gateway: buttons from before a restart work again at once."""
        self.register()
        try:
            await self.tree.sync(guild=self.guild)  # per guild: available at once, unlike global commands
        except discord.HTTPException as exc:
            log.warning("discord: registering /ticket failed (%s %s); is the bot invited with applications.commands?",
                        exc.status, exc.text)

    async def on_guild_available(self, guild: discord.Guild) -> None:
        """Our server is known: enough to work (on_ready may wait seconds more for other servers)."""
        if guild.id == self.guild.id:
            log.info("discord: connected as %s to %s", self.user, guild.name)
            self.ready.set()

    async def on_ready(self) -> None:
        self.ready.set()

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """A Reply form opened before a restart: discord.py has forgotten it, its custom id says enough."""
        assert self.parts is not None
        await reply_form.submitted_after_restart(self.parts, interaction)

    async def on_message(self, message: discord.Message) -> None:
        assert self.parts is not None
        try:
            await messages.on_message(self.parts, message)
        except Exception:
            log.exception("discord: handling message %s failed", message.id)

    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        assert self.parts is not None
        try:
            await messages.on_edit(self.parts, payload)
        except Exception:
            log.exception("discord: handling an edit of message %s failed", payload.message_id)

    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        assert self.parts is not None
        try:
            await messages.on_reaction(self.parts, payload)
        except Exception:
            log.exception("discord: handling a reaction on message %s failed", payload.message_id)
