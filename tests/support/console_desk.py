"""A helpdesk whose chat platform is the console surface, with the chat layer running as on Slack and Discord.

`ThreadSync` and `NoticeDelivery` are subscribed to the core's bus and run their own workers
over a `ConsoleSurface`; agents type through `ConsoleAdapter`s that share that surface (they
show nothing themselves: the workers do). The clock is moved by hand, so SLA
warnings, task reminders and retry backoffs come due when a test says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.adapters.console import ConsoleAdapter, ConsoleSurface
from bot.app import Core, build_core
from bot.chat.notices import NoticeDelivery
from bot.chat.thread_sync import ThreadSync
from bot.handlers.context import Actor
from tests.conftest import make_settings
from tests.support.db import Database

MONDAY_9 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


class Clock:
    """Moved by hand, and a microsecond on at every reading: time never stands still, or a change
    made at the very moment a root was rendered would look already shown (`ThreadSync` compares times)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        self.now += timedelta(microseconds=1)
        return self.now

    def forward(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class Desk:
    core: Core
    clock: Clock
    surface: ConsoleSurface
    sync: ThreadSync
    notices: NoticeDelivery | None = None  # None until `start_notices` (a deliverer may start late)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _notices_stop: asyncio.Event = field(default_factory=asyncio.Event)
    _notices_task: asyncio.Task[None] | None = None

    def start_notices(self) -> NoticeDelivery:
        """A notice deliverer starts (after a restart: a new one, as a new process would have)."""
        self._notices_stop = asyncio.Event()
        self.notices = NoticeDelivery(self.core.ctx, self.surface, sweep_seconds=0.2)
        self.notices.subscribe()
        self._notices_task = asyncio.create_task(self.notices.run(self._notices_stop))
        return self.notices

    async def stop_notices(self) -> None:
        """The deliverer stops, as its process would."""
        self._notices_stop.set()
        if self._notices_task is not None:
            await self._notices_task
        self.notices, self._notices_task = None, None

    def at_console(self, actor: Actor) -> tuple[ConsoleAdapter, io.StringIO]:
        """`actor` at a terminal whose channel is the shared surface: what they type, what they are told."""
        out = io.StringIO()
        return ConsoleAdapter(self.core.ctx, out, actor=actor, surface=self.surface), out

    async def type(self, actor: Actor, *lines: str) -> str:
        """`actor` types `lines`; the answers only they see (errors, held replies), once all is shown."""
        console, out = self.at_console(actor)
        for line in lines:
            await console.execute(line)
        await self.settled()
        return out.getvalue()

    async def settled(self) -> None:
        """Everything committed so far is shown: threads synced, due notices delivered."""
        for _ in range(2):
            await self.sync.drained()
            if self.notices is not None:
                await self.notices.deliver_due()
        await self.sync.drained()


@contextlib.asynccontextmanager
async def console_desk(database: Database, tmp_path: Path, workflow: str, *,
                       notices: bool = True) -> AsyncIterator[Desk]:
    path = tmp_path / "workflow.toml"
    path.write_text(workflow)
    core = await build_core(make_settings(database, tmp_path, workflow_file=path), engine=database.engine())
    clock = Clock(MONDAY_9)
    core.ctx.clock = clock
    surface = ConsoleSurface(workflow=core.ctx.config.workflow, clock=clock)
    sync = ThreadSync(core.ctx, surface, workers=2, sweep_seconds=0.2)
    sync.subscribe()
    desk = Desk(core, clock, surface, sync)
    desk._tasks.append(asyncio.create_task(sync.run(desk._stop)))
    if notices:
        desk.start_notices()
    try:
        yield desk
    finally:
        desk._stop.set()
        await desk.stop_notices()
        await asyncio.gather(*desk._tasks, return_exceptions=True)
        await core.close()
