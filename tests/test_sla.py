"""Service levels: business-hours arithmetic, due times on tickets, pauses, warnings and breaches.

The calendar is tested as pure arithmetic. The rest goes through the real mail
intake and the handlers with the clock frozen (Monday 30 November 2026, 15:00 in
Helsinki), on SQLite and PostgreSQL; the Slack test reads the thread as agents would.
"""

from __future__ import annotations

import tomllib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import Core, build_core
from bot.domain.priority import Priority
from bot.domain.sla import Calendar, answer_by_words, parse_sla, time_left_words
from bot.domain.status import Status
from bot.domain.workflow import WorkflowError, parse_workflow
from bot.handlers import events, queries, replies, sla, tickets
from bot.handlers.context import Actor, agent_for
from tests.conftest import make_settings
from tests.support.db import Database
from tests.support.mails import deliver, outbox, parse_sent, raw_mail, text_body, ticket
from tests.support.people import OPERATOR

SLA = """
[[rules]]
from = ["bigcorp.example"]
priority = "low"

[sla]
timezone = "Europe/Helsinki"
workdays = ["mon", "tue", "wed", "thu", "fri"]
hours = "08:00-16:00"
holidays = "FI"
warn_before_minutes = 30

[sla.targets]
urgent = { first_response = "30m", resolution = "4h" }
normal = { first_response = "4h", resolution = "2d" }
low = { first_response = "1d", resolution = "5d" }

[[sla.overrides]]
name = "bigcorp"
customers = ["bigcorp.example"]
low = { first_response = "1h" }
"""

ANA = Actor("U0ANA", "Ana", "ana@helpdesk.test", in_tickets_channel=True)
MONDAY_15_HELSINKI = datetime(2026, 11, 30, 13, 0, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, moment: datetime) -> None:
        self.now = moment


# --- the calendar, pure -------------------------------------------------------------------

HELSINKI = parse_sla(tomllib.loads(SLA)["sla"]).calendar


def test_business_time_skips_nights_and_weekends() -> None:
    friday_15 = utc(2026, 11, 27, 13)  # 15:00 in Helsinki
    assert HELSINKI.add_business_time(friday_15, timedelta(hours=1)) == utc(2026, 11, 27, 14)  # 16:00, closing
    assert HELSINKI.add_business_time(friday_15, timedelta(hours=3)) == utc(2026, 11, 30, 8)  # Monday 10:00
    late_night = utc(2026, 11, 30, 22)  # Tuesday 00:00 local
    assert HELSINKI.add_business_time(late_night, timedelta(minutes=30)) == utc(2026, 12, 1, 6, 30)
    assert HELSINKI.business_time_between(friday_15, utc(2026, 11, 30, 8)) == timedelta(hours=3)
    assert HELSINKI.business_time_between(utc(2026, 11, 30, 8), friday_15) == -timedelta(hours=3)
    saturday, sunday = utc(2026, 11, 28, 9), utc(2026, 11, 29, 9)
    assert HELSINKI.business_time_between(saturday, sunday) == timedelta(0)


def test_public_holidays_are_closed() -> None:
    wednesday_15 = utc(2026, 12, 23, 13)
    # Christmas Eve, Christmas Day (Thu, Fri), then a weekend with St Stephen's Day: Monday 28th 09:00.
    assert HELSINKI.add_business_time(wednesday_15, timedelta(hours=2)) == utc(2026, 12, 28, 7)
    assert HELSINKI.business_time_between(wednesday_15, utc(2026, 12, 28, 7)) == timedelta(hours=2)
    assert not HELSINKI.is_working_day(datetime(2026, 12, 24).date())
    closed = Calendar(timezone="Europe/Helsinki", closed_days=frozenset({datetime(2026, 12, 22).date()}))
    assert not closed.is_working_day(datetime(2026, 12, 22).date())


def test_time_zones_and_daylight_saving() -> None:
    new_york = Calendar(timezone="America/New_York", opens=datetime(1, 1, 1, 9).time(),
                        closes=datetime(1, 1, 1, 17).time())
    friday_16_est = utc(2026, 3, 6, 21)  # 16:00 in New York, UTC-5
    # One hour on Friday; clocks go forward on Sunday 8 March, so Monday 09:00 is 13:00 UTC.
    assert new_york.add_business_time(friday_16_est, timedelta(hours=2)) == utc(2026, 3, 9, 14)
    assert new_york.business_time_between(friday_16_est, utc(2026, 3, 9, 14)) == timedelta(hours=2)
    assert HELSINKI.add_business_time(friday_16_est, timedelta(0)) == utc(2026, 3, 9, 6)  # Helsinki opens first


def test_words_for_people() -> None:
    now = MONDAY_15_HELSINKI
    assert time_left_words("first reply", now + timedelta(minutes=45), now) == "first reply due in 45 min"
    assert time_left_words("resolution", now - timedelta(hours=2), now) == "resolution overdue by 2 h"
    tuesday_11 = HELSINKI.add_business_time(now, timedelta(hours=4))
    assert answer_by_words(tuesday_11, HELSINKI, now) == "by Tuesday 11:00 (Europe/Helsinki time)"


def test_the_sla_section_is_checked() -> None:
    with pytest.raises(WorkflowError, match="not a duration"):
        parse_workflow(tomllib.loads('[sla.targets]\nnormal = { first_response = "soon" }'))
    with pytest.raises(WorkflowError, match="time zone"):
        parse_workflow(tomllib.loads('[sla]\ntimezone = "Mars/Olympus"'))
    with pytest.raises(WorkflowError, match="not one of the teams"):
        parse_workflow(tomllib.loads('[[sla.overrides]]\nteam = "nobody"\nnormal = { first_response = "1h" }'))
    assert parse_workflow({}).sla is None
    two_days = parse_sla(tomllib.loads(SLA)["sla"]).default.targets[Priority.NORMAL].resolution
    assert two_days == timedelta(hours=16)  # a day is one working day of opening hours


# --- tickets, through the real intake ----------------------------------------------------------

@pytest.fixture
async def desk(database: Database, tmp_path: Path) -> AsyncIterator[Core]:
    path = tmp_path / "workflow.toml"
    path.write_text(SLA)
    core = await build_core(make_settings(database, tmp_path, workflow_file=path), engine=database.engine())
    core.ctx.clock = Clock(MONDAY_15_HELSINKI)
    async with core.ctx.uow() as uow:
        await agent_for(uow, ANA, core.ctx.clock())
        await uow.commit()
    yield core
    await core.close()


def clock(core: Core) -> Clock:
    assert isinstance(core.ctx.clock, Clock)
    return core.ctx.clock


async def test_a_new_ticket_gets_due_times_and_the_ack_promises_the_first_reply(desk: Core) -> None:
    number = (await deliver(desk, raw_mail())).ticket_number
    assert number is not None
    t = await ticket(desk, number)
    assert t is not None and t.sla_policy == "default/normal"
    assert t.first_response_due_at == utc(2026, 12, 1, 9)  # Tuesday 11:00 in Helsinki
    assert t.resolution_due_at == utc(2026, 12, 2, 13)  # 16 business hours: Wednesday 15:00
    [ack] = await outbox(desk, number)
    assert "We will answer by Tuesday 11:00 (Europe/Helsinki time)." in " ".join(text_body(parse_sent(ack.raw)).split())


async def test_without_an_sla_section_nothing_changes(sqlite_database: Database, tmp_path: Path) -> None:
    core = await build_core(make_settings(sqlite_database, tmp_path), engine=sqlite_database.engine())
    try:
        number = (await deliver(core, raw_mail())).ticket_number
        t = await ticket(core, number)  # type: ignore[arg-type]
        assert t is not None and (t.sla_policy, t.first_response_due_at, t.resolution_due_at) == (None, None, None)
        assert "within one business day" in text_body(parse_sent((await outbox(core, number))[0].raw))  # type: ignore[arg-type]
        assert await sla.check_sla(core.ctx) == 0
    finally:
        await core.close()


async def test_waiting_on_the_customer_pauses_the_clock(desk: Core) -> None:
    first_mid = "<first.sla@customer.example>"
    number = (await deliver(desk, raw_mail(message_id=first_mid))).ticket_number
    assert number is not None
    clock(desk).set(utc(2026, 11, 30, 13, 30))  # Monday 15:30 local
    await replies.reply(desk.ctx, ANA, number, "Which printer model is it?")
    t = await ticket(desk, number)
    assert t is not None and t.status == Status.WAITING_ON_CUSTOMER and t.sla_paused_since == clock(desk).now
    clock(desk).set(utc(2026, 12, 3, 7))  # Thursday 09:00: the old resolution due time has passed
    assert await sla.check_sla(desk.ctx) == 0  # paused: no warning, no breach
    clock(desk).set(utc(2026, 12, 1, 8))  # (rewind) Tuesday 10:00: 0.5 h Monday + 2 h Tuesday paused
    await deliver(desk, raw_mail(in_reply_to=first_mid, references=(first_mid,), subject="Re: Printer",
                                 body="It is an HP 4000."))
    t = await ticket(desk, number)
    assert t is not None and t.status == Status.CUSTOMER_REPLIED and t.sla_paused_since is None
    # Wednesday 15:00 + 2.5 business hours: 1 h on Wednesday, 1.5 h on Thursday morning.
    assert t.resolution_due_at == utc(2026, 12, 3, 7, 30)
    actions = [h.action for h in await queries.history(desk.ctx, OPERATOR, number)]
    assert "sla_paused" in actions and "sla_resumed" in actions


async def test_priority_change_recomputes_the_due_times(desk: Core) -> None:
    number = (await deliver(desk, raw_mail())).ticket_number
    assert number is not None
    clock(desk).set(utc(2026, 11, 30, 13, 10))
    await tickets.set_priority(desk.ctx, ANA, number, Priority.URGENT)
    t = await ticket(desk, number)
    assert t is not None and t.sla_policy == "default/urgent"
    assert t.first_response_due_at == utc(2026, 11, 30, 13, 30)  # 30 min from creation
    assert t.resolution_due_at == utc(2026, 12, 1, 9)  # 1 h on Monday, 3 h on Tuesday


async def test_warning_and_breach_fire_once_each_at_the_right_time(desk: Core) -> None:
    seen: list[object] = []

    async def record(event: object) -> None:
        seen.append(event)

    desk.ctx.bus.subscribe(events.SlaWarning, record)
    desk.ctx.bus.subscribe(events.SlaBreached, record)
    number = (await deliver(desk, raw_mail())).ticket_number
    assert number is not None
    assert await sla.check_sla(desk.ctx) == 0
    clock(desk).set(utc(2026, 12, 1, 8, 29))  # Tuesday 10:29: 31 min before the first reply is due
    assert await sla.check_sla(desk.ctx) == 0
    clock(desk).set(utc(2026, 12, 1, 8, 31))
    assert await sla.check_sla(desk.ctx) == 1
    assert await sla.check_sla(desk.ctx) == 0
    [warning] = seen
    assert isinstance(warning, events.SlaWarning) and warning.clock == "first_response"
    assert warning.due_at == utc(2026, 12, 1, 9) and warning.ticket.first_response_due_at == warning.due_at
    clock(desk).set(utc(2026, 12, 1, 9, 1))
    assert await sla.check_sla(desk.ctx) == 1
    assert await sla.check_sla(desk.ctx) == 0
    breach = seen[-1]
    assert isinstance(breach, events.SlaBreached) and breach.clock == "first_response"
    t = await ticket(desk, number)
    assert t is not None and t.first_response_breached_at == utc(2026, 12, 1, 9) and t.resolution_breached_at is None
    assert ("sla_breached", "first_response_breached_at") in [(h.action, h.field) for h in
                                                             await queries.history(desk.ctx, OPERATOR, number)]
    clock(desk).set(utc(2026, 12, 2, 12, 45))  # resolution due Wednesday 15:00 local: warning, then breach
    await replies.reply(desk.ctx, ANA, number, "On it.")  # answered late; waiting on the customer now
    assert await sla.check_sla(desk.ctx) == 0  # paused
    assert len(seen) == 2


async def test_queues_put_the_nearest_due_time_first(desk: Core) -> None:
    normal = (await deliver(desk, raw_mail(subject="Normal"))).ticket_number
    clock(desk).set(utc(2026, 11, 30, 13, 10))
    vip_low = (await deliver(desk, raw_mail(frm="boss@eu.bigcorp.example", subject="Low but VIP"))).ticket_number
    t = await ticket(desk, vip_low)  # type: ignore[arg-type]
    assert t is not None and t.sla_policy == "bigcorp/low"
    assert t.first_response_due_at == utc(2026, 12, 1, 6, 10)  # 50 min Monday, 10 min Tuesday morning
    async with desk.ctx.uow() as uow:
        assert [x.number for x in await uow.tickets.active()] == [vip_low, normal]


def test_the_example_workflow_file_parses_with_its_sla_section() -> None:
    example = Path(__file__).parent.parent / "config" / "workflow.example.toml"
    wf = parse_workflow(tomllib.loads(example.read_text()))
    assert wf.sla is not None and wf.sla.calendar.country == "FI"
    assert wf.sla.policy_for("mia@bigcorp.com", "billing").name == "bigcorp"
    assert wf.sla.policy_for("mia@example.com", "billing").name == "billing"
    assert wf.sla.policy_for("mia@example.com", "support").name == "default"
