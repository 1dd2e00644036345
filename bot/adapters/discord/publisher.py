"""Shows committed tickets in the Discord tickets channel: one thread per ticket, posted once.

In a forum channel each ticket is a post (a thread whose starter message is the
ticket's embed) with tags kept in step with status and priority; in a text
channel it is a message with a thread started from it. Either way the thread's
id is the starter's id, recorded as the ticket's root. What to post comes from
the store (`bot.handlers.threads`), under its lease, so a root is posted once
across workers, instances and restarts; when an earlier attempt may have landed
(`post_attempts` > 1) the channel is searched before posting again, and text
channel posts carry a nonce Discord itself deduplicates.
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
from bot.adapters.sync_queue import SyncQueue
from bot.handlers import events, threads
from bot.handlers.threads import ThreadWork
from bot.handlers.views import TicketView

log = logging.getLogger(__name__)

THREAD_EXISTS = 160004  # Discord: "A thread has already been created for this message"


class ThreadPublisher:
    def __init__(self, parts: DiscordParts) -> None:
        self.parts = parts
        self.owner = f"discord-{uuid.uuid4().hex[:12]}"
        self.queue = SyncQueue("discord-publisher", self.sync, lambda: threads.tickets_to_sync(parts.ctx, PLATFORM))
        self._tags: dict[str, discord.ForumTag] = {}

    def subscribe(self) -> None:
        bus = self.parts.ctx.bus
        for event_type in (events.TicketOpened, events.TicketChanged, events.MessageAdded):
            bus.subscribe(event_type, self._on_ticket_event)
        bus.subscribe(events.MailDeliveryFailed, self._on_delivery_failed)
        bus.subscribe(events.MailQuarantined, self._on_quarantined)
        bus.subscribe(events.TaskDue, self._on_task_due)
        bus.subscribe(events.SlaWarning, self._on_sla)
        bus.subscribe(events.SlaBreached, self._on_sla)

    async def _on_ticket_event(self, event: events.TicketOpened | events.TicketChanged | events.MessageAdded) -> None:
        self.queue.mark(event.ticket.number)

    async def _on_delivery_failed(self, event: events.MailDeliveryFailed) -> None:
        if event.ticket is None:
            return
        ref = await threads.thread_of(self.parts.ctx, PLATFORM, event.ticket.number)
        if ref is not None:
            text = views.cut(f"⚠️ Mail to {event.to_addr} could not be delivered: {event.error}", views.MESSAGE_CHARS)
            await self.parts.client.get_partial_messageable(int(ref.root_ref)).send(text)
        self.queue.mark(event.ticket.number)

    async def _on_quarantined(self, event: events.MailQuarantined) -> None:
        """Agents learn of mail that did not become a ticket where they work: the tickets channel."""
        text = views.quarantine_notice(event)
        channel = await self.channel()
        if isinstance(channel, discord.ForumChannel):  # a forum takes posts, not messages
            await channel.create_thread(name=views.cut(f"Mail quarantined as #{event.quarantine_id}", 100), content=text)
        else:
            await channel.send(text)

    async def _on_sla(self, event: events.SlaWarning | events.SlaBreached) -> None:
        ref = await threads.thread_of(self.parts.ctx, PLATFORM, event.ticket.number)
        if ref is None:
            return
        who = f"<@{event.assignee_chat_id}> " if event.assignee_chat_id and event.assignee_chat_id.isdigit() else ""
        await self.parts.client.get_partial_messageable(int(ref.root_ref)).send(
            views.sla_notice(event, who, self.parts.ctx.clock()),
            allowed_mentions=discord.AllowedMentions(users=True, everyone=False, roles=False))
        self.queue.mark(event.ticket.number)  # the embed shows the new state

    async def _on_task_due(self, event: events.TaskDue) -> None:
        ref = await threads.thread_of(self.parts.ctx, PLATFORM, event.ticket.number)
        if ref is None:
            return
        who = f"<@{event.assignee_chat_id}> " if event.assignee_chat_id and event.assignee_chat_id.isdigit() else ""
        text = views.cut(f"⏰ {who}task due on #{event.ticket.number}: {event.text} (`/ticket done {event.task_id}`)",
                         views.MESSAGE_CHARS)
        await self.parts.client.get_partial_messageable(int(ref.root_ref)).send(
            text, allowed_mentions=discord.AllowedMentions(users=True, everyone=False, roles=False))

    # ---- the channel ---------------------------------------------------------------

    async def channel(self) -> discord.abc.GuildChannel:
        client, cid = self.parts.client, self.parts.channel_id
        found = client.get_channel(cid) or await client.fetch_channel(cid)
        if not isinstance(found, discord.ForumChannel | discord.TextChannel):
            raise RuntimeError(f"TIKETTI_DISCORD_CHANNEL {cid} is neither a forum nor a text channel")
        return found

    async def prepare(self) -> None:
        """In a forum, make sure there is a tag for every status and priority (needs Manage Channels)."""
        forum = await self.channel()
        if not isinstance(forum, discord.ForumChannel):
            return
        have = {t.name: t for t in forum.available_tags}
        missing = [n for n in views.forum_tag_names() if n not in have]
        if missing and len(have) + len(missing) <= 20:
            try:
                forum = await forum.edit(available_tags=[*have.values(), *(discord.ForumTag(name=n) for n in missing)])
            except discord.HTTPException as exc:
                log.warning("discord: could not add forum tags (%s); tickets are shown without them", exc.text)
        self._tags = {t.name: t for t in forum.available_tags}

    def tags_for(self, ticket: TicketView) -> list[discord.ForumTag]:
        return [self._tags[n] for n in views.tags_for(ticket) if n in self._tags]

    # ---- one ticket ---------------------------------------------------------------

    async def sync(self, number: int) -> bool:
        owner = f"{self.owner}-{uuid.uuid4().hex[:8]}"
        ctx = self.parts.ctx
        work = await threads.begin_sync(ctx, PLATFORM, number, str(self.parts.channel_id), owner)
        if work is None:
            return False
        try:
            root = work.root_ref or await self._post_root(work)
            await self._post_messages(work, root)
            if work.root_ref and work.root_stale:
                await self._render(work, root)
                await threads.root_rendered(ctx, PLATFORM, number, work.ticket.updated_at)
            return True
        finally:
            await threads.end_sync(ctx, PLATFORM, number, owner)

    async def _post_root(self, work: ThreadWork) -> str:
        channel = await self.channel()
        t = work.ticket
        thread_id = await self._find_root(channel, t) if work.post_attempts > 1 else None
        if thread_id is None and isinstance(channel, discord.ForumChannel):
            made = await channel.create_thread(name=views.thread_name(t), embed=views.ticket_embed(t, self.parts.ctx.clock()),
                                               view=TicketControls(self.parts), applied_tags=self.tags_for(t))
            thread_id = made.thread.id
        elif thread_id is None:
            assert isinstance(channel, discord.TextChannel)
            starter = await channel.send(embed=views.ticket_embed(t, self.parts.ctx.clock()), view=TicketControls(self.parts),
                                         nonce=f"tiketti-t{t.number}")
            await self._start_thread(starter, t)
            thread_id = starter.id
        await threads.root_posted(self.parts.ctx, PLATFORM, t.number, str(thread_id), t.updated_at)
        return str(thread_id)

    async def _start_thread(self, starter: discord.Message, t: TicketView) -> None:
        try:
            await starter.create_thread(name=views.thread_name(t))
        except discord.HTTPException as exc:
            if exc.code != THREAD_EXISTS:
                raise

    async def _find_root(self, channel: discord.abc.GuildChannel, t: TicketView) -> int | None:
        """An earlier attempt's root, if it reached Discord (found by the ticket number it shows)."""
        me = self.parts.client.user
        title = f"#{t.number} "
        if isinstance(channel, discord.ForumChannel):
            for thread in await channel.guild.active_threads():
                if thread.parent_id == channel.id and thread.owner_id == (me.id if me else None) \
                        and thread.name.startswith(title):
                    return thread.id
            return None
        assert isinstance(channel, discord.TextChannel)
        async for message in channel.history(limit=100):
            if message.author == me and message.embeds and (message.embeds[0].title or "").startswith(title):
                await self._start_thread(message, t)
                return message.id
        return None

    async def _post_messages(self, work: ThreadWork, root: str) -> None:
        thread = self.parts.client.get_partial_messageable(int(root))
        for message in work.unposted:
            first = await send_posts(thread, views.thread_posts(message), nonce=f"tiketti-m{message.id}")
            await threads.message_posted(self.parts.ctx, PLATFORM, work.ticket.number, message.id, str(first))

    async def _render(self, work: ThreadWork, root: str) -> None:
        """Edit the starter in place, and in a forum bring the post's tags up to date."""
        channel = await self.channel()
        forum = isinstance(channel, discord.ForumChannel)
        holder = self.parts.client.get_partial_messageable(int(root) if forum else channel.id)
        await holder.get_partial_message(int(root)).edit(embed=views.ticket_embed(work.ticket, self.parts.ctx.clock()),
                                                         view=TicketControls(self.parts))
        if forum and self._tags:
            tags = [str(tag.id) for tag in self.tags_for(work.ticket)]
            await self.parts.client.http.edit_channel(int(root), applied_tags=tags)


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
