"""Shows committed tickets in the tickets channel: one root per ticket, its messages in the thread.

Events from the bus only say "ticket N changed"; a worker then asks the store
what N's thread lacks (`bot.handlers.threads`) and brings Slack up to date:
posts the root, posts messages not shown yet, re-renders a stale root with
chat.update. Because the work is computed from the store, not carried in the
event, a lost event, a Slack outage, a restart or a change made by another
process (`tiketti ingest`) is caught up by the periodic sweep, and doing the
same work twice is harmless.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from slack_sdk.errors import SlackApiError

from bot.adapters.slack import sla_views, views
from bot.adapters.slack.client import SlackApi, SlackPostFailed
from bot.chat.sync_queue import SyncQueue
from bot.handlers import events, placement, threads
from bot.handlers.context import Context
from bot.handlers.snapshots import MessageView, TicketView
from bot.handlers.threads import ThreadWork

log = logging.getLogger(__name__)

PLATFORM = "slack"
SWEEP_BATCH = 200  # tickets a sweep queues at once


class ThreadPublisher:
    def __init__(self, ctx: Context, api: SlackApi, channel: str, *, workers: int = 4,
                 sweep_seconds: float = 15.0, link: Callable[[str, str], str] | None = None) -> None:
        self.ctx, self.api, self.channel = ctx, api, channel
        self.link = link or (lambda channel, ts: f"https://slack.com/archives/{channel}/p{ts.replace('.', '')}")
        self.owner = f"slack-{uuid.uuid4().hex[:12]}"  # this process, in the lease owner's name
        self.queue = SyncQueue("slack-publisher", self.sync,
                               lambda: threads.tickets_to_sync(ctx, PLATFORM, limit=SWEEP_BATCH),
                               workers=workers, sweep_seconds=sweep_seconds, batch=SWEEP_BATCH)

    # ---- what to do ------------------------------------------------------------------

    def subscribe(self) -> None:
        bus = self.ctx.bus
        for event_type in (events.TicketOpened, events.TicketChanged, events.MessageAdded):
            bus.subscribe(event_type, self._on_ticket_event)
        bus.subscribe(events.MailDeliveryFailed, self._on_delivery_failed)
        bus.subscribe(events.MailQuarantined, self._on_quarantined)
        bus.subscribe(events.TaskDue, self._on_task_due)
        bus.subscribe(events.SlaWarning, self._on_sla)
        bus.subscribe(events.SlaBreached, self._on_sla)
        bus.subscribe(events.TicketMoved, self._on_moved)

    def _root(self, ticket: TicketView) -> dict[str, object]:
        wf = self.ctx.config.workflow
        return views.root_message(ticket, categories=wf.categories, teams=[t.name for t in wf.teams],
                                  now=self.ctx.clock())

    def channel_for(self, team: str | None) -> str | None:
        """A team's tickets live in its own channel, the rest in the tickets channel; None: the team
        works on another platform only (`bot.handlers.placement`)."""
        return placement.channel_for(self.ctx.config, team, PLATFORM, self.channel)

    async def _on_ticket_event(self, event: events.TicketOpened | events.TicketChanged | events.MessageAdded) -> None:
        self.mark(event.ticket.number)

    async def _on_moved(self, event: events.TicketMoved) -> None:
        """The sync moves the thread and links the old and new ones (`_link_move`), or says it left (`_leave`)."""
        self.mark(event.number)

    def mark(self, number: int) -> None:
        """Ticket `number` may differ from what Slack shows; a worker will look soon."""
        self.queue.mark(number)

    async def _on_delivery_failed(self, event: events.MailDeliveryFailed) -> None:
        notice = views.delivery_failed_notice(event)
        ref = await threads.thread_of(self.ctx, PLATFORM, event.ticket.number) if event.ticket else None
        await self._notice(ref.channel if ref else self.channel, notice, ref.root_ref if ref else None)
        if event.ticket:
            self.mark(event.ticket.number)  # the root lists undeliverable mail

    async def _on_task_due(self, event: events.TaskDue) -> None:
        who = f"<@{event.assignee_chat_id}> " if event.assignee_chat_id else ""
        message = views.task_reminder(event, who)
        ref = await threads.thread_of(self.ctx, PLATFORM, event.ticket.number)
        channel = ref.channel if ref else self.channel_for(event.ticket.team)
        if channel is not None:  # else the team works elsewhere: the reminder is shown there
            await self._notice(channel, message, ref.root_ref if ref else None)

    async def _on_sla(self, event: events.SlaWarning | events.SlaBreached) -> None:
        """In the ticket's thread mentioning the assignee; with nobody assigned, in the team's channel itself
        (a reply in a thread reaches no one), linking to the thread."""
        ref = await threads.thread_of(self.ctx, PLATFORM, event.ticket.number)
        if event.assignee_chat_id and ref:
            message = sla_views.sla_notice(event, f"<@{event.assignee_chat_id}> ", self.ctx.clock())
            await self._notice(ref.channel, message, ref.root_ref)
        elif (channel := self.channel_for(event.ticket.team)) is not None:  # else shown where the team works
            link = self.link(ref.channel, ref.root_ref) if ref else None
            message = sla_views.sla_notice(event, "", self.ctx.clock(), link=link)
            await self._notice(channel, message, None)
        self.mark(event.ticket.number)  # the root shows the time left

    async def _on_quarantined(self, event: events.MailQuarantined) -> None:
        await self._notice(self.channel, views.quarantine_notice(event), None)

    async def _notice(self, channel: str, message: dict[str, object], thread_ts: str | None) -> None:
        await self.api.gate.wait(channel)
        await self.api.api.chat_postMessage(channel=channel, thread_ts=thread_ts, **message)

    # ---- running ---------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        await self.queue.run(stop)

    async def sweep(self) -> int:
        """Queue every recent ticket whose thread is behind (after a restart, or changes made elsewhere)."""
        return await self.queue.sweep()

    async def drained(self) -> None:
        """Wait until nothing is queued or in progress (tests and the benchmark use this)."""
        await self.queue.drained()

    # ---- one ticket ----------------------------------------------------------------------

    async def sync(self, number: int) -> bool:
        """Bring ticket `number`'s root and thread up to date. False if another worker had it."""
        owner = f"{self.owner}-{uuid.uuid4().hex[:8]}"  # one lease per sync: workers exclude each other too
        work = await threads.begin_sync(self.ctx, PLATFORM, number, self.channel, owner)
        if work is None:
            return False
        done = _Done()
        try:
            if work.moving and work.home is None:  # moved to a team that works on another platform
                await self._leave(work)
                return True
            if work.moving:  # moved to another team: a new thread in its channel
                await threads.move_thread(self.ctx, PLATFORM, number, work.home)
                work = await threads.begin_sync(self.ctx, PLATFORM, number, self.channel, owner)
                assert work is not None  # the lease is ours
            root = work.root_ref or await self._post_root(work, done)
            await self._link_move(work, root)
            await self._post_messages(work, root, done)
            if work.root_ref and work.root_stale:
                await self.api.api.chat_update(channel=work.channel, ts=root, **self._root(work.ticket))
                done.rendered_at = work.ticket.updated_at
            return True
        finally:  # what was shown is recorded even when a later step failed
            await threads.end_sync(self.ctx, PLATFORM, number, owner, root_ref=done.root_ref,
                                   rendered_at=done.rendered_at, posted=done.posted)

    async def _post_root(self, work: ThreadWork, done: _Done) -> str:
        # A second attempt, or a lease taken over from a crashed worker: the root may be there already.
        ts = await self.api.post_once(work.channel, self._root(work.ticket), key=f"ticket-{work.ticket.number}",
                                      maybe_posted=work.post_attempts > 1 or work.recovering)
        done.root_ref, done.rendered_at = ts, work.ticket.updated_at
        await self._post_history(work, ts)
        return ts

    async def _link_move(self, work: ThreadWork, root: str) -> None:
        """After a move: the new thread points back, the old root and thread point forward."""
        old = work.moved_from
        if old is None:
            return
        n, team = work.ticket.number, work.ticket.team or "another team"
        here, there = self.link(work.channel, root), self.link(old.channel, old.root_ref)
        await self.api.post_once(work.channel, views.moved_notice(f"Moved here from an earlier thread: <{there}|#{n}>"),
                                 key=f"moved-in-{n}-{old.root_ref}", thread_ts=root, maybe_posted=True)
        await self.api.post_once(old.channel, views.moved_notice(f"Moved to {team}: <{here}|continue in #{n}'s new thread>"),
                                 key=f"moved-out-{n}-{old.root_ref}", thread_ts=old.root_ref, maybe_posted=True)
        await self.api.api.chat_update(channel=old.channel, ts=old.root_ref,
                                       **views.root_message(work.ticket, moved_to=(team, here)))
        await threads.move_linked(self.ctx, PLATFORM, n)

    async def _leave(self, work: ThreadWork) -> None:
        """The ticket's team works on another platform now: the thread says so, then is no longer updated.

        Said before the row forgets the thread, so a crash in between says it again (once: `post_once`)."""
        assert work.root_ref is not None
        n = work.ticket.number
        where = " and ".join(p.capitalize() for p in work.shown_on) or "another platform"
        team = f"{work.ticket.team or 'another team'} (in {where})"
        await self.api.post_once(work.channel, views.moved_notice(f"Moved to {team}: this thread is no longer updated"),
                                 key=f"left-{n}-{work.root_ref}", thread_ts=work.root_ref, maybe_posted=True)
        await self.api.api.chat_update(channel=work.channel, ts=work.root_ref,
                                       **views.root_message(work.ticket, moved_to=(team, None)))
        await threads.move_thread(self.ctx, PLATFORM, n, None)

    async def _post_history(self, work: ThreadWork, root: str) -> None:
        """The customer's other recent tickets, first in the thread: whether they wrote or were answered before."""
        if not work.other_tickets:
            return
        links = {}
        for other in work.other_tickets:
            ref = await threads.thread_of(self.ctx, PLATFORM, other.number)
            if ref:
                links[other.number] = self.link(ref.channel, ref.root_ref)
        await self.api.post_once(work.channel, views.customer_history(work.other_tickets, links),
                                 key=f"history-{work.ticket.number}", thread_ts=root, maybe_posted=work.post_attempts > 1)

    async def _post_messages(self, work: ThreadWork, root: str, done: _Done) -> None:
        maybe_posted = work.post_attempts > 1 or work.recovering
        for message in work.unposted:
            ts = await self.api.post_once(work.channel, views.thread_message(message), key=f"message-{message.id}",
                                          thread_ts=root, maybe_posted=maybe_posted)
            done.posted.append((message.id, ts))
            await self._upload_full_text(work.channel, root, message)

    async def _upload_full_text(self, channel: str, root: str, message: MessageView) -> None:
        full = views.thread_message_file(message)
        if full is None:
            return
        try:
            await self.api.api.files_upload_v2(channel=channel, thread_ts=root, filename=full.filename,
                                               title=full.title, content=full.content.encode("utf-8"))
        except SlackApiError as exc:  # the head is in the thread; the whole text stays in `/ticket show`
            log.warning("slack: attaching the full text of message %d failed: %s", message.id, _reason(exc))


def _reason(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        return f"{exc.response.status_code} {exc.response.get('error')}"
    if isinstance(exc, SlackPostFailed):
        return str(exc)
    return type(exc).__name__


@dataclass
class _Done:
    """What one sync has shown so far, recorded when it ends."""

    root_ref: str | None = None
    rendered_at: datetime | None = None
    posted: list[tuple[int, str]] = field(default_factory=list)
