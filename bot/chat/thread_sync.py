"""One ticket's thread, brought up to date from the store: the same loop on every chat platform.

Events only say "ticket N changed"; a worker then asks the store what N's thread
lacks (`bot.handlers.threads`) and brings the platform up to date through its
surface: posts the root, the customer's history, the messages not shown yet, and
renders a stale root again. Because the work is computed from the store, a lost
event, an outage, a restart or a change made by another process is caught up by
the periodic sweep, and doing the same work twice is harmless.

What a sync showed is recorded once, when it ends (`threads.end_sync`), in one
transaction with the lease's release, even when a later step failed. A crash
before that leaves the lease to run out; the next holder is `recovering` and asks
the surface to look for each post before making it again.

A customer's own thread (their DMs, `for_customer`) is synced the same way, but
its "root" is the acknowledgement and only replies are sent: every other message
is recorded as not for the customer, so nothing internal can ever reach them.

Failures are classified by the surface (`ChatSurface.refused`). A passing one (a 5xx, a
timeout) ends the sync and the queue tries the ticket again with backoff. A refusal for good
stops that item only: a refused message is recorded under a `REFUSED` ref and the messages
after it go on, a refused root update waits for the ticket's next change; agents are told
once (a `ChatPostFailed` notice). A channel that refuses everything, or a refused root,
ends the sync: the queue looks again after a long wait or on the ticket's next change, so
an operator's fix (inviting the bot) is picked up and nothing is lost meanwhile. A deleted
root is not posted again: agents are told, and the ticket stays whole in `/ticket show`.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from bot import metrics
from bot.chat.surface import ChatSurface, Hop, MoveNote, Scope, Undeliverable
from bot.chat.sync_queue import SyncQueue
from bot.domain.model import MessageKind
from bot.handlers import events, threads
from bot.handlers.context import Context
from bot.handlers.threads import ThreadWork

log = logging.getLogger(__name__)

SWEEP_BATCH = 200  # tickets a sweep queues at once
NOT_FOR_THE_CUSTOMER = "-"  # the ref recorded for a message a customer's thread does not show
REFUSED = "!"  # the ref recorded for a message the platform refused for good, followed by its error code
MESSAGE_WORDS = {MessageKind.REPLY: "a reply", MessageKind.NOTE: "a note", MessageKind.INBOUND: "a customer's mail"}

# Events after which a team thread may be behind: the ticket, its messages, its team, and what the
# root shows besides (the SLA time left, undeliverable mail).
THREAD_EVENTS = (events.TicketOpened, events.TicketChanged, events.MessageAdded, events.TicketMoved,
                 events.SlaWarning, events.SlaBreached, events.MailDeliveryFailed)


class ThreadSync:
    def __init__(self, ctx: Context, surface: ChatSurface, *, workers: int = 4, sweep_seconds: float = 15.0,
                 for_customer: bool = False) -> None:
        self.ctx, self.surface, self.for_customer = ctx, surface, for_customer
        self.platform = surface.platform
        self.owner = f"{self.platform}-{uuid.uuid4().hex[:12]}"  # this process, in the lease owner's name
        self.queue = SyncQueue(f"{self.platform}-threads", self.sync, self._behind, workers=workers,
                               sweep_seconds=sweep_seconds, batch=SWEEP_BATCH)

    def subscribe(self) -> None:
        """Team threads follow every ticket event (a customer's thread is marked by `bot.chat.dm_relay`)."""
        for event_type in THREAD_EVENTS:
            self.ctx.bus.subscribe(event_type, self._on_event)

    async def _on_event(self, event: object) -> None:
        ticket = getattr(event, "ticket", None)
        number = ticket.number if ticket is not None else getattr(event, "number", None)
        if isinstance(number, int):
            self.mark(number)

    def mark(self, number: int) -> None:
        """Ticket `number` may differ from what the platform shows; a worker will look soon."""
        self.queue.mark(number)

    async def _behind(self) -> list[int]:
        return list(await threads.tickets_to_sync(self.ctx, self.platform, limit=SWEEP_BATCH,
                                                  existing_only=self.for_customer))

    async def run(self, stop: asyncio.Event) -> None:
        await self.queue.run(stop)

    async def sweep(self) -> int:
        """Queue every recent ticket whose thread is behind (after a restart, or changes made elsewhere)."""
        return await self.queue.sweep()

    async def drained(self) -> None:
        """Wait until nothing is queued or in progress (tests and the benchmarks use this)."""
        await self.queue.drained()

    # ---- one ticket ------------------------------------------------------------------------

    async def sync(self, number: int) -> bool:
        """Bring ticket `number`'s root and thread up to date. False if another worker had it."""
        owner = f"{self.owner}-{uuid.uuid4().hex[:8]}"  # one lease per sync: workers exclude each other too
        default = "" if self.for_customer else self.surface.default_channel
        work = await threads.begin_sync(self.ctx, self.platform, number, default, owner)
        if work is None:
            return False
        done = _Done()
        try:
            if work.moving and work.home is None:  # moved to a team that works on another platform
                await self._leave(work)
                return True
            if work.moving:  # moved to another team: a new thread in its channel
                await threads.move_thread(self.ctx, self.platform, number, work.home)
                work = await threads.begin_sync(self.ctx, self.platform, number, default, owner)
                assert work is not None  # the lease is ours
            root = work.root_ref or await self._post_root(work, done)
            if not work.root_ref and work.unposted and self._roots_first(work):
                self.queue.later(number)  # its thread is filled in once the tickets waiting now have roots
                return True
            await self._link_move(work, root)
            await self._post_messages(work, root, done)
            if work.root_ref and work.root_stale:
                if not self.for_customer:  # a customer's acknowledgement is never edited
                    await self._update_root(work, root)
                done.rendered_at = work.ticket.updated_at
            return True
        except Exception as exc:
            if not isinstance(exc, Undeliverable):  # counted where it was refused
                metrics.CHAT_POST_FAILURES.labels(self.platform, _code(exc), "transient").inc()
            raise
        finally:  # what was shown is recorded even when a later step failed
            await threads.end_sync(self.ctx, self.platform, number, owner, root_ref=done.root_ref,
                                   rendered_at=done.rendered_at, posted=done.posted)

    def _roots_first(self, work: ThreadWork) -> bool:
        """Under a backlog a new ticket's root goes out, and its thread waits: every ticket is visible first.

        A move links its threads at once, and a customer's thread is its own channel."""
        return self.queue.backlog() and work.moved_from is None and not self.for_customer

    def _maybe_posted(self, work: ThreadWork) -> bool:
        """An earlier attempt may have reached the platform: a retry, or a lease taken over from a crash."""
        return work.post_attempts > 1 or work.recovering

    async def _post_root(self, work: ThreadWork, done: _Done) -> str:
        n = work.ticket.number
        replaces = work.moved_from.root_ref if work.moved_from else None
        key = f"ticket-{n}" + (f"-after-{replaces}" if replaces else "")
        try:
            root = await self.surface.post_root(work.channel, work.ticket, key=key,
                                                maybe_posted=self._maybe_posted(work), replaces=replaces)
        except Exception as exc:
            # No root, no thread: told in the tickets channel (the bot cannot post in this one) or at the
            # top of this one, and the ticket waits for a fix (`SyncQueue.PERMANENT_RETRY`).
            refusal = self._refusal(exc)
            if refusal is None:
                raise
            scope = refusal.scope if self.for_customer or refusal.scope == Scope.CHANNEL else Scope.THREAD
            await self._refused(work, "the ticket's root" if not self.for_customer else "the acknowledgement",
                                "root", refusal, scope=scope)
            raise refusal from exc
        done.root_ref, done.rendered_at = root, work.ticket.updated_at
        if work.other_tickets and not self.for_customer:
            await self._post_history(work, root)
        return root

    async def _post_history(self, work: ThreadWork, root: str) -> None:
        """The customer's other recent tickets, first in the thread: whether they wrote or were answered before."""
        links = {}
        for other in work.other_tickets:
            ref = await threads.thread_of(self.ctx, self.platform, other.number)
            if ref:
                links[other.number] = self.surface.link(ref.channel, ref.root_ref)
        try:
            await self.surface.post_history(work.channel, root, work.other_tickets, links,
                                            key=f"history-{work.ticket.number}-{root}",
                                            maybe_posted=self._maybe_posted(work))
        except Exception as exc:  # a courtesy: refused, the thread goes on without it
            await self._settle(work, "the customer's other tickets", "history", exc)

    async def _link_move(self, work: ThreadWork, root: str) -> None:
        """After a move: the new thread points back, the old root and thread point forward."""
        old = work.moved_from
        if old is None:
            return
        n, team = work.ticket.number, work.ticket.team or "another team"
        here, there = self.surface.link(work.channel, root), self.surface.link(old.channel, old.root_ref)
        try:
            await self.surface.post_move(work.channel, root, MoveNote(Hop.ARRIVED, team, there, n),
                                         key=f"moved-in-{n}-{old.root_ref}")
        except Exception as exc:
            await self._settle(work, "the line saying where the ticket came from", "moved-in", exc)
        departed = MoveNote(Hop.DEPARTED, team, here, n)
        await self._left_behind(old.channel, old.root_ref, work, departed, f"moved-out-{n}-{old.root_ref}")
        await threads.move_linked(self.ctx, self.platform, n)

    async def _leave(self, work: ThreadWork) -> None:
        """The ticket's team works on another platform now: the thread says so, then is no longer updated.

        Said before the row forgets the thread, so a crash in between says it again (once: the key)."""
        assert work.root_ref is not None
        where = " and ".join(p.capitalize() for p in work.shown_on) or "another platform"
        left = MoveNote(Hop.LEFT, f"{work.ticket.team or 'another team'} (in {where})", None, work.ticket.number)
        await self._left_behind(work.channel, work.root_ref, work, left, f"left-{work.ticket.number}-{work.root_ref}")
        await threads.move_thread(self.ctx, self.platform, work.ticket.number, None)

    async def _left_behind(self, channel: str, root: str, work: ThreadWork, note: MoveNote, key: str) -> None:
        """The old thread says where the ticket went. An old thread gone or closed to the bot is let be:
        the ticket lives on in its new place, and nobody reads the old one any more."""
        try:
            await self.surface.post_move(channel, root, note, key=key)
            await self.surface.update_root(channel, root, work.ticket, moved=note)
        except Exception as exc:
            if (refusal := self._refusal(exc)) is None:
                raise
            metrics.CHAT_POST_FAILURES.labels(self.platform, refusal.code, "permanent").inc()
            log.warning("%s: #%d's old thread %s could not say where it went: %s", self.platform,
                        work.ticket.number, root, refusal)

    async def _post_messages(self, work: ThreadWork, root: str, done: _Done) -> None:
        """Each message once, in order; a refused one is recorded as such and the next goes on. After a
        refusal for the whole thread (deleted, archived), the rest are recorded refused without a try."""
        maybe_posted = self._maybe_posted(work)
        gone: Undeliverable | None = None
        for message in work.unposted:
            if self.for_customer and message.kind != MessageKind.REPLY:
                done.posted.append((message.id, NOT_FOR_THE_CUSTOMER))
                continue
            if gone is not None:
                done.posted.append((message.id, REFUSED + gone.code))
                continue
            try:
                ref = await self.surface.post_message(work.channel, root, message,
                                                      key=f"message-{message.id}-{root}", maybe_posted=maybe_posted)
            except Exception as exc:
                refusal = await self._settle(work, MESSAGE_WORDS.get(message.kind, "a message"), str(message.id), exc)
                ref = REFUSED + refusal.code
                gone = refusal if refusal.scope == Scope.THREAD else None
            done.posted.append((message.id, ref))

    async def _update_root(self, work: ThreadWork, root: str) -> None:
        """Render the root again; refused (deleted, archived, a rendering the platform rejects), it is
        counted as shown, so it is tried again only when the ticket changes again."""
        try:
            await self.surface.update_root(work.channel, root, work.ticket)
        except Exception as exc:
            await self._settle(work, "an update of the ticket's root", "root-update", exc)

    # ---- refusals ----------------------------------------------------------------------

    def _refusal(self, exc: Exception) -> Undeliverable | None:
        return exc if isinstance(exc, Undeliverable) else self.surface.refused(exc)

    async def _settle(self, work: ThreadWork, what: str, item: str, exc: Exception) -> Undeliverable:
        """`exc` ended one item: a refusal of it alone is told and returned (the caller goes on); anything
        else (a passing failure, or a channel closed to the bot) is raised, ending the sync."""
        refusal = self._refusal(exc)
        if refusal is None:
            raise exc
        await self._refused(work, what, item, refusal)
        if refusal.scope == Scope.CHANNEL:
            raise refusal from exc
        return refusal

    async def _refused(self, work: ThreadWork, what: str, item: str, refusal: Undeliverable, *,
                       scope: Scope | None = None) -> None:
        """Counted, logged, and told to agents by a notice kept in the store (once per refused thing)."""
        metrics.CHAT_POST_FAILURES.labels(self.platform, refusal.code, "permanent").inc()
        log.error("%s: #%d: %s was refused for good in %s: %s", self.platform, work.ticket.number, what,
                  work.channel, refusal)
        async with self.ctx.transaction() as uow:
            uow.events.append(events.ChatPostFailed(
                ticket=work.ticket, platform=self.platform, channel=work.channel, what=what, item=item,
                code=refusal.code, reason=refusal.reason, hint=refusal.hint, scope=str(scope or refusal.scope)))


def _code(exc: Exception) -> str:
    """A passing failure's label in /metrics: the platform's code where it gives one, else its kind."""
    code = getattr(exc, "error", None) or getattr(exc, "status", None)
    return str(code) if code else type(exc).__name__


@dataclass
class _Done:
    """What one sync has shown so far, recorded when it ends."""

    root_ref: str | None = None
    rendered_at: datetime | None = None
    posted: list[tuple[int, str]] = field(default_factory=list)
