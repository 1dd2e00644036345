"""Notices kept with their cause (bot.handlers.notices): written in the change's transaction, shown once per platform.

The chat deliverers (bot.chat.notices) are tested on each platform; these hold the store's side of
the promise: no notice without its cause, none lost with a rolled-back cause, one per cause however
often it is recorded, and each platform claiming, finishing and retrying its own delivery.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.app import Core
from bot.handlers import events, intake, notices, tasks
from tests.support.mails import deliver, raw_mail
from tests.support.people import OPERATOR

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def _kinds(core: Core) -> list[tuple[str, str]]:
    async with core.ctx.uow() as uow:
        rows = [await uow.notices.claim(i, "probe", "reader", core.ctx.clock(), core.ctx.clock())
                for i in await uow.notices.due("probe", T0 - timedelta(days=1), core.ctx.clock(), 100)]
    return [(r.kind, r.key) for r in rows if r is not None]  # rolled back: the probe claims nothing


async def test_a_notice_is_kept_with_its_cause_and_not_without_it(core: Core) -> None:
    core.ctx.clock = Clock(T0)
    number = (await deliver(core, raw_mail())).ticket_number
    task = await tasks.add_task(core.ctx, OPERATOR, number, "call Mia back", due_at=T0 + timedelta(hours=1))

    core.ctx.clock.now = T0 + timedelta(hours=2)
    with pytest.raises(RuntimeError):  # the reminder's transaction fails after the event was made
        async with core.ctx.transaction() as uow:
            for due in await uow.tasks.due_unreminded(core.ctx.clock()):
                due.reminded_at = core.ctx.clock()
            uow.events.append(events.MailQuarantined(99, "x@example.test", "s", "r", "test"))
            raise RuntimeError("crash before the commit")
    assert await _kinds(core) == []

    assert await tasks.remind_due(core.ctx) == 1
    assert await _kinds(core) == [("task_due", f"task_due:{task.id}")]
    assert await tasks.remind_due(core.ctx) == 0  # the task is reminded once: no second notice


async def test_one_notice_per_cause_however_often_it_is_announced(core: Core) -> None:
    core.ctx.clock = Clock(T0)
    item = await intake.quarantine(core.ctx, b"not a mail", "unparseable", source="test")
    async with core.ctx.transaction() as uow:  # told again (the quarantine sweep of another process)
        uow.events.append(events.MailQuarantined(item, "", "", "unparseable", "test"))
    assert await _kinds(core) == [("quarantine", f"quarantine:{item}")]


async def test_each_platform_delivers_once_and_retries_on_its_own(core: Core) -> None:
    ctx = core.ctx
    ctx.clock = Clock(T0)
    item = await intake.quarantine(ctx, b"not a mail", "unparseable", source="test")
    since, lease = T0 - timedelta(hours=1), timedelta(minutes=2)

    slack = await notices.claim(ctx, "slack", "slack-1", since=since, lease=lease)
    assert [(row.key, row.attempts, type(event).__name__) for row, event in slack] == \
        [(f"quarantine:{item}", 1, "MailQuarantined")]
    assert await notices.claim(ctx, "slack", "slack-2", since=since, lease=lease) == []  # leased to slack-1
    discord = await notices.claim(ctx, "discord", "discord-1", since=since, lease=lease)
    assert len(discord) == 1  # every platform shows every notice

    notice_id = slack[0][0].id
    await notices.delivered(ctx, "slack", "slack-1", notice_id, "1700000000.000100")
    await notices.retry_later(ctx, "discord", "discord-1", notice_id, timedelta(seconds=30), "HTTP 500")
    ctx.clock.now = T0 + timedelta(minutes=5)  # every lease has run out
    assert await notices.claim(ctx, "slack", "slack-2", since=since, lease=lease) == []  # shown: never again
    again = await notices.claim(ctx, "discord", "discord-2", since=since, lease=lease)
    assert [row.attempts for row, _ in again] == [2]  # the retry knows it may have been posted before

    await notices.give_up(ctx, "discord", "discord-2", notice_id, "channel_not_found")
    ctx.clock.now = T0 + timedelta(hours=1)
    assert await notices.claim(ctx, "discord", "discord-3", since=since, lease=lease) == []


async def test_a_crashed_deliverer_s_notice_is_taken_over_when_its_lease_runs_out(core: Core) -> None:
    ctx = core.ctx
    ctx.clock = Clock(T0)
    await intake.quarantine(ctx, b"not a mail", "unparseable", source="test")
    since = T0 - timedelta(hours=1)
    assert len(await notices.claim(ctx, "slack", "crashed", since=since, lease=timedelta(minutes=2))) == 1
    ctx.clock.now = T0 + timedelta(minutes=1)
    assert await notices.claim(ctx, "slack", "restarted", since=since, lease=timedelta(minutes=2)) == []
    ctx.clock.now = T0 + timedelta(minutes=3)
    taken = await notices.claim(ctx, "slack", "restarted", since=since, lease=timedelta(minutes=2))
    assert [row.attempts for row, _ in taken] == [2]


async def test_old_notices_are_purged_and_not_shown_by_a_platform_added_later(core: Core) -> None:
    ctx = core.ctx
    ctx.clock = Clock(T0)
    await intake.quarantine(ctx, b"not a mail", "unparseable", source="test")
    ctx.clock.now = T0 + timedelta(days=2)
    assert await notices.claim(ctx, "discord", "d", since=ctx.clock() - timedelta(days=1),
                               lease=timedelta(minutes=2)) == []
    ctx.clock.now = T0 + notices.KEEP + timedelta(days=1)
    assert await notices.purge(ctx) == 1
