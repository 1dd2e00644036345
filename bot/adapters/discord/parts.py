"""What every Discord listener needs: the core, the client, the tickets channel, who is who.

Agents are known by their Discord user id (a snowflake) and the ids of the roles
they hold; Discord does not give bots members' email addresses, so an agent set
up by email is matched on their first action only through Slack, never here.
Whether someone may act is the core's decision (`bot.handlers.permissions`): the
door only hands it the facts, read from discord.py's cache, which the gateway
keeps current (roles and channel overwrites arrive as GUILD_ROLE_* and
CHANNEL_UPDATE events, a member's roles with every interaction and message).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import discord

from bot.chat.notes import Once
from bot.handlers import threads
from bot.handlers.context import Actor, Context

PLATFORM = "discord"
MENTION = re.compile(r"<@!?(\d+)>")
OUTSIDE_THE_SERVER = "⚠️ /ticket works only in the helpdesk's server, in its tickets channels and threads"


@dataclass
class DiscordParts:
    ctx: Context
    client: discord.Client
    channel_id: int  # the default tickets channel: a forum, or a text channel whose threads are tickets
    guild_id: int
    told: Once = field(default_factory=Once)  # who heard of what by DM (bot.chat.notes: once per thread)

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

    def actor(self, user: discord.abc.User) -> Actor:
        """The person with what Discord says of them. A member of our server brings their role ids, and
        whether they can work in a tickets channel (the default roster's agents); anyone else (a DM, a
        member of another server) brings only their id, and so is a stranger unless the roster names it."""
        name = getattr(user, "display_name", None) or user.name
        if not isinstance(user, discord.Member) or user.guild.id != self.guild_id:
            return Actor(str(user.id), name)
        groups = frozenset(str(role.id) for role in user.roles if not role.is_default())
        return Actor(str(user.id), name, groups=groups, in_tickets_channel=self.works_in_tickets_channel(user))

    def works_in_tickets_channel(self, member: discord.Member) -> bool:
        """Sees and writes in the default tickets channel or a team's (in a forum: writes in its posts).
        A channel not in the cache counts as closed to them: deny by default."""
        for channel_id in self.ticket_channels():
            channel = self.client.get_channel(channel_id)
            if isinstance(channel, discord.ForumChannel | discord.TextChannel) and can_work_in(channel, member):
                return True
        return False


def can_work_in(channel: discord.ForumChannel | discord.TextChannel, member: discord.Member) -> bool:
    """Discord's own resolution (roles, @everyone, overwrites, Administrator, owner, timeout)."""
    allowed = channel.permissions_for(member)
    writes = allowed.send_messages_in_threads if isinstance(channel, discord.ForumChannel) else allowed.send_messages
    return allowed.view_channel and writes


def mentioned(message: discord.Message, *, exclude: set[int]) -> list[discord.abc.User]:
    """People mentioned in a message, in order, once each (bots and `exclude` left out)."""
    seen: dict[int, discord.abc.User] = {}
    for user in message.mentions:
        if user.id not in exclude and not user.bot and user.id not in seen:
            seen[user.id] = user
    return list(seen.values())
