"""The managers' figures against a day whose right answers were worked out by hand.

Tickets come in as mail and are worked by agents through the handlers, with the
clock frozen at each step; only team, category and service-level columns (which
other parts of the workflow own) are set directly in the store. Runs on SQLite
and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.app import Core
from bot.handlers import events, replies, reports, tickets
from bot.handlers.context import Actor
from tests.support.mails import deliver, raw_mail

ANA = Actor("U0ANA", "Ana", "ana@helpdesk.test", in_tickets_channel=True)
BEN = Actor("U0BEN", "Ben", "ben@helpdesk.test", in_tickets_channel=True)
DAY = datetime(2025, 3, 3, tzinfo=UTC)  # a Monday
NEXT = DAY + timedelta(days=1)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def at(hour: float, day: datetime = DAY) -> datetime:
    return day + timedelta(hours=hour)


async def seed(core: Core) -> dict[str, int]:
    """The day (times UTC), and what each ticket contributes:

    #5  created Sunday 20:00, first answer Monday 08:00 by Ana (12 h)          — still open
    #1  08:00, Ana answers 08:30 (30 min), solves 10:00 (2 h)                  — support, technical
    #2  09:00, Ben answers 10:00 (60 min), solves 13:00, reopens 14:00, solves 15:00 (6 h) — support, technical
    #3  09:30, Ana answers 11:30 (2 h)                                          — billing, billing, open
    #4  11:00, nobody answers                                                   — billing, no category, open
    """
    clock = Clock(at(-4))
    core.ctx.clock = clock

    async def mail(hour: float, subject: str) -> int:
        clock.now = at(hour)
        outcome = await deliver(core, raw_mail(subject=subject, frm=f"c{hour}@customer.example"))
        assert outcome.ticket_number is not None
        return outcome.ticket_number

    def now(hour: float) -> None:
        clock.now = at(hour)

    old = await mail(-4, "Old one")
    t1 = await mail(8, "Printer")
    now(8)
    await replies.reply(core.ctx, ANA, old, "Looking at it")
    now(8.5)
    await replies.reply(core.ctx, ANA, t1, "Try this")
    t2 = await mail(9, "Invoice")
    t3 = await mail(9.5, "Refund")
    now(10)
    await replies.reply(core.ctx, BEN, t2, "Sorted")
    await tickets.close(core.ctx, ANA, t1)
    t4 = await mail(11, "Password")
    now(11.5)
    await replies.reply(core.ctx, ANA, t3, "On it")
    now(13)
    await tickets.close(core.ctx, BEN, t2)
    now(14)
    await tickets.reopen(core.ctx, BEN, t2)
    now(15)
    await tickets.close(core.ctx, BEN, t2)

    # What routing and the SLA clock would have set: teams, categories, due times and breaches.
    facts = {
        old: (None, None, None, None),
        t1: ("support", "technical", at(9), None),  # due, met
        t2: ("support", "technical", at(12), at(12)),  # solved after its breach
        t3: ("billing", "billing", None, None),
        t4: ("billing", None, at(12), at(12)),  # breached and still open
    }
    async with core.ctx.uow() as uow:
        for number, (team, category, due, breached) in facts.items():
            t = await uow.tickets.get(number, for_update=True)
            assert t is not None
            t.team, t.category = team, category
            t.first_response_due_at = t.resolution_due_at = None
            t.first_response_breached_at = None
            t.resolution_due_at, t.resolution_breached_at = due, breached
        await uow.commit()
    return {"old": old, "t1": t1, "t2": t2, "t3": t3, "t4": t4}


async def test_a_days_figures_are_the_ones_worked_out_by_hand(core: Core) -> None:
    n = await seed(core)
    r = await reports.build_report(core.ctx, DAY, NEXT)
    assert (r.new, r.solved, r.reopened, r.backlog) == (4, 2, 1, 3)
    minutes = 60
    # First answers in the day: 30, 60, 120, 720 min. Median (60+120)/2; p90 at rank 2.7: 120 + 0.7 * 600.
    assert r.first_response.count == 4
    assert r.first_response.median == 90 * minutes
    assert r.first_response.p90 == pytest.approx(540 * minutes)
    # Solved: 2 h and 6 h. Median 4 h; p90 at rank 0.9: 2 h + 0.9 * 4 h.
    assert (r.resolution.median, r.resolution.p90) == (4 * 3600, pytest.approx(5.6 * 3600))
    assert (r.sla_solved, r.sla_met, r.sla_compliance, r.breaches_now) == (2, 1, 0.5, 1)
    assert dict(r.by_category) == {"technical": 2, "billing": 1, "uncategorised": 1}
    assert r.by_category[0] == ("technical", 2)
    assert dict(r.by_team) == {"support": 2, "billing": 2}
    assert r.by_hour[8] == 1 and r.by_hour[9] == 2 and r.by_hour[11] == 1 and sum(r.by_hour) == 4
    assert r.by_weekday == [4, 0, 0, 0, 0, 0, 0]
    assert r.busiest_hours[0] == 9 and r.busiest_weekdays == ["Mon"]
    # Ben solved one with a 60 min first answer; Ana solved one, first answers 30, 120, 720 -> median 120.
    board = [(a.name, a.solved, a.median_first_response) for a in r.leaderboard]
    assert board == [("Ben", 1, 60 * minutes), ("Ana", 1, 120 * minutes)]
    assert [o.number for o in r.oldest] == [n["old"], n["t3"], n["t4"]]
    assert len(r.hourly) == 24 and sum(c for _, c in r.hourly) == 4
    assert r.backlog_trend == [(DAY.date(), 3)]


async def test_a_team_sees_only_its_own_tickets(core: Core) -> None:
    await seed(core)
    r = await reports.build_report(core.ctx, DAY, NEXT, team="support")
    assert (r.new, r.solved, r.reopened, r.backlog, r.breaches_now) == (2, 2, 1, 0, 0)
    assert r.first_response.median == 45 * 60  # 30 and 60 min
    assert [o.number for o in r.oldest] == []


async def test_the_digest_covers_yesterday_and_charts_the_week(core: Core) -> None:
    await seed(core)
    seen: list[events.DigestReady] = []

    async def keep(event: events.DigestReady) -> None:
        seen.append(event)

    core.ctx.bus.subscribe(events.DigestReady, keep)
    core.ctx.clock = Clock(NEXT + timedelta(hours=7))
    await reports.publish_digest(core.ctx)
    (digest,) = seen
    assert (digest.report.start, digest.report.end) == (DAY, NEXT)
    assert (digest.report.new, digest.report.solved) == (4, 2)
    assert digest.week is not None and digest.week.start == NEXT - timedelta(days=7)
    # Backlog at the end of each day of the week: the Sunday ticket from Sunday on, three on Monday.
    assert [v for _, v in digest.week.backlog_trend][-2:] == [1, 3]
    assert [c.filename for c in digest.charts] == ["volume-by-hour.png", "backlog-trend.png"]
    assert all(c.png.startswith(b"\x89PNG\r\n\x1a\n") for c in digest.charts)


def test_periods_people_type() -> None:
    now = datetime(2025, 3, 5, 15, 30, tzinfo=UTC)
    assert reports.parse_period("today", now) == (datetime(2025, 3, 5, tzinfo=UTC), now, None)
    assert reports.parse_period("week support", now) == (datetime(2025, 2, 27, tzinfo=UTC), now, "support")
    assert reports.parse_period("month", now)[0] == datetime(2025, 2, 4, tzinfo=UTC)
    assert reports.parse_period("2025-03-01..2025-03-02 billing", now) == (
        datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 3, 3, tzinfo=UTC), "billing")
    helsinki = reports.parse_period("today", now, "Europe/Helsinki")[0]
    assert helsinki == datetime(2025, 3, 4, 22, tzinfo=UTC)


def test_percentiles_interpolate_between_ranks() -> None:
    assert reports.percentile([], 50) is None
    assert reports.percentile([5.0], 90) == 5.0
    assert reports.percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert reports.percentile([10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0], 90) == pytest.approx(91.0)
