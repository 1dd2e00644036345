"""Keeping a chat platform's view of tickets in step with the store, whatever the platform.

A chat adapter shows committed state: it asks here what a ticket's thread is
missing (the root, messages not yet shown, a root older than the ticket) and
records what it posted. Because the thread row and its lease live in the same
database as the tickets, a root is posted once even with several workers, several
bot instances, retries and restarts; `post_attempts` tells the adapter when an
earlier try may have reached the platform, so it looks before posting again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.model import ChatPost
from bot.handlers import placement
from bot.handlers.context import Context, others_of_requester
from bot.handlers.snapshots import MessageView, TicketView, message_views, ticket_view

NOT_SHOWN = ""  # a thread row's channel while its ticket's team works on another platform


@dataclass(frozen=True)
class ThreadRef:
    channel: str
    root_ref: str


@dataclass(frozen=True)
class ThreadWork:
    """What one sync of one ticket has to do; the caller holds the lease until `end_sync`."""

    ticket: TicketView
    channel: str
    root_ref: str | None
    post_attempts: int  # including this one, when the root is still to be posted
    rendered_at: datetime | None
    unposted: tuple[MessageView, ...]  # oldest first
    recovering: bool = False  # the last holder died mid-sync: anything may have been posted already
    moved_from: ThreadRef | None = None  # the thread this one replaces (the ticket changed teams)
    other_tickets: tuple[TicketView, ...] = ()  # the requester's recent tickets, when the root is still to post
    home: str | None = None  # where the ticket belongs on this platform now; None: not shown here any more
    shown_on: tuple[str, ...] = ()  # the platforms in use that show the ticket's team (for "moved to…" notices)

    @property
    def root_stale(self) -> bool:
        return self.rendered_at is None or self.rendered_at < self.ticket.updated_at

    @property
    def moving(self) -> bool:
        """The thread is posted, but the ticket now belongs elsewhere: another channel, or another platform."""
        return self.root_ref is not None and self.channel != self.home


async def begin_sync(ctx: Context, platform: str, number: int, channel: str, owner: str,
                     lease: timedelta = timedelta(minutes=2)) -> ThreadWork | None:
    """Lease the ticket's thread and say what it lacks; None if someone else holds it (or no such ticket),
    or if the ticket is not shown on `platform` and has no thread there to take down.

    `channel` is the platform's default tickets channel; where the ticket belongs (`ThreadWork.home`)
    follows `bot.handlers.placement`. A root not posted yet goes there; a thread whose root is posted
    keeps its channel until `move_thread` (the ticket changed teams).
    """
    async with ctx.uow() as uow:
        ticket = await uow.tickets.get(number)
        if ticket is None:
            return None
        now = ctx.clock()
        placed = platform in placement.TEAM_PLATFORMS  # a DM thread's row says where it goes
        home = placement.channel_for(ctx.config, ticket.team, platform, channel) if placed else channel
        if home is None:
            shown = await uow.chat_threads.get(platform, number)
            if shown is None or shown.root_ref is None:
                return None  # its team works on another platform, and nothing of it is here
        else:
            await uow.chat_threads.ensure(platform, number, home, now)
        before = await uow.chat_threads.get(platform, number)
        assert before is not None
        recovering = before.lease_owner not in (None, owner)  # acquired over a lease that ran out
        if not await uow.chat_threads.acquire(platform, number, owner, now, now + lease):
            await uow.commit()
            return None
        thread = await uow.chat_threads.get(platform, number)
        assert thread is not None
        if placed and home is not None and thread.root_ref is None and thread.channel != home:
            thread.channel = home  # nothing posted yet: straight to where the ticket belongs now
        if thread.root_ref is None:
            thread.post_attempts += 1
        posted = await uow.chat_posts.posted_message_ids(platform, number)
        prefix = f"{platform}:"
        todo = [m for m in await uow.messages.for_ticket(number)
                if m.id not in posted and not (m.chat_ref or "").startswith(prefix)]
        work = ThreadWork(
            ticket=await ticket_view(uow, ticket),
            channel=thread.channel,
            root_ref=thread.root_ref,
            post_attempts=thread.post_attempts,
            rendered_at=thread.rendered_at,
            unposted=await message_views(uow, number, todo),
            recovering=recovering,
            moved_from=ThreadRef(thread.moved_from_channel, thread.moved_from_root)
            if thread.moved_from_channel and thread.moved_from_root else None,
            other_tickets=tuple([await ticket_view(uow, t) for t in await others_of_requester(uow, ticket)])
            if thread.root_ref is None else (),
            home=home if placed else thread.channel,
            shown_on=placement.platforms_of(ctx.config, ticket.team),
        )
        await uow.commit()
        return work


async def move_thread(ctx: Context, platform: str, number: int, channel: str | None) -> None:
    """The ticket changed teams: its thread starts again in `channel`, remembering the old one to link.

    Called by the lease holder. Every message is shown again in the new thread, notes typed in the old
    one included (they lose their link to the old chat message: edits there no longer follow).
    `channel` None: the new team works on another platform; nothing is posted here until the ticket
    comes back, and then its new thread links to the old one.
    """
    async with ctx.uow() as uow:
        thread = await uow.chat_threads.get(platform, number)
        target = channel or NOT_SHOWN
        if thread is None or thread.channel == target:
            return
        if thread.root_ref is not None:
            thread.moved_from_channel, thread.moved_from_root = thread.channel, thread.root_ref
        thread.channel, thread.root_ref, thread.post_attempts, thread.rendered_at = target, None, 0, None
        await uow.chat_posts.forget_messages([m.id for m in await uow.messages.for_ticket(number) if m.id],
                                             platform=platform)
        await uow.messages.forget_chat_refs(number, f"{platform}:")
        await uow.commit()


async def move_linked(ctx: Context, platform: str, number: int) -> None:
    """Both threads of a move link to each other now: forget the old one."""
    async with ctx.uow() as uow:
        thread = await uow.chat_threads.get(platform, number)
        if thread is not None:
            thread.moved_from_channel = thread.moved_from_root = None
            await uow.commit()


async def root_posted(ctx: Context, platform: str, number: int, root_ref: str, rendered_at: datetime) -> None:
    async with ctx.uow() as uow:
        thread = await uow.chat_threads.get(platform, number)
        assert thread is not None
        thread.root_ref, thread.rendered_at = root_ref, rendered_at
        await uow.commit()


async def root_rendered(ctx: Context, platform: str, number: int, rendered_at: datetime) -> None:
    async with ctx.uow() as uow:
        thread = await uow.chat_threads.get(platform, number)
        if thread is not None and (thread.rendered_at is None or thread.rendered_at < rendered_at):
            thread.rendered_at = rendered_at
            await uow.commit()


async def message_posted(ctx: Context, platform: str, number: int, message_id: int, ref: str) -> None:
    async with ctx.uow() as uow:
        await uow.chat_posts.add(ChatPost(platform=platform, message_id=message_id, ticket_id=number, ref=ref))
        await uow.commit()


async def end_sync(ctx: Context, platform: str, number: int, owner: str, *, root_ref: str | None = None,
                   rendered_at: datetime | None = None, posted: Sequence[tuple[int, str]] = ()) -> None:
    """Record what this sync showed (root, rendering, (message id, ref) posts) and release the lease.

    One transaction for all of it: a crash before it leaves the lease to run out, and the next
    holder, `recovering`, looks on the platform before posting anything again.
    """
    async with ctx.uow() as uow:
        thread = await uow.chat_threads.get(platform, number)
        if thread is not None:
            if root_ref is not None:
                thread.root_ref = root_ref
            if rendered_at is not None and (thread.rendered_at is None or thread.rendered_at < rendered_at):
                thread.rendered_at = rendered_at
        for message_id, ref in posted:
            await uow.chat_posts.add(ChatPost(platform=platform, message_id=message_id, ticket_id=number, ref=ref))
        await uow.chat_threads.release(platform, number, owner)
        await uow.commit()


async def tickets_to_sync(ctx: Context, platform: str, *, within: timedelta = timedelta(days=14),
                          limit: int = 200, existing_only: bool = False) -> Sequence[int]:
    """Tickets whose thread is behind: how a restart (or another process's change) catches up.

    Tickets of teams that work on another platform only are left out, unless their thread here is
    still up (it is to say where the ticket went). `existing_only` limits it to tickets that have a
    thread row already (customers' DM threads)."""
    async with ctx.uow() as uow:
        return await uow.chat_threads.needing_sync(platform, ctx.clock() - within, limit, existing_only=existing_only,
                                                   exclude_teams=placement.teams_elsewhere(ctx.config, platform))


async def ticket_for_thread(ctx: Context, platform: str, channel: str | None, root_ref: str) -> int | None:
    """The ticket whose thread has root `root_ref` in `channel` (None: in whichever channel; slower)."""
    async with ctx.uow() as uow:
        thread = await uow.chat_threads.by_root(platform, channel, root_ref)
        return thread.ticket_id if thread else None


async def thread_of(ctx: Context, platform: str, number: int) -> ThreadRef | None:
    async with ctx.uow() as uow:
        thread = await uow.chat_threads.get(platform, number)
        if thread is None or thread.root_ref is None:
            return None
        return ThreadRef(thread.channel, thread.root_ref)


async def last_seen(ctx: Context, platform: str, number: int) -> int:
    """The newest message of this ticket's chat thread that the store knows (a post of ours, or a note
    typed there), as the platform's numeric id; 0 if none. Messages after it were not seen by us."""
    async with ctx.uow() as uow:
        refs = await uow.chat_posts.seen_refs(platform, number)
    ids = [ref.rsplit(":", 1)[-1] for ref in refs]
    return max((int(i) for i in ids if i.isdigit()), default=0)
