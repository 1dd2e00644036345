"""Discord as the chat layer sees it (`bot.chat.surface.ChatSurface`): tickets' threads, customers' DMs, notices.

Rendering and Discord's rules only; what to post and when is decided in `bot.chat` (`ThreadSync`,
`DmRelay`, `NoticeDelivery`). In a forum channel each ticket is a post (a thread whose starter
message is the ticket's embed) with tags kept in step with status and priority; in a text channel
it is a message with a thread started from it. Either way the thread's id is the starter's id: the
ticket's root, and what `link` gives (renderings show it as `<#id>`).

Every post carries a nonce made from its key (`posting`), and a post that may have landed before
(`maybe_posted`: a retry, a crash between the post and its record) is looked for first: a root by
the ticket number it shows, a message or notice by its words in the place's recent history.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import discord

from bot.adapters.discord import embeds
from bot.adapters.discord.controls import TicketControls
from bot.adapters.discord.embeds import Post
from bot.adapters.discord.notices import mention_of, notice_text, notice_title, same_notice
from bot.adapters.discord.parts import PLATFORM, DiscordParts
from bot.adapters.discord.posting import Posting
from bot.adapters.discord.refusals import refusal
from bot.chat.surface import Hop, MoveNote, Place, Scope, Undeliverable
from bot.domain.chat_contacts import dm_platform
from bot.handlers import threads
from bot.handlers.snapshots import MessageView, TicketView

log = logging.getLogger(__name__)

THREAD_EXISTS = 160004  # Discord: "A thread has already been created for this message"
ARCHIVED = 50083  # Discord: "Thread is archived" (an edit in it, or of its tags; sending a message unarchives)
# Discord's JSON error codes that no retry can fix (https://discord.com/developers/docs/topics/opcodes-and-status-codes):
# Unknown Channel, Unknown Message, Missing Access, Cannot send messages to this user, Missing Permissions.
GONE = frozenset({10003, 10008, 50001, 50007, 50013})


class NotATicketsChannel(RuntimeError):
    """A configured tickets channel is neither a forum nor a text channel."""


def permanent(exc: discord.HTTPException) -> bool:
    """Discord refused for good: a known code, or any 4xx but 429 (a 5xx or a 429 may pass: retry)."""
    return exc.code in GONE or (400 <= exc.status < 500 and exc.status != 429)


class _Surface:
    platform: str

    def __init__(self, parts: DiscordParts) -> None:
        self.parts = parts
        self.posting = Posting(parts.client, self.platform)

    def link(self, channel: str, root: str) -> str:
        """A thread's id is its root's: `<#id>` in any message links to it."""
        return root

    def _in(self, channel_id: str | int) -> discord.PartialMessageable:
        return self.parts.client.get_partial_messageable(int(channel_id))

    def refused(self, exc: Exception) -> Undeliverable | None:
        """Discord's refusals for good, in words agents can act on (`refusals.REFUSALS`)."""
        if isinstance(exc, NotATicketsChannel):
            return Undeliverable(str(exc), "make it a forum or a text channel", code="not_a_tickets_channel",
                                 scope=Scope.CHANNEL)
        return refusal(exc)


class DiscordSurface(_Surface):
    platform = PLATFORM

    def __init__(self, parts: DiscordParts) -> None:
        super().__init__(parts)
        self.default_channel = str(parts.channel_id)
        self._tags: dict[int, dict[str, discord.ForumTag]] = {}  # forum id -> its tags by name

    # ---- the channels ---------------------------------------------------------------

    async def channel(self, cid: int) -> discord.ForumChannel | discord.TextChannel:
        """A tickets channel (the default one or a team's), from the cache or Discord."""
        client = self.parts.client
        found = client.get_channel(cid) or await client.fetch_channel(cid)
        if not isinstance(found, discord.ForumChannel | discord.TextChannel):
            raise NotATicketsChannel(f"Discord channel {cid} (TIKETTI_DISCORD_CHANNEL or a team's discord_channel) "
                                     "is neither a forum nor a text channel")
        return found

    async def prepare(self) -> None:
        """In every forum among the tickets channels, make sure there is a tag for every status and
        priority (needs Manage Channels). Each forum has tags of its own, with ids of its own."""
        for cid in self.parts.ticket_channels():
            forum = await self.channel(cid)
            if isinstance(forum, discord.ForumChannel):
                forum = await self._add_tags(forum)
                self._tags[forum.id] = {t.name: t for t in forum.available_tags}

    async def _add_tags(self, forum: discord.ForumChannel) -> discord.ForumChannel:
        """Each missing tag in a PATCH of its own: Discord refuses a PATCH whole, so one tag it will not
        take (a name too long, the forum's 20 used up, no Manage Channels) is logged and skipped, and
        the others are still made. A post whose tag is missing is shown without it."""
        for name in embeds.forum_tag_names():
            have = list(forum.available_tags)
            if any(t.name == name for t in have):
                continue
            if len(have) >= embeds.FORUM_TAGS:
                log.warning("discord: forum %s has 20 tags already: no room for tag %r", forum.id, name)
                continue
            try:
                forum = await forum.edit(available_tags=[*have, discord.ForumTag(name=name)])
            except discord.HTTPException as exc:
                log.warning("discord: could not add tag %r to forum %s (%s %s); its tickets are shown without it",
                            name, forum.id, exc.status, exc.text)
        return forum

    def tags_for(self, forum_id: int, ticket: TicketView) -> list[discord.ForumTag]:
        tags = self._tags.get(forum_id, {})
        return [tags[n] for n in embeds.tags_for(ticket) if n in tags]

    # ---- a ticket's thread ------------------------------------------------------------

    async def post_root(self, channel: str, ticket: TicketView, *, key: str, maybe_posted: bool,
                        replaces: str | None = None) -> str:
        where = await self.channel(int(channel))
        found = await self._find_root(where, ticket, int(replaces) if replaces else 0) if maybe_posted else None
        if found is not None:
            return str(found)
        embed, controls = embeds.ticket_embed(ticket, self.parts.ctx.clock()), TicketControls(self.parts, ticket)
        if isinstance(where, discord.ForumChannel):  # a forum post carries no nonce: `_find_root` is all there is
            made = await where.create_thread(name=embeds.thread_name(ticket), embed=embed, view=controls,
                                             applied_tags=self.tags_for(where.id, ticket))
            return str(made.thread.id)
        starter = await where.send(embed=embed, view=controls, nonce=self.posting.nonce(key))
        await self._start_thread(starter, ticket)
        return str(starter.id)

    async def update_root(self, channel: str, root: str, ticket: TicketView, *, moved: MoveNote | None = None) -> None:
        """Show the ticket again on its starter (and in a forum its tags); a starter left behind by a move
        says where the ticket went and loses its controls. A forum post Discord archived (idle for a
        day) refuses edits with 50083 until it is unarchived: then it is, and the edit made again."""
        where = await self.channel(int(channel))
        forum = isinstance(where, discord.ForumChannel)
        try:
            await self._show_again(where, root, ticket, moved)
        except discord.HTTPException as exc:
            if not forum or exc.code != ARCHIVED:
                raise
            log.info("discord: ticket #%s's post %s is archived: unarchiving it to update its card", ticket.number, root)
            await self.parts.client.http.edit_channel(int(root), archived=False)
            await self._show_again(where, root, ticket, moved)

    async def _show_again(self, where: discord.ForumChannel | discord.TextChannel, root: str, ticket: TicketView,
                          moved: MoveNote | None) -> None:
        forum = isinstance(where, discord.ForumChannel)
        holder = self._in(root if forum else where.id)
        went = None if moved is None else f"to {moved.team}" + (f": continue in <#{moved.link}>" if moved.link else "")
        controls = None if moved else TicketControls(self.parts, ticket)
        await holder.get_partial_message(int(root)).edit(
            embed=embeds.ticket_embed(ticket, self.parts.ctx.clock(), moved=went), view=controls)
        if forum and self._tags.get(where.id) and moved is None:
            tags = [str(tag.id) for tag in self.tags_for(where.id, ticket)]
            await self.parts.client.http.edit_channel(int(root), applied_tags=tags)

    async def post_message(self, channel: str, root: str, message: MessageView, *, key: str,
                           maybe_posted: bool) -> str:
        after = await threads.last_seen(self.parts.ctx, self.platform, message.ticket_number) if maybe_posted else 0
        return str(await self.posting.send(self._in(root), embeds.thread_posts(message), key=key,
                                           maybe_posted=maybe_posted, after=after))

    async def post_history(self, channel: str, root: str, others: Sequence[TicketView], links: Mapping[int, str], *,
                           key: str, maybe_posted: bool) -> str:
        """First in a new thread; an earlier attempt's is known by its heading (the statuses it lists may
        have changed since)."""
        text = embeds.customer_history(others, dict(links))
        return str(await self.posting.send(self._in(root), [Post(text)], key=key, maybe_posted=maybe_posted,
                                           same=_same_heading))

    async def post_move(self, channel: str, root: str, note: MoveNote, *, key: str) -> str:
        """Asked again only when an earlier attempt did not record the move's link: always looked for."""
        if note.hop is Hop.ARRIVED:
            text = f"↩️ Moved here from an earlier thread: <#{note.link}>"
        elif note.hop is Hop.DEPARTED:
            text = f"➡️ Moved to {note.team}: continue in <#{note.link}>"
        else:
            text = f"➡️ Moved to {note.team}: this thread is no longer updated."
        return str(await self.posting.send(self._in(root), [Post(embeds.cut(text, embeds.MESSAGE_CHARS))], key=key,
                                           maybe_posted=True))

    async def _start_thread(self, starter: discord.Message, ticket: TicketView) -> None:
        try:
            await starter.create_thread(name=embeds.thread_name(ticket))
        except discord.HTTPException as exc:
            if exc.code != THREAD_EXISTS:
                raise

    async def _find_root(self, channel: discord.ForumChannel | discord.TextChannel, ticket: TicketView,
                         after: int) -> int | None:
        """An earlier attempt's root, if it reached Discord (found by the ticket number it shows).

        Only roots newer than `after` (the thread a move left behind; ids grow with time) count: an
        older one of this ticket in this channel was left by an earlier move away."""
        me = self.parts.client.user
        title = f"#{ticket.number} "
        if isinstance(channel, discord.ForumChannel):
            for thread in await channel.guild.active_threads():
                if thread.parent_id == channel.id and thread.owner_id == (me.id if me else None) \
                        and thread.name.startswith(title) and thread.id > after:
                    return thread.id
            return None
        async for message in channel.history(limit=100):
            if message.author == me and message.embeds and (message.embeds[0].title or "").startswith(title) \
                    and message.id > after:
                await self._start_thread(message, ticket)
                return message.id
        return None

    # ---- notices ----------------------------------------------------------------------

    async def post_notice(self, place: Place, notice: object, *, key: str, maybe_posted: bool) -> str:
        try:
            return await self._post_notice(place, notice, key, maybe_posted)
        except discord.HTTPException as exc:
            if permanent(exc):
                raise Undeliverable(f"Discord refused it ({exc.status}, code {exc.code}: {exc.text})") from exc
            raise
        except NotATicketsChannel as exc:
            raise Undeliverable(str(exc)) from exc

    async def _post_notice(self, place: Place, notice: object, key: str, maybe_posted: bool) -> str:
        """In a thread as it is; at a channel's top level, a forum takes a post, not a message: there the
        notice goes into the ticket's post when it links one, else becomes a post of its own."""
        now, mention = self.parts.ctx.clock(), mention_of(place.mention)
        mentions = discord.AllowedMentions(users=[discord.Object(int(place.mention or 0))]) if mention \
            else discord.AllowedMentions.none()  # only the person it is for: never whoever mail text names
        inside = place.root or None
        if inside is None:
            home = await self.channel(int(place.channel))
            if isinstance(home, discord.ForumChannel):
                if not place.link:
                    return await self._notice_post(home, notice, notice_text(notice, mention, now), key=key,
                                                   maybe_posted=maybe_posted, mentions=mentions)
                inside = place.link  # the ticket's post is where its team reads it in a forum
            else:
                text = notice_text(notice, mention, now, link=f"<#{place.link}>" if place.link else None)
                return str(await self.posting.send(home, [Post(text)], key=key, maybe_posted=maybe_posted,
                                                   same=same_notice, mentions=mentions))
        return str(await self.posting.send(self._in(inside), [Post(notice_text(notice, mention, now))], key=key,
                                           maybe_posted=maybe_posted, same=same_notice, mentions=mentions))

    async def _notice_post(self, forum: discord.ForumChannel, notice: object, text: str, *, key: str,
                           maybe_posted: bool, mentions: discord.AllowedMentions) -> str:
        """A forum post of its own (no nonce: a forum post takes none); an earlier attempt's is found by
        its title and words."""
        title = notice_title(notice)
        if maybe_posted and (found := await self._find_post(forum, title, text, key)) is not None:
            return str(found)
        made = await forum.create_thread(name=title, content=text, allowed_mentions=mentions)
        self.posting.remember(made.thread.id, key)
        return str(made.thread.id)

    async def _find_post(self, forum: discord.ForumChannel, title: str, text: str, key: str) -> int | None:
        me = self.parts.client.user
        for thread in await forum.guild.active_threads():
            if thread.parent_id != forum.id or me is None or thread.owner_id != me.id or thread.name != title:
                continue
            starter = [m async for m in thread.history(limit=1, oldest_first=True)]
            if starter and self.posting.pick(starter, key, text, same_notice):
                return thread.id
        return None


class DiscordDmSurface(_Surface):
    """A customer's DM with the bot, as `bot.chat.dm_relay.DmRelay` syncs it: the acknowledgement is the
    root, and only replies are posted (the relay passes nothing else)."""

    platform = dm_platform(PLATFORM)
    default_channel = ""  # each DM thread's row names its DM channel

    async def post_root(self, channel: str, ticket: TicketView, *, key: str, maybe_posted: bool,
                        replaces: str | None = None) -> str:
        return str(await self.posting.send(self._in(channel), [Post(embeds.dm_ack(ticket))], key=key,
                                           maybe_posted=maybe_posted))

    async def update_root(self, channel: str, root: str, ticket: TicketView, *, moved: MoveNote | None = None) -> None:
        """An acknowledgement is never edited (the relay does not ask)."""

    async def post_message(self, channel: str, root: str, message: MessageView, *, key: str,
                           maybe_posted: bool) -> str:
        after = await threads.last_seen(self.parts.ctx, self.platform, message.ticket_number) if maybe_posted else 0
        return str(await self.posting.send(self._in(channel), embeds.dm_posts(message), key=key,
                                           maybe_posted=maybe_posted, after=after))

    async def post_history(self, channel: str, root: str, others: Sequence[TicketView], links: Mapping[int, str], *,
                           key: str, maybe_posted: bool) -> str:
        raise NotImplementedError("a customer is never shown their other tickets' history")

    async def post_move(self, channel: str, root: str, note: MoveNote, *, key: str) -> str:
        raise NotImplementedError("a customer's DM does not move with the ticket's team")

    async def post_notice(self, place: Place, notice: object, *, key: str, maybe_posted: bool) -> str:
        raise Undeliverable("notices are for agents, never a customer's DM")


def _same_heading(shown: str, wanted: str) -> bool:
    return shown.strip().split("\n", 1)[0] == wanted.strip().split("\n", 1)[0]
