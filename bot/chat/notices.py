"""Delivering notices to one chat platform: where each goes, posted at least once, shown once.

The rows come from `bot.handlers.notices` (written with the change that causes them).
A deliverer per platform claims the rows it has not shown, decides where each goes
(`place_of`: the one placement policy for every platform) and asks the surface to
post it under the notice's key; a post that may have landed before (a retry, a crash
after the post and before the record) is looked for by that key first. A platform
error retries with backoff; after `MAX_ATTEMPTS`, or an `Undeliverable` answer, the
notice is given up and logged where operators look.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from datetime import timedelta

from bot import metrics
from bot.chat.surface import ChatSurface, Place, Scope, Undeliverable
from bot.domain.chat_contacts import dm_platform
from bot.handlers import events, notices, placement, threads
from bot.handlers.context import Context

log = logging.getLogger(__name__)

NOT_HERE = "-"  # the ref recorded for a notice this platform does not show (its team works elsewhere)
MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=2)
RECENT = timedelta(days=1)  # a platform shows notices made this recently (a newly added one: not last month's)


def backoff(attempts: int) -> timedelta:
    """Seconds before try `attempts` + 1: 2, 4, 8 … capped at 5 minutes."""
    return timedelta(seconds=min(300, 2 ** attempts))


async def place_of(ctx: Context, surface: ChatSurface, event: object) -> Place | None:
    """Where `event`'s notice goes on `surface`'s platform; None when the platform does not show it.

    In the ticket's thread when it has one, mentioning whoever the notice is for. An SLA notice with
    nobody assigned goes to the team's channel itself, linking to the thread: a message inside a thread
    reaches nobody who is not following it. Mail that became no ticket: the default tickets channel.
    """
    if isinstance(event, events.MailQuarantined):
        return Place(surface.default_channel)
    if isinstance(event, events.ChatPostFailed):
        return await _place_of_refusal(ctx, surface, event)
    ticket = getattr(event, "ticket", None)
    if ticket is None:
        return Place(surface.default_channel)
    ref = await threads.thread_of(ctx, surface.platform, ticket.number)
    home = placement.channel_for(ctx.config, ticket.team, surface.platform, surface.default_channel)
    mention = getattr(event, "assignee_chat_id", None)
    if isinstance(event, events.SlaWarning | events.SlaBreached) and not (mention and ref):
        link = surface.link(ref.channel, ref.root_ref) if ref else None
        return Place(home, link=link) if home is not None else None
    if ref is not None:
        return Place(ref.channel, ref.root_ref, mention=mention)
    return Place(home, mention=mention) if home is not None else None


async def _place_of_refusal(ctx: Context, surface: ChatSurface, event: events.ChatPostFailed) -> Place | None:
    """A refusal is told on the platform that refused (a customer's DMs: wherever agents see the ticket).

    A refused post: in the ticket's thread. A gone thread: its channel's top level. A channel the bot
    cannot post in (or a root that could not be posted): the tickets channel, which the bot can."""
    if event.platform != surface.platform and not _customers_dm(event.platform):
        return None
    if event.scope == Scope.CHANNEL:
        return Place(surface.default_channel) if event.platform == surface.platform else None
    ref = await threads.thread_of(ctx, surface.platform, event.ticket.number)
    if ref is not None and event.scope == Scope.ITEM:
        return Place(ref.channel, ref.root_ref)
    home = placement.channel_for(ctx.config, event.ticket.team, surface.platform, surface.default_channel)
    channel = ref.channel if ref is not None else home
    return Place(channel) if channel is not None else None


def _customers_dm(platform: str) -> bool:
    """Whether `platform` names customers' DM threads ("discord-dm"), which agents read on another one."""
    return platform.endswith(dm_platform(""))


def refusal_words(event: events.ChatPostFailed, where: str) -> str:
    """A refusal in plain words, for every platform: `where` is how it names the place ("#billing")."""
    if _customers_dm(event.platform):
        where = "the customer's DMs"
    said = f"#{event.ticket.number}: couldn't post {event.what} to {where}: {event.reason}"
    return said + (f" — {event.hint}" if event.hint else "")


class NoticeDelivery:
    def __init__(self, ctx: Context, surface: ChatSurface, *, sweep_seconds: float = 5.0) -> None:
        self.ctx, self.surface = ctx, surface
        self.platform = surface.platform
        self.owner = f"{self.platform}-notices-{uuid.uuid4().hex[:12]}"
        self.sweep_seconds = sweep_seconds
        self._poke = asyncio.Event()
        self._lock = asyncio.Lock()

    def subscribe(self) -> None:
        """A notice committed in this process is delivered at once; others (another process's) by the sweep."""
        for event_type in notices.NOTICE_TYPES:
            self.ctx.bus.subscribe(event_type, self._on_notice)

    async def _on_notice(self, event: object) -> None:
        self._poke.set()

    async def run(self, stop: asyncio.Event) -> None:
        waker = asyncio.create_task(self._wake_on(stop))  # a stop ends the wait at once, not after a sweep's time
        try:
            while not stop.is_set():
                try:
                    await self.deliver_due()
                except Exception:  # the store is away: the next round tries again
                    log.exception("%s: delivering notices failed; will try again", self.platform)
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._poke.wait(), timeout=self.sweep_seconds)
                self._poke.clear()
        finally:
            waker.cancel()

    async def _wake_on(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self._poke.set()

    async def deliver_due(self) -> int:
        """Deliver every notice whose time has come; how many were posted (or settled as not shown here)."""
        done = 0
        async with self._lock:  # one pass at a time in this process (a poke during a pass runs one more)
            while claimed := await notices.claim(self.ctx, self.platform, self.owner,
                                                 since=self.ctx.clock() - RECENT, lease=LEASE):
                for row, event in claimed:
                    done += await self._deliver(row.id, row.key, row.attempts, event)
                if len(claimed) < 50:
                    break
        return done

    async def _deliver(self, notice_id: int, key: str, attempts: int, event: object) -> int:
        try:
            place = await place_of(self.ctx, self.surface, event)
            ref = NOT_HERE if place is None else \
                await self.surface.post_notice(place, event, key=key, maybe_posted=attempts > 1)
        except Undeliverable as exc:
            metrics.CHAT_POST_FAILURES.labels(self.platform, exc.code, "permanent").inc()
            await self._give_up(notice_id, key, str(exc))
            return 0
        except Exception as exc:
            metrics.CHAT_POST_FAILURES.labels(self.platform, type(exc).__name__, "transient").inc()
            reason = f"{type(exc).__name__}: {exc}"
            if attempts >= MAX_ATTEMPTS:
                await self._give_up(notice_id, key, reason)
            else:
                log.warning("%s: notice %s not posted (%s); try %d of %d later", self.platform, key, reason,
                            attempts + 1, MAX_ATTEMPTS)
                await notices.retry_later(self.ctx, self.platform, self.owner, notice_id, backoff(attempts), reason)
            return 0
        await notices.delivered(self.ctx, self.platform, self.owner, notice_id, ref)
        return 1

    async def _give_up(self, notice_id: int, key: str, reason: str) -> None:
        log.error("%s: gave up posting notice %s: %s", self.platform, key, reason)
        await notices.give_up(self.ctx, self.platform, self.owner, notice_id, reason)
