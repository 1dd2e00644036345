"""The long-running parts of the bot, started and stopped together.

`tiketti run` and `tiketti demo` both use this: the web server, the outbox
worker, the inbound SMTP listener, the IMAP fetcher, the scheduler and the Slack and
Discord adapters, each optional by settings. The console adapter attaches to the same Core.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from bot import metrics
from bot.app import Core
from bot.handlers import events, kb
from bot.mail.imap import ImapFetcher
from bot.mail.listener import InboundListener
from bot.mail.outbox import OutboxWorker
from bot.mail.pipeline import MailPipeline
from bot.scheduler import Scheduler
from bot.web import WebServer, build_web_app

if TYPE_CHECKING:
    from bot.adapters.discord.adapter import DiscordAdapter
    from bot.adapters.slack.adapter import SlackAdapter

log = logging.getLogger(__name__)



class Runtime:
    def __init__(self, core: Core, *, web: bool = True) -> None:
        self.core = core
        s = core.settings
        self.pipeline = MailPipeline(core.ctx)
        self.outbox = OutboxWorker.from_settings(core.ctx, s)
        self.listener = (
            InboundListener(core.ctx, self.pipeline, s.inbound_smtp_host, s.inbound_smtp_port, lmtp=s.inbound_lmtp)
            if s.inbound_smtp_port is not None
            else None
        )
        self.imap = ImapFetcher.from_settings(core.ctx, self.pipeline, s) if s.imap_host else None
        self.slack = _slack_adapter(core) if s.slack_bot_token else None
        self.discord = _discord_adapter(core) if s.discord_token else None
        self.scheduler = Scheduler.from_settings(core.ctx, s)
        web_app = build_web_app(core.engine, core.ctx.uow)
        if self.slack:
            self.slack.mount(web_app)
        self.web = WebServer(web_app, s.http_host, s.http_port) if web else None
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        # Wake the outbox as soon as a committed change may have queued mail.
        for event_type in (events.TicketOpened, events.MessageAdded):
            core.ctx.bus.subscribe(event_type, self._wake_outbox)
        core.ctx.bus.subscribe(events.SlaBreached, _count_breach)

    async def _wake_outbox(self, _event: object) -> None:
        self.outbox.wake()

    async def start(self) -> None:
        _tune_gc()
        if self.web:
            await self.web.start()
        if self.listener:
            await self.listener.start()
            log.info("inbound %s listener on %s:%d", "LMTP" if self.core.settings.inbound_lmtp else "SMTP",
                     self.core.settings.inbound_smtp_host, self.listener.port)
        self._spawn(self.outbox.run(self._stop), "outbox")
        self._spawn(kb.warm_up(self.core.ctx), "kb-index")  # the knowledge base, read before the first ticket needs it
        if self.imap:
            self._spawn(self.imap.run(self._stop), "imap")
        if self.slack:
            self._tasks.append(await self.slack.start(self._stop))
        if self.discord:
            self._tasks.append(await self.discord.start(self._stop))
        self.scheduler.start()

    async def housekeeping(self) -> None:
        """Run the periodic jobs (task reminders, SLA checks, auto-close) once, now.

        The scheduler runs them on their own; this is for tests and scripts that move the
        clock. Unclaimed, which is safe: each handler claims its rows (SKIP LOCKED on
        PostgreSQL) and marks them, so a reminder is still posted once.
        """
        await self.scheduler.run_periodic_now()

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        self._tasks.append(asyncio.create_task(coro, name=name))

    async def drain_outbox(self, rounds: int = 20) -> None:
        """Deliver everything that is due now (the demo shows sent mail before it exits)."""
        for _ in range(rounds):
            if await self.outbox.deliver_due() == 0:
                return

    async def wait(self) -> None:
        await self._stop.wait()

    def request_stop(self) -> None:
        self._stop.set()

    async def stop(self) -> None:
        self._stop.set()
        await self.scheduler.shutdown()
        for task in self._tasks:
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(task, timeout=10)
        if self.slack:
            await self.slack.stop()
        if self.discord:
            await self.discord.stop()
        if self.listener:
            await self.listener.stop()
        if self.web:
            await self.web.stop()
        await asyncio.to_thread(self.pipeline.close, wait=True)  # the parser process ends with us


def _slack_adapter(core: Core) -> SlackAdapter:
    from bot.adapters.slack.adapter import SlackAdapter  # Slack's SDKs load only when Slack is configured

    return SlackAdapter(core.ctx, core.settings)


def _discord_adapter(core: Core) -> DiscordAdapter:
    from bot.adapters.discord.adapter import DiscordAdapter  # discord.py loads only when Discord is configured

    return DiscordAdapter(core.ctx, core.settings)


def _tune_gc() -> None:
    """Fewer, cheaper collections: what is loaded at start stays, so full collections skip it.

    Python's default (a young collection every 700 allocations, a full one every 100 of those)
    stalled the event loop for 0.3-0.5 s every second or two under a burst of Slack requests,
    holding every ack back (bench/slack.py).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


async def _count_breach(event: events.SlaBreached) -> None:
    """Counted from the event, so the handlers stay free of metrics."""
    metrics.SLA_BREACHES.labels(event.clock).inc()
