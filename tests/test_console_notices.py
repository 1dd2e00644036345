"""The console shows every notice Slack and Discord post (SLA, task due, move, digest), and holds a typed reply
while a colleague is answering the same customer, as every platform does."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.adapters.console import ConsoleAdapter
from bot.app import Core, build_core
from bot.handlers import events, reports, sla, tasks
from bot.handlers.context import Actor
from bot.handlers.intake import receive_mail
from tests.conftest import make_settings
from tests.support.db import Database
from tests.test_console_adapter import ANA, mail
from tests.test_slack_sla import WORKFLOW as SLA_WORKFLOW

WORKFLOW = SLA_WORKFLOW + '\n[[teams]]\nname = "support"\n\n[[teams]]\nname = "vault"\n'


@pytest.fixture
async def core(database: Database, tmp_path: Path) -> AsyncIterator[Core]:
    path = tmp_path / "workflow.toml"
    path.write_text(WORKFLOW)
    c = await build_core(make_settings(database, tmp_path, workflow_file=path), engine=database.engine())
    yield c
    await c.close()


def console(core: Core, actor: Actor = ANA) -> tuple[ConsoleAdapter, io.StringIO]:
    out = io.StringIO()
    adapter = ConsoleAdapter(core.ctx, out, actor=actor)
    adapter.subscribe()
    return adapter, out


async def test_sla_task_move_and_digest_notices_are_shown(core: Core) -> None:
    adapter, out = console(core)
    await receive_mail(core.ctx, mail(subject="Server down"), source="test")
    start = core.ctx.clock
    core.ctx.clock = lambda: start() + timedelta(minutes=35)
    assert await sla.check_sla(core.ctx) == 1
    assert "⏳ nobody assigned: #1 Server down: first reply due in" in out.getvalue()

    await adapter.run_lines(["/ticket claim 1", "/ticket task 1 in 1m call them back"])
    core.ctx.clock = lambda: start() + timedelta(minutes=70)
    assert await sla.check_sla(core.ctx) == 1
    assert await tasks.remind_due(core.ctx) == 1
    await adapter.run_lines(["/ticket move 1 vault"])
    text = out.getvalue()
    assert "🚨 @U1 SLA breached on #1 Server down: first reply was due" in text
    assert "⏰ @U1 task due on #1: call them back (/ticket done 1)" in text
    assert "➡ #1 moved to vault" in text

    report = await reports.report_for(core.ctx, Actor("console", "Op", operator=True), start() - timedelta(days=1),
                                      start(), None, core.ctx.config.timezone)
    await core.ctx.bus.publish([events.DigestReady(report=report, charts=())])
    assert "── daily digest" in out.getvalue() and "new 1 · solved 0" in out.getvalue()


async def test_a_typed_reply_is_held_while_a_colleague_answers_and_sent_with_anyway(core: Core) -> None:
    adapter, out = console(core)
    await receive_mail(core.ctx, mail(), source="test")
    await adapter.run_lines(["/as U2 Ben", "/ticket reply 1 Ben answers first.", "/ticket reply 1 And a PS.",
                             "/as U1 Ana", "/ticket reply 1 Ana answers too."])
    text = out.getvalue()
    assert "✗ not sent to #1's customer: a colleague is answering too" in text
    assert "  · Ben replied to the customer just now" in text
    assert "to send it anyway: /ticket reply 1 --anyway …" in text
    assert text.count("↩ reply sent") == 2, "Ben's own second reply is no collision"

    await adapter.run_lines(["/ticket reply 1 --anyway Ana answers too."])
    async with core.ctx.uow() as u:
        queued = [m for m in await u.outbox.for_ticket(1) if m.kind == "reply"]
    assert len(queued) == 3 and b"Ana answers too." in queued[-1].raw and b"--anyway" not in queued[-1].raw
