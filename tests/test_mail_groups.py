"""Mail stored in groups (what one IMAP fetch brings): parsed in the helper process, stored together,
and each mail still handled on its own when something goes wrong."""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
from collections.abc import AsyncIterator

import pytest

from bot.app import Core
from bot.handlers.ports import UnitOfWork
from bot.mail import pipeline as pipeline_module
from bot.mail.pipeline import MailPipeline
from tests.support.mails import messages, new_message_id, raw_mail, ticket_count


@pytest.fixture
async def pipeline(core: Core) -> AsyncIterator[MailPipeline]:
    p = MailPipeline(core.ctx)
    try:
        yield p
    finally:
        p.close(wait=True)


def conversation(customers: int) -> list[bytes]:
    """Each customer writes, then answers their own first mail: the reply must find a ticket made
    in the same group (or the group before)."""
    firsts = [(f"Customer {i} <c{i}@customer.example>", new_message_id()) for i in range(customers)]
    mails = [raw_mail(frm=frm, subject=f"Question {i}", message_id=mid) for i, (frm, mid) in enumerate(firsts)]
    mails += [raw_mail(frm=frm, subject=f"Re: Question {i}", in_reply_to=mid, body="Any news?")
              for i, (frm, mid) in enumerate(firsts)]
    return mails


def parser_processes() -> list[multiprocessing.Process]:
    return [p for p in multiprocessing.active_children() if p.is_alive()]


async def test_a_fetch_is_parsed_in_the_helper_process_and_replies_find_their_tickets(
        core: Core, pipeline: MailPipeline) -> None:
    results = await pipeline.process_many([(raw, None) for raw in conversation(12)], source="test")
    assert [r.outcome.action for r in results if r.outcome] == ["created"] * 12 + ["appended"] * 12
    assert parser_processes(), "the mails were not parsed in a helper process"
    assert await ticket_count(core) == 12
    for number in range(1, 13):
        assert len(await messages(core, number)) == 2


async def test_the_cursor_step_of_a_group_runs_once_with_its_last_mail(core: Core, pipeline: MailPipeline,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline_module, "GROUP", 4)
    steps: list[int] = []

    def step(i: int):  # type: ignore[no-untyped-def]
        async def run(uow: UnitOfWork) -> None:
            steps.append(i)
        return run

    mails = conversation(5)
    await pipeline.process_many([(raw, step(i)) for i, raw in enumerate(mails)], source="test")
    assert steps[-1] == len(mails) - 1 and steps == sorted(steps) and len(steps) < len(mails)
    assert await ticket_count(core) == 5


async def test_a_dead_parser_process_costs_speed_not_mail(core: Core, pipeline: MailPipeline,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    await pipeline.process_many([(raw, None) for raw in conversation(2)], source="test")
    for process in parser_processes():
        assert process.pid is not None
        os.kill(process.pid, signal.SIGKILL)
        process.join(5)
    with caplog.at_level(logging.WARNING, logger="bot.mail.parse_pool"):
        results = await pipeline.process_many([(raw, None) for raw in conversation(3)], source="test")
    assert [r.outcome.action for r in results if r.outcome] == ["created"] * 3 + ["appended"] * 3
    assert await ticket_count(core) == 5
    assert "parsing in the main process" in caplog.text


async def test_a_mail_that_fails_in_a_group_is_quarantined_and_the_rest_are_stored(
        core: Core, pipeline: MailPipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.handlers import intake

    real_route = intake._route

    async def route(ctx, uow, mail):  # type: ignore[no-untyped-def]
        if mail.subject == "Question 1":
            raise RuntimeError("a bug this mail trips")
        return await real_route(ctx, uow, mail)

    monkeypatch.setattr(intake, "_route", route)
    results = await pipeline.process_many([(raw, None) for raw in conversation(3)], source="test")
    assert [r.ok for r in results] == [True, False, True, True, True, True]
    async with core.ctx.uow() as uow:
        [held] = await uow.quarantine.unresolved()
    assert "a bug this mail trips" in held.reason
    # Question 0 and 2 with their replies; the reply to Question 1 finds no ticket, so it opens one.
    assert [r.outcome.action for r in results if r.outcome] == ["created", "created", "appended", "created", "appended"]
    async with core.ctx.uow() as uow:  # not ticket_count: PostgreSQL does not take back the numbers the group used
        assert sorted(t.subject for t in await uow.tickets.active()) == ["Question 0", "Question 2", "Re: Question 1"]
