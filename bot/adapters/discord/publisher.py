"""Shows committed tickets in the Discord tickets channels: one thread per ticket, posted once.

In a forum channel each ticket is a post (a thread whose starter message is the
ticket's embed) with tags kept in step with status and priority; in a text
channel it is a message with a thread started from it. Either way the thread's
id is the starter's id, recorded as the ticket's root. What to post comes from
the store (`bot.handlers.threads`), under its lease, so a root is posted once
across workers, instances and restarts; when an earlier attempt may have landed
(`post_attempts` > 1) the channel is searched before posting again, and text
channel posts carry a nonce Discord itself deduplicates.

A ticket's thread is in its team's channel (`discord_channel`) or the default one
(TIKETTI_DISCORD_CHANNEL); a team working only in Slack has no threads here
(`bot.handlers.placement`). A ticket that changes teams gets a new thread where
its new team works, linked both ways with the old one.
"""

from __future__ import annotations

import io
import logging
import uuid

import discord

from bot.adapters.discord import views
from bot.adapters.discord.controls import TicketControls
from bot.adapters.discord.parts import PLATFORM, DiscordParts
from bot.adapters.discord.views import Post
from bot.chat.sync_queue import SyncQueue
from bot.handlers import events, threads
from bot.handlers.snapshots import TicketView
from bot.handlers.threads import ThreadWork

log = logging.getLogger(__name__)

THREAD_EXISTS = 160004  # Discord: "A thread has already been created for this message"


class ThreadPublisher:
    def __init__(self, parts: DiscordParts) -> None:
        self.parts = parts
        self.owner = f"discord-{uuid.uuid4().hex[:12]}"
        self.queue = SyncQueue("discord-publisher", self.sync, lambda: threads.tickets_to_sync(parts.ctx, PLATFORM))
        self._tags: dict[int, dict[str, discord.ForumTag]] = {}  # forum id -> its tags by name

    def subscribe(self) -> None:
        bus = self.parts.ctx.bus
        for event_type in (events.TicketOpened, events.TicketChanged, events.MessageAdded):
            bus.subscribe(event_type, self._on_ticket_event)
        bus.subscribe(events.TicketMoved, self._on_moved)

    async def _on_ticket_event(self, event: events.TicketOpened | events.TicketChanged | events.MessageAdded) -> None:
        self.queue.mark(event.ticket.number)

    async def _on_moved(self, event: events.TicketMoved) -> None:
        """The sync moves the thread and links the old and new ones (`_link_move`), or says it left (`_leave`)."""
        self.queue.mark(event.number)

    # ---- the channels ---------------------------------------------------------------

    async def channel(self, cid: int) -> discord.ForumChannel | discord.TextChannel:
        """A tickets channel (the default one or a team's), from the cache or Discord."""
        client = self.parts.client
        found = client.get_channel(cid) or await client.fetch_channel(cid)
        if not isinstance(found, discord.ForumChannel | discord.TextChannel):
            raise RuntimeError(f"Discord channel {cid} (TIKETTI_DISCORD_CHANNEL or a team's discord_channel) "
                               "is neither a forum nor a text channel")
        return found

    async def prepare(self) -> None:
        """In every forum among the tickets channels, make sure there is a tag for every status and
        priority (needs Manage Channels). Each forum has tags of its own, with ids of its own."""
        for cid in self.parts.ticket_channels():
            forum = await self.channel(cid)
            if not isinstance(forum, discord.ForumChannel):
                continue
            have = {t.name: t for t in forum.available_tags}
            missing = [n for n in views.forum_tag_names() if n not in have]
            if missing and len(have) + len(missing) <= 20:
                try:
                    forum = await forum.edit(available_tags=[*have.values(),
                                                             *(discord.ForumTag(name=n) for n in missing)])
                except discord.HTTPException as exc:
                    log.warning("discord: could not add forum tags to %s (%s); its tickets are shown without them",
                                cid, exc.text)
            self._tags[forum.id] = {t.name: t for t in forum.available_tags}

    def tags_for(self, forum_id: int, ticket: TicketView) -> list[discord.ForumTag]:
        tags = self._tags.get(forum_id, {})
        return [tags[n] for n in views.tags_for(ticket) if n in tags]

    # ---- one ticket ---------------------------------------------------------------

    async def sync(self, number: int) -> bool:
        owner = f"{self.owner}-{uuid.uuid4().hex[:8]}"
        ctx = self.parts.ctx
        work = await threads.begin_sync(ctx, PLATFORM, number, str(self.parts.channel_id), owner)
        if work is None:
            return False
        try:
            if work.moving and work.home is None:  # moved to a team that works on another platform
                await self._leave(work)
                return True
            if work.moving:  # moved to another team: a new thread in its channel
                await threads.move_thread(ctx, PLATFORM, number, work.home)
                work = await threads.begin_sync(ctx, PLATFORM, number, str(self.parts.channel_id), owner)
                assert work is not None  # the lease is ours
            root = work.root_ref or await self._post_root(work)
            await self._link_move(work, root)
            await self._post_messages(work, root)
            if work.root_ref and work.root_stale:
                await self._render(work, root)
                await threads.root_rendered(ctx, PLATFORM, number, work.ticket.updated_at)
            return True
        finally:
            await threads.end_sync(ctx, PLATFORM, number, owner)

    async def _post_root(self, work: ThreadWork) -> str:
        channel = await self.channel(int(work.channel))
        t = work.ticket
        # Discord keeps a nonce for minutes, whatever the channel: a thread replacing a moved one needs its own.
        nonce = f"tiketti-t{t.number}" + (f"-{work.moved_from.root_ref[-8:]}" if work.moved_from else "")
        after = int(work.moved_from.root_ref) if work.moved_from else 0
        thread_id = await self._find_root(channel, t, after) if work.post_attempts > 1 else None
        embed, controls = views.ticket_embed(t, self.parts.ctx.clock()), TicketControls(self.parts, t)
        if thread_id is None and isinstance(channel, discord.ForumChannel):
            made = await channel.create_thread(name=views.thread_name(t), embed=embed, view=controls,
                                               applied_tags=self.tags_for(channel.id, t))
            thread_id = made.thread.id
        elif thread_id is None:
            assert isinstance(channel, discord.TextChannel)
            starter = await channel.send(embed=embed, view=controls, nonce=nonce[:25])
            await self._start_thread(starter, t)
            thread_id = starter.id
        await self._post_history(work, str(thread_id))
        await threads.root_posted(self.parts.ctx, PLATFORM, t.number, str(thread_id), t.updated_at)
        return str(thread_id)

    async def _post_history(self, work: ThreadWork, root: str) -> None:
        """The customer's other recent tickets, first in the thread: whether they wrote or were answered before.

        Sent before the root is recorded: a retry finds the root again and sends this again, which the
        nonce turns into one message."""
        if not work.other_tickets:
            return
        links = {}
        for other in work.other_tickets:
            ref = await threads.thread_of(self.parts.ctx, PLATFORM, other.number)
            if ref:
                links[other.number] = ref.root_ref
        await self.parts.client.get_partial_messageable(int(root)).send(
            views.customer_history(work.other_tickets, links), nonce=f"tiketti-h{work.ticket.number}"[:25],
            allowed_mentions=discord.AllowedMentions.none())

    async def _link_move(self, work: ThreadWork, root: str) -> None:
        """After a move: the new thread points back, the old thread and starter point forward."""
        old = work.moved_from
        if old is None:
            return
        n, team = work.ticket.number, work.ticket.team or "another team"
        client, tail = self.parts.client, old.root_ref[-8:]
        await client.get_partial_messageable(int(root)).send(
            f"↩️ Moved here from an earlier thread: <#{old.root_ref}>", nonce=f"tiketti-i{n}-{tail}"[:25])
        await client.get_partial_messageable(int(old.root_ref)).send(
            f"➡️ Moved to {team}: continue in <#{root}>", nonce=f"tiketti-o{n}-{tail}"[:25])
        await self._edit_starter(old.channel, old.root_ref, work.ticket, moved=f"to {team}: continue in <#{root}>")
        await threads.move_linked(self.parts.ctx, PLATFORM, n)

    async def _leave(self, work: ThreadWork) -> None:
        """The ticket's team works on another platform now: the thread says so, then is no longer updated.

        Said before the row forgets the thread, so a crash in between says it again (the nonce keeps it once)."""
        assert work.root_ref is not None
        n = work.ticket.number
        where = " and ".join(p.capitalize() for p in work.shown_on) or "another platform"
        team = f"{work.ticket.team or 'another team'} (in {where})"
        await self.parts.client.get_partial_messageable(int(work.root_ref)).send(
            f"➡️ Moved to {team}: this thread is no longer updated.", nonce=f"tiketti-l{n}-{work.root_ref[-8:]}"[:25])
        await self._edit_starter(work.channel, work.root_ref, work.ticket, moved=f"to {team}")
        await threads.move_thread(self.parts.ctx, PLATFORM, n, None)

    async def _edit_starter(self, channel_id: str, root: str, t: TicketView, *, moved: str | None = None) -> None:
        """Show the ticket again on its starter; a starter left behind by a move loses its buttons."""
        channel = await self.channel(int(channel_id))
        forum = isinstance(channel, discord.ForumChannel)
        holder = self.parts.client.get_partial_messageable(int(root) if forum else channel.id)
        controls = None if moved else TicketControls(self.parts, t)
        await holder.get_partial_message(int(root)).edit(embed=views.ticket_embed(t, self.parts.ctx.clock(), moved=moved),
                                                         view=controls)
        if forum and self._tags.get(channel.id) and moved is None:
            tags = [str(tag.id) for tag in self.tags_for(channel.id, t)]
            await self.parts.client.http.edit_channel(int(root), applied_tags=tags)

    async def _start_thread(self, starter: discord.Message, t: TicketView) -> None:
        try:
            await starter.create_thread(name=views.thread_name(t))
        except discord.HTTPException as exc:
            if exc.code != THREAD_EXISTS:
                raise

    async def _find_root(self, channel: discord.abc.GuildChannel, t: TicketView, after: int) -> int | None:
        """An earlier attempt's root, if it reached Discord (found by the ticket number it shows).

        Only roots newer than `after` (the thread a move left behind; ids grow with time) count: an
        older one of this ticket in this channel was left by an earlier move away."""
        me = self.parts.client.user
        title = f"#{t.number} "
        if isinstance(channel, discord.ForumChannel):
            for thread in await channel.guild.active_threads():
                if thread.parent_id == channel.id and thread.owner_id == (me.id if me else None) \
                        and thread.name.startswith(title) and thread.id > after:
                    return thread.id
            return None
        assert isinstance(channel, discord.TextChannel)
        async for message in channel.history(limit=100):
            if message.author == me and message.embeds and (message.embeds[0].title or "").startswith(title) \
                    and message.id > after:
                await self._start_thread(message, t)
                return message.id
        return None

    async def _post_messages(self, work: ThreadWork, root: str) -> None:
        thread = self.parts.client.get_partial_messageable(int(root))
        for message in work.unposted:  # per thread: a moved ticket's messages are posted again in the new one
            first = await send_posts(thread, views.thread_posts(message), nonce=f"tk-m{message.id}-{root[-4:]}")
            await threads.message_posted(self.parts.ctx, PLATFORM, work.ticket.number, message.id, str(first))

    async def _render(self, work: ThreadWork, root: str) -> None:
        """Edit the starter in place, and in a forum bring the post's tags up to date."""
        await self._edit_starter(work.channel, root, work.ticket)


async def send_posts(target: discord.abc.Messageable, posts: list[Post], *, nonce: str) -> int:
    """Send one ticket message as its posts; the id of the first. Nonces let Discord drop a repeated send."""
    first = 0
    for i, post in enumerate(posts):
        file = discord.File(io.BytesIO(post.file_text.encode("utf-8")), filename=post.file_name) \
            if post.file_name and post.file_text is not None else None
        kwargs = {"file": file} if file else {}
        sent = await target.send(post.content, nonce=f"{nonce}-{i}"[:25],
                                 allowed_mentions=discord.AllowedMentions.none(), **kwargs)  # type: ignore[arg-type]
        first = first or sent.id
    return first
