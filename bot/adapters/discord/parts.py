"""What every Discord listener needs: the core, the client, the tickets channel, who is who.

Agents are known by their Discord user id (a snowflake); Discord does not give
bots members' email addresses, so an agent set up by email is matched on their
first action only through Slack, never here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import discord

from bot.adapters.commands import UsageError
from bot.domain.status import InvalidTransition
from bot.handlers import threads
from bot.handlers.context import Actor, Context, NotFound, Refused

PLATFORM = "discord"
# Errors whose message is written for the agent: shown to them alone, as is.
SHOWN_AS_IS = (UsageError, NotFound, Refused, InvalidTransition, ValueError)
MENTION = re.compile(r"<@!?(\d+)>")


@dataclass
class DiscordParts:
    ctx: Context
    client: discord.Client
    channel_id: int  # the default tickets channel: a forum, or a text channel whose threads are tickets
    guild_id: int

    def ticket_channels(self) -> list[int]:
        """Every channel that holds tickets: the default one and each team's own (`discord_channel`)."""
        teams = [int(t.discord_channel) for t in self.ctx.config.workflow.teams if t.discord_channel]
        return list(dict.fromkeys([self.channel_id, *teams]))

    def chat_ref(self, channel_id: int, message_id: int) -> str:
        """How a note typed in a thread is stored, so the publisher never echoes it back."""
        return f"{PLATFORM}:{channel_id}:{message_id}"

    async def ticket_in(self, thread_id: int, parent_id: int | None = None) -> int | None:
        """The ticket whose thread this is (a thread's id is its starter message's id), in whichever
        tickets channel; `parent_id`, the channel holding the thread, makes the lookup an indexed one."""
        return await threads.ticket_for_thread(self.ctx, PLATFORM, str(parent_id) if parent_id else None,
                                               str(thread_id))

    async def thread_link(self, number: int) -> str | None:
        ref = await threads.thread_of(self.ctx, PLATFORM, number)
        return f"<#{ref.root_ref}>" if ref else None


def actor(user: discord.abc.User) -> Actor:
    return Actor(str(user.id), getattr(user, "display_name", None) or user.name)


def mentioned(message: discord.Message, *, exclude: set[int]) -> list[discord.abc.User]:
    """People mentioned in a message, in order, once each (bots and `exclude` left out)."""
    seen: dict[int, discord.abc.User] = {}
    for user in message.mentions:
        if user.id not in exclude and not user.bot and user.id not in seen:
            seen[user.id] = user
    return list(seen.values())
