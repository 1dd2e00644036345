"""Time tracking as agents and managers meet it: `/ticket time`, the Reply forms' "Time spent" field,
the total on the ticket's card and in `/ticket show`, and the sums in `/ticket report` and the CSV.

The console runs the chat layer as Slack and Discord do (tests/support/console_desk.py); the Reply
forms are submitted through the fake Slack (a signed view_submission) and the fake Discord (a modal
submit). On SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.adapters.discord import controls
from bot.adapters.discord import digest as discord_digest
from bot.adapters.discord.reply_form import REPLY_TEXT, REPLY_TIME
from bot.adapters.slack import digest as slack_digest
from bot.adapters.slack import ticket_blocks
from bot.app import Core, build_core
from bot.domain.errors import InvalidInput
from bot.domain.time_spent import parse_duration, split_spent
from bot.handlers import reports, time_tracking
from bot.handlers.context import Actor
from bot.settings import Settings
from bot.store import orm
from tests.support.cli import run_tiketti
from tests.support.console_desk import Desk, console_desk
from tests.support.db import Database
from tests.support.discord_bot import BEN, running_discord_bot
from tests.support.mails import deliver, raw_mail
from tests.support.slack_bot import block_text, eventually, running_bot
from tests.support.store_state import refusals, store_state

WORKFLOW = """
default_team = "support"

[[teams]]
name = "support"
members = ["U0ANA", "U0BEN"]

[[teams]]
name = "billing"
members = ["U0ANA", "U0BEN"]

[[rules]]
to = ["billing@helpdesk.test"]
team = "billing"

[roles]
light = ["U0LEE"]
managers = ["U0MGR"]
"""

ANA, BEN_, LEE, MGR = Actor("U0ANA", "Ana"), Actor("U0BEN", "Ben"), Actor("U0LEE", "Lee"), Actor("U0MGR", "Mo")


@pytest.fixture
async def desk(database: Database, tmp_path: Path) -> AsyncIterator[Desk]:
    async with console_desk(database, tmp_path, WORKFLOW) as d:
        yield d


async def mail(core: Core, **kw: str) -> int:
    number = (await deliver(core, raw_mail(**kw))).ticket_number
    assert number is not None
    return number


async def entries(core: Core) -> list[tuple[int, int, str, str]]:
    """(ticket, minutes, source, note) of every time entry, in the order logged."""
    e = orm.time_entries.c
    async with core.engine.connect() as conn:
        rows = await conn.execute(select(e.ticket_id, e.minutes, e.source, e.note).order_by(e.id))
        return [(int(t), int(m), s, n) for t, m, s, n in rows]


def test_durations_are_read_as_agents_write_them() -> None:
    for typed, minutes in (("25m", 25), ("1h", 60), ("1h30m", 90), ("1.5h", 90), ("90", 90), ("1 h 30 min", 90),
                           ("2 hours", 120), ("1,5h", 90)):
        assert parse_duration(typed) == minutes, typed
    for wrong in ("0", "0m", "-5m", "25x", "soon", "1h1h", "25h", "30 1h", ""):
        with pytest.raises(InvalidInput):
            parse_duration(wrong)
    assert split_spent("1h 30m called the bank") == (90, "called the bank")
    assert split_spent("25m 3 printers reset") == (25, "3 printers reset")  # a bare number after is the note's
    assert split_spent("-15m logged twice") == (-15, "logged twice")


async def test_time_is_summed_on_the_card_and_in_show_and_corrected_only_by_its_logger(desk: Desk) -> None:
    n = await mail(desk.core, subject="Ledger is off")
    await desk.settled()
    said = await desk.type(ANA, f"/ticket time {n} 25m checked the ledger")
    assert "25 min logged by Ana: checked the ledger" in said
    await desk.type(BEN_, f"/ticket time {n} 1h")
    [root] = desk.surface.channel()
    assert "time spent: ⏱ 1 h 25 min" in root  # the card re-rendered with the total
    assert "time spent: ⏱ 1 h 25 min" in await desk.type(ANA, f"/ticket show {n}")

    # Ana logged 25 minutes: she may take back 15 of them, not an hour, and never Ben's.
    assert "taken back" in await desk.type(ANA, f"/ticket time {n} -15m logged twice")
    before = await store_state(desk.core)
    refused = await desk.type(ANA, f"/ticket time {n} -1h")
    assert "you logged only 10 min" in refused and await store_state(desk.core) == before
    [root] = desk.surface.channel()
    assert "time spent: ⏱ 1 h 10 min" in root
    assert await entries(desk.core) == [(n, 25, "command", "checked the ledger"), (n, 60, "command", ""),
                                        (n, -15, "correction", "logged twice")]
    history = await desk.type(ANA, f"/ticket history {n}")
    assert "time_logged" in history and "time_corrected" in history


async def test_a_bad_duration_is_refused_with_what_to_write(desk: Desk) -> None:
    n = await mail(desk.core)
    await desk.type(ANA, f"/ticket show {n}")  # her first action makes her agent record
    before = await store_state(desk.core)
    for line, words in ((f"/ticket time {n} soon", "not a duration: 'soon'; write e.g. 25m, 1h, 1h30m"),
                        (f"/ticket time {n} 0m", "is no time at all; write e.g. 25m"),
                        (f"/ticket time {n} 30h", "is more than a day; log each day's work as its own entry"),
                        (f"/ticket time {n}", "usage: /ticket time N 25m")):
        said = await desk.type(ANA, line)
        assert said.startswith("✗") and words in said, said
    assert await store_state(desk.core) == before


async def test_a_light_agent_or_a_stranger_may_not_log_time(desk: Desk) -> None:
    n = await mail(desk.core, subject="Secret salary list")
    await desk.type(ANA, f"/open {n}", "@U0LEE can you check?")  # pulled in: may read and write notes only
    await desk.settled()
    for who in (LEE, Actor("U0EVE", "Eve", in_tickets_channel=True)):
        before, tried = await store_state(desk.core), len(await refusals(desk.core, who))
        said = await desk.type(who, f"/ticket time {n} 25m", f"/ticket time {n} soon")
        assert said.count("✗") == 2 and "log time on" in said and "Secret salary" not in said
        assert await store_state(desk.core) == before
        assert len(await refusals(desk.core, who)) == tried + 2  # each refusal audited


async def test_the_report_sums_time_per_agent_customer_organisation_and_team(desk: Desk) -> None:
    core = desk.core
    old = await mail(core, frm="Mia <mia@customer.example>", subject="Last month")
    await time_tracking.log_time(core.ctx, ANA, old, 300)  # before the week the report covers
    desk.clock.forward(timedelta(days=10))
    mia = await mail(core, frm="Mia <mia@customer.example>", subject="Printer")
    olli = await mail(core, frm="Olli <olli@other.example>", to="billing@helpdesk.test", subject="Invoice")
    pia = await mail(core, frm="Pia <pia@customer.example>", to="billing@helpdesk.test", subject="Refund")
    for who, n, minutes in ((ANA, mia, 25), (BEN_, mia, 60), (ANA, olli, 90), (BEN_, pia, 45), (BEN_, pia, -15)):
        await time_tracking.log_time(core.ctx, who, n, minutes)
    await desk.settled()

    now = desk.clock()
    report = await reports.build_report(core.ctx, now - timedelta(days=7), now)
    t = report.time_spent
    assert t.total == 205
    assert t.by_agent == [("Ana", 115), ("Ben", 90)]
    assert t.by_customer == [("olli@other.example", 90), ("mia@customer.example", 85), ("pia@customer.example", 30)]
    assert t.by_organisation == [("customer.example", 115), ("other.example", 90)]
    assert t.by_team == [("billing", 120), ("support", 85)]
    billing = await reports.build_report(core.ctx, now - timedelta(days=7), now, team="billing")
    assert billing.time_spent.by_agent == [("Ana", 90), ("Ben", 30)]
    # The figures that were there before stay as they were.
    assert (report.new, report.backlog) == (3, 4)

    rows = {(s, k): v for s, k, v in reports.csv_rows(report)}
    assert rows[("time_spent_minutes", "total")] == "205"
    assert rows[("time_spent_minutes_by_organisation", "other.example")] == "90"

    slack = block_text(slack_digest.report_blocks(report, "Report"))
    assert "*Time spent* 3 h 25 min" in slack and "*By agent* Ana 1 h 55 min, Ben 1 h 30 min" in slack
    assert "*By customer* olli@other.example 1 h 30 min, mia@customer.example 1 h 25 min" in slack
    discord = discord_digest.report_text(report, "Report")
    assert "**Time spent** 3 h 25 min · **by agent** Ana 1 h 55 min, Ben 1 h 30 min" in discord
    assert "**by team** billing 2 h, support 1 h 25 min" in discord

    shown = await desk.type(MGR, "/ticket report week")
    assert "time spent 3 h 25 min" in shown
    assert "by agent: Ana 1 h 55 min, Ben 1 h 30 min" in shown
    assert "by organisation: customer.example 1 h 55 min, other.example 1 h 30 min" in shown
    assert "by team: billing 2 h, support 1 h 25 min" in shown


async def test_tiketti_report_csv_has_the_time_sections(cli_env: dict[str, str], tmp_path: Path) -> None:
    workflow = tmp_path / "workflow.toml"
    workflow.write_text(WORKFLOW)
    env = {**cli_env, "TIKETTI_WORKFLOW_FILE": str(workflow)}
    core = await build_core(Settings(database_url=env["TIKETTI_DATABASE_URL"], support_address="support@helpdesk.test",
                                     workflow_file=workflow))
    try:
        mia = await mail(core, frm="Mia <mia@customer.example>", subject="Printer")
        olli = await mail(core, frm="Olli <olli@other.example>", to="billing@helpdesk.test", subject="Invoice")
        await time_tracking.log_time(core.ctx, ANA, mia, 25, "reset the spooler")
        await time_tracking.log_time(core.ctx, BEN_, olli, 90)
        await time_tracking.log_time(core.ctx, ANA, olli, 30)
    finally:
        await core.close()

    res = run_tiketti(["report", "--csv"], env=env, cwd=tmp_path)
    assert res.returncode == 0, res.stderr.decode()
    rows = [tuple(r) for r in csv.reader(io.StringIO(res.stdout.decode()))]
    timed = [r for r in rows if r[0].startswith("time_spent_minutes")]
    assert timed == [
        ("time_spent_minutes", "total", "145"),
        ("time_spent_minutes_by_agent", "Ben", "90"), ("time_spent_minutes_by_agent", "Ana", "55"),
        ("time_spent_minutes_by_customer", "olli@other.example", "120"),
        ("time_spent_minutes_by_customer", "mia@customer.example", "25"),
        ("time_spent_minutes_by_organisation", "other.example", "120"),
        ("time_spent_minutes_by_organisation", "customer.example", "25"),
        ("time_spent_minutes_by_team", "billing", "120"), ("time_spent_minutes_by_team", "support", "25"),
    ]
    assert dict(((s, k), v) for s, k, v in rows[1:])[("tickets", "new")] == "2"  # the older figures are still there


async def test_the_slack_reply_form_logs_time_with_the_reply_and_refuses_a_bad_value(database: Database,
                                                                                     tmp_path: Path) -> None:
    async with running_bot(database, tmp_path) as bot:
        number = await bot.mail(raw_mail(subject="Where is my order"))
        await bot.settled()
        root = await bot.root_of(number)
        await bot.send(bot.requests.click(root.payload(), ticket_blocks.REPLY, user="U0ANA"))
        view = await eventually(lambda: next((v for v in bot.slack.views.values()
                                              if v.get("callback_id") == ticket_blocks.REPLY_MODAL), None))
        mails = len(bot.sink.received)

        bad = {ticket_blocks.REPLY_BLOCK: {ticket_blocks.REPLY_INPUT: "It ships tomorrow."},
               ticket_blocks.TIME_BLOCK: {ticket_blocks.TIME_INPUT: "a while"}}
        answer = (await bot.send(bot.requests.view_submission(view, bad, user="U0ANA"))).json()
        assert answer["response_action"] == "errors"
        assert "not a duration: 'a while'" in answer["errors"][ticket_blocks.TIME_BLOCK]
        await bot.settled()
        assert len(bot.sink.received) == mails and await entries(bot.core) == []

        good = {**bad, ticket_blocks.TIME_BLOCK: {ticket_blocks.TIME_INPUT: "1h30m"}}
        answer = (await bot.send(bot.requests.view_submission(view, good, user="U0ANA"))).json()
        assert answer["response_action"] == "update"
        await bot.settled()
        assert await entries(bot.core) == [(number, 90, "reply-form", "with the reply")]
        assert len([r for r in bot.sink.received if "ships tomorrow" in r.message.get_body(("plain",)).get_content()]) == 1
        await eventually(lambda: ":stopwatch: 1 h 30 min spent" in bot.root_text(root))

        before = len(bot.slack.responses)
        await bot.send(bot.requests.command(f"time {number} 25m checked the ledger", user="U0ANA"))
        [told] = await eventually(lambda: bot.slack.responses[before:])
        assert "25 min logged" in told["text"] + block_text(told.get("blocks") or [])
        await eventually(lambda: ":stopwatch: 1 h 55 min spent" in bot.root_text(root))


async def test_the_discord_reply_form_and_helpdesk_time_log_time(database: Database, tmp_path: Path) -> None:
    async with running_discord_bot(database, tmp_path) as bot:
        number = await bot.mail(raw_mail(subject="Where is my order"))
        await bot.settled()
        thread = await bot.thread_of(number)
        mails = len(bot.sink.received)

        form = await bot.click(controls.REPLY, thread, BEN)
        held = await bot.submit_modal(form, BEN, thread, fields={REPLY_TEXT: "It ships tomorrow.", REPLY_TIME: "ages"})
        said = held.followups[0]["content"] if held.kind == 5 else held.data["content"]
        assert said.startswith("⚠️ Not sent: Time spent: not a duration: 'ages'")
        await bot.settled()
        assert len(bot.sink.received) == mails and await entries(bot.core) == []

        again = await bot.press(held.followups[0] if held.kind == 5 else held.data, BEN)  # Review and send
        assert again.kind == 9
        sent = await bot.submit_modal(again, BEN, thread, fields={REPLY_TEXT: "It ships tomorrow.", REPLY_TIME: "45m"})
        assert "45 min logged" in (sent.followups[0]["content"] if sent.kind == 5 else sent.data["content"])
        await bot.settled()
        assert len(bot.sink.received) == mails + 1

        # the spent option is one duration, whatever its spaces: "1 h 15" is 75 minutes, the words are `what`
        logged = await bot.slash("time", BEN, number=number, spent="1 h 15", what="checked the ledger")
        assert "1 h 15 min logged" in (logged.followups[0]["content"] if logged.kind == 5 else logged.data["content"])
        assert await entries(bot.core) == [(number, 45, "reply-form", "with the reply"),
                                           (number, 75, "command", "checked the ledger")]

        def card_shows() -> bool:
            fields = bot.starter(thread)["embeds"][0]["fields"]
            return {"name": "Time spent", "value": "⏱ 2 h", "inline": True} in fields
        await eventually(card_shows)
