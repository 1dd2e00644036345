"""Undo send (issue 14 point 7): a reply is held in the outbox for its undo window, and taken back within it.

The console desk's chat layer (thread sync, notices) runs as on Slack and Discord; mail leaves
through the real outbox worker to an aiosmtpd relay on 127.0.0.1. Time is the desk's clock, moved
by hand: the window passes when a test says so. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import build_core
from bot.domain.status import Status
from bot.handlers import delivery, replies, undo
from bot.handlers.context import Actor
from bot.handlers.errors import Refused
from bot.mail.outbox import OutboxWorker
from bot.mail.transport import SmtpTransport
from tests.conftest import make_settings
from tests.support.console_desk import Desk, console_desk
from tests.support.db import Database
from tests.support.mails import deliver, messages, outbox, raw_mail, ticket
from tests.support.smtp_sink import SmtpSink

WORKFLOW = """
default_team = "support"

[[teams]]
name = "support"
members = ["U0ANA", "U0BEN"]

[roles]
managers = ["U0MAX"]
"""

ANA, BEN, MAX = Actor("U0ANA", "Ana"), Actor("U0BEN", "Ben"), Actor("U0MAX", "Max")
HOLD = 10.0
TEXT = "Unplug it, a technician comes tomorrow."
WAIT = 20.0  # a guard against hanging, not a performance claim


@pytest.fixture
async def sink() -> AsyncIterator[SmtpSink]:
    s = SmtpSink()
    await s.start()
    yield s
    await s.stop()


@pytest.fixture
async def desk(database: Database, tmp_path: Path) -> AsyncIterator[Desk]:
    async with console_desk(database, tmp_path, WORKFLOW) as d:
        d.core.ctx.config = dataclasses.replace(d.core.ctx.config, undo_seconds=HOLD)
        yield d


def worker(desk: Desk, sink: SmtpSink) -> OutboxWorker:
    return OutboxWorker(desk.core.ctx, SmtpTransport(sink.host, sink.port, starttls=False, timeout=10),
                        max_attempts=3, backoff_seconds=5)


async def mail(desk: Desk) -> int:
    number = (await deliver(desk.core, raw_mail())).ticket_number
    assert number is not None
    await desk.settled()
    return number


def replies_in(sink: SmtpSink) -> list[str]:
    """The replies the relay got (the acknowledgement of the new ticket is automatic mail)."""
    return [r.message.get_body(("plain",)).get_content() for r in sink.received  # type: ignore[union-attr]
            if not r.message["Auto-Submitted"]]


async def test_undo_within_the_window_sends_nothing_and_gives_the_text_back(desk: Desk, sink: SmtpSink) -> None:
    n = await mail(desk)
    out = worker(desk, sink)
    said = await desk.type(ANA, f"/ticket reply {n} {TEXT}")
    assert f"goes out in 10 s (/ticket undo {n} takes it back)" in said
    held = await ticket(desk.core, n)
    assert held is not None and held.status == Status.WAITING_ON_CUSTOMER and held.first_response_at is not None
    await out.deliver_due()
    assert replies_in(sink) == [], "held: not sent before its window is over"

    desk.clock.forward(timedelta(seconds=5))
    said = await desk.type(ANA, f"/ticket undo {n}")
    assert f"#{n} reply to ***@customer.example taken back: nothing was sent" in said
    assert f"/ticket reply {n} {TEXT}" in said, "the text comes back, ready to send again"
    # The thread says so; the ticket is as before the reply: status, first response, assignee.
    assert any("Ana took back their reply before it was mailed" in t for t in desk.surface.thread(n))
    after = await ticket(desk.core, n)
    assert after is not None and after.status == Status.NEW and after.first_response_at is None
    assert after.assignee_id is None and after.references == held.references[:-1]
    [kept] = [m for m in await messages(desk.core, n) if TEXT in m.body_text]
    assert kept.kind == "note" and kept.body_text.startswith(undo.TAKEN_BACK)
    assert kept.mail_message_id not in after.references, "never mailed: later mail does not refer to it"
    assert [m.kind for m in await outbox(desk.core, n)] == ["ack"]

    desk.clock.forward(timedelta(seconds=60))
    await out.deliver_due()
    assert replies_in(sink) == [], "taken back: never sent, however long the worker runs"
    async with desk.core.ctx.uow() as uow:
        actions = [a.action for a in await uow.audit.for_ticket(n)]
    assert "reply_undone" in actions


async def test_after_the_window_the_reply_goes_once_and_undo_is_refused(desk: Desk, sink: SmtpSink) -> None:
    n = await mail(desk)
    out = worker(desk, sink)
    await desk.type(ANA, f"/ticket reply {n} {TEXT}")
    desk.clock.forward(timedelta(seconds=HOLD + 1))
    await out.deliver_due()
    assert [TEXT in body for body in replies_in(sink)] == [True]
    said = await desk.type(ANA, f"/ticket undo {n}")
    assert f"#{n}'s reply was already sent" in said or "no reply on" in said
    await out.deliver_due()
    assert len(replies_in(sink)) == 1
    after = await ticket(desk.core, n)
    assert after is not None and after.status == Status.WAITING_ON_CUSTOMER


async def test_undo_after_the_window_before_the_worker_ran_is_refused_and_the_mail_still_goes(
        desk: Desk, sink: SmtpSink) -> None:
    n = await mail(desk)
    await desk.type(ANA, f"/ticket reply {n} {TEXT}")
    desk.clock.forward(timedelta(seconds=HOLD + 1))
    said = await desk.type(ANA, f"/ticket undo {n}")
    assert f"#{n}'s reply was already sent" in said
    await worker(desk, sink).deliver_due()
    assert len(replies_in(sink)) == 1


async def test_a_colleague_cannot_undo_your_reply_but_a_manager_can(desk: Desk, sink: SmtpSink) -> None:
    n = await mail(desk)
    await desk.type(ANA, f"/ticket reply {n} {TEXT}")
    said = await desk.type(BEN, f"/ticket undo {n}")
    assert f"no reply on #{n} is waiting to be sent" in said, "Ben has no held reply of his own there"
    [message] = [m for m in await messages(desk.core, n) if TEXT in m.body_text]
    with pytest.raises(Refused, match="only the agent who wrote"):
        await undo.undo_reply(desk.core.ctx, BEN, n, message.id)  # the Undo button's message, pressed by Ben
    async with desk.core.ctx.uow() as uow:
        refused = [a for a in await uow.audit.for_ticket(n) if a.action == "refused"]
    assert refused and refused[-1].actor.endswith("Ben") or "U0BEN" in refused[-1].actor
    assert [m.kind for m in await outbox(desk.core, n)] == ["ack", "reply"], "Ben changed nothing"
    said = await desk.type(MAX, f"/ticket undo {n}")
    assert "taken back: nothing was sent" in said
    await worker(desk, sink).deliver_due()
    desk.clock.forward(timedelta(seconds=HOLD + 1))
    await worker(desk, sink).deliver_due()
    assert replies_in(sink) == []


async def test_undo_puts_back_only_what_the_reply_changed(desk: Desk, sink: SmtpSink) -> None:
    n = await mail(desk)
    await desk.type(BEN, f"/ticket claim {n}")  # Ben has it: Ana's reply does not assign it
    await desk.type(ANA, f"/ticket reply {n} {TEXT}")
    await desk.type(BEN, f"/ticket status {n} waiting_on_third_party")  # changed since the reply: stays
    said = await desk.type(ANA, f"/ticket undo {n}")
    assert "taken back" in said
    after = await ticket(desk.core, n)
    assert after is not None and after.status == Status.WAITING_ON_THIRD_PARTY and after.assignee_id is not None
    assert after.first_response_at is None


async def test_a_claimed_mail_cannot_be_taken_back_and_a_taken_back_one_is_never_claimed(
        desk: Desk, sink: SmtpSink) -> None:
    """The race with the worker: one conditional statement decides, whichever comes first."""
    ctx = desk.core.ctx
    n = await mail(desk)
    await desk.type(ANA, f"/ticket reply {n} {TEXT}")
    desk.clock.forward(timedelta(seconds=HOLD + 1))
    [claimed] = [c for c in await delivery.claim(ctx, limit=10, lease=timedelta(minutes=5)) if c.kind == "reply"]
    with pytest.raises(Refused, match="already sent"):
        await undo.undo_reply(ctx, ANA, n)
    await delivery.mark_sent(ctx, claimed.id)

    m = await mail(desk)
    await desk.type(ANA, f"/ticket reply {m} {TEXT}")
    await undo.undo_reply(ctx, ANA, m)
    desk.clock.forward(timedelta(seconds=HOLD + 1))
    assert [c for c in await delivery.claim(ctx, limit=10, lease=timedelta(minutes=5)) if c.kind == "reply"] == []


async def test_an_undo_and_another_instances_claim_at_the_same_moment_never_both_win(
        desk: Desk, sink: SmtpSink, database: Database, tmp_path: Path) -> None:
    """Two instances whose clocks differ by the window: one's worker finds the mail due while the other's
    agent is still inside it. Run at once, exactly one of them wins, every time."""
    other = await build_core(make_settings(database, tmp_path), engine=database.engine())
    other.ctx.clock = lambda: desk.clock.now + timedelta(seconds=HOLD + 1)
    try:
        for _ in range(4):
            n = await mail(desk)
            await desk.type(ANA, f"/ticket reply {n} {TEXT}")
            claimed, undone = await asyncio.gather(delivery.claim(other.ctx, limit=10, lease=timedelta(minutes=5)),
                                                   undo.undo_reply(desk.core.ctx, ANA, n), return_exceptions=True)
            assert not isinstance(claimed, BaseException), claimed
            assert undone is None or not isinstance(undone, BaseException) or isinstance(undone, Refused), undone
            sent = any(c.kind == "reply" and c.ticket_id == n for c in claimed)
            assert sent != (not isinstance(undone, Refused)), "one of them, never both, never neither"
            for c in claimed:
                await delivery.mark_sent(other.ctx, c.id)
            replies_left = [m.kind for m in await outbox(desk.core, n) if m.kind == "reply"]
            assert replies_left == (["reply"] if sent else [])
    finally:
        await other.close()


async def test_a_restart_during_the_hold_still_sends_the_reply_once(
        desk: Desk, sink: SmtpSink, database: Database, tmp_path: Path) -> None:
    n = await mail(desk)
    await desk.type(ANA, f"/ticket reply {n} {TEXT}")
    # The bot stops during the window; a new process (its own core, its own worker) and the old one both run.
    again = await build_core(make_settings(database, tmp_path, undo_seconds=HOLD), engine=database.engine())
    again.ctx.clock = desk.clock
    try:
        restarted = OutboxWorker(again.ctx, SmtpTransport(sink.host, sink.port, starttls=False, timeout=10),
                                 max_attempts=3, backoff_seconds=5)
        await restarted.deliver_due()
        assert replies_in(sink) == []
        desk.clock.forward(timedelta(seconds=HOLD + 1))
        await asyncio.gather(restarted.deliver_due(), worker(desk, sink).deliver_due())
        await restarted.deliver_due()
        assert [TEXT in body for body in replies_in(sink)] == [True]
    finally:
        await again.close()


async def test_the_running_worker_sends_a_held_reply_once_due(database: Database, tmp_path: Path,
                                                              sink: SmtpSink) -> None:
    """With the real clock and a short hold: the worker's idle tick picks the mail up when it is due."""
    core = await build_core(make_settings(database, tmp_path, undo_seconds=0.3), engine=database.engine())
    stop = asyncio.Event()
    out = OutboxWorker(core.ctx, SmtpTransport(sink.host, sink.port, starttls=False, timeout=10),
                       max_attempts=3, backoff_seconds=5)
    running = asyncio.create_task(out.run(stop))
    try:
        n = (await deliver(core, raw_mail())).ticket_number
        assert n is not None
        result = await replies.reply(core.ctx, Actor("U0ANA", "Ana", in_tickets_channel=True), n, TEXT)
        assert result.held_until is not None
        async with asyncio.timeout(WAIT):
            while not replies_in(sink):
                await asyncio.sleep(0.05)
        assert [TEXT in body for body in replies_in(sink)] == [True]
    finally:
        stop.set()
        await running
        await core.close()
