"""Search through every door: saved views at the console, `tiketti search`, Slack's `/ticket search` (as Slack
escapes it), Discord's `/helpdesk search` and `/ticket queue view:`; and the migration indexing what was there."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert

from bot.adapters.console import ConsoleAdapter
from bot.app import Core, build_core
from bot.domain.model import MessageKind
from bot.domain.priority import Priority
from bot.domain.status import Status
from bot.domain.workflow import WorkflowError, parse_workflow
from bot.handlers import search, tickets
from bot.handlers.context import Actor
from bot.store import orm
from bot.store.migrate import upgrade
from tests.conftest import make_settings
from tests.support.cli import run_tiketti
from tests.support.db import Database
from tests.support.discord_bot import ANA as DISCORD_ANA
from tests.support.discord_bot import running_discord_bot
from tests.support.mails import deliver, raw_mail
from tests.support.people import OPERATOR
from tests.support.slack_bot import block_text, eventually, running_bot
from tests.support.store_state import refusals

WORKFLOW = """
default_team = "billing"

[[teams]]
name = "billing"
members = ["U0ANA"]

[[teams]]
name = "vault"
private = true
members = ["U0VIC"]

[[rules]]
to = ["vault@helpdesk.test"]
team = "vault"

[[views]]
name = "billing-open"
title = "Billing, still open"
team = "billing"
query = "status:open"

[[views]]
name = "vault-all"
team = "vault"
query = "sort:newest"

[[views]]
name = "nobodys"
query = "assignee:none status:open"
"""

ANA = Actor("U0ANA", "Ana Agent")
VIC = Actor("U0VIC", "Vic Vault")


@pytest.fixture
async def desk(database: Database, tmp_path: Path) -> AsyncIterator[Core]:
    path = tmp_path / "workflow.toml"
    path.write_text(WORKFLOW)
    core = await build_core(make_settings(database, tmp_path, workflow_file=path), engine=database.engine())
    yield core
    await core.close()


async def mail(core: Core, subject: str, body: str = "Hello.", to: str = "support@helpdesk.test") -> int:
    outcome = await deliver(core, raw_mail(subject=subject, body=body, to=to))
    assert outcome.ticket_number is not None
    return outcome.ticket_number


async def at_console(core: Core, actor: Actor, line: str) -> str:
    out = io.StringIO()
    await ConsoleAdapter(core.ctx, out, actor=actor).execute(line)
    return out.getvalue()


async def test_a_saved_view_at_the_console(desk: Core) -> None:
    printer = await mail(desk, "Printer jammed")
    invoice = await mail(desk, "Invoice wrong")
    done = await mail(desk, "Old invoice question")
    await tickets.close(desk.ctx, ANA, done)
    await mail(desk, "Vault door stuck", to="vault@helpdesk.test")

    said = await at_console(desk, ANA, "/ticket queue billing-open")
    assert "2 tickets, newest first — View Billing, still open" in said
    assert "Printer jammed" in said and "Invoice wrong" in said and "Old invoice" not in said and "Vault" not in said
    narrowed = await search.run_view(desk.ctx, ANA, "billing-open invoice")  # words after the name narrow it
    assert [t.number for t in narrowed.tickets] == [invoice]
    assert [t.number for t in (await search.run_view(desk.ctx, ANA, "nobodys")).tickets] == [invoice, printer]

    unknown = await at_console(desk, ANA, "/ticket queue nosuch")
    assert "no view called 'nosuch'; views: billing-open, nobodys" in unknown  # not the private team's
    before = len(await refusals(desk, ANA))
    refused = await at_console(desk, ANA, "/ticket queue vault-all")
    assert "belongs to the private team vault" in refused and "Vault door" not in refused
    assert len(await refusals(desk, ANA)) == before + 1
    assert "Vault door stuck" in await at_console(desk, VIC, "/ticket queue vault-all")
    assert search.view_names(desk.ctx, VIC) == ["billing-open", "vault-all", "nobodys"]


async def test_the_console_pages_and_says_how_to_see_the_next_page(desk: Core) -> None:
    for i in range(23):
        await mail(desk, f"Parcel {i} missing")
    first = await at_console(desk, ANA, "/ticket search parcel")
    assert "23 tickets, page 1 of 2, best first (add page:2 for more) — Search: parcel" in first
    second = await at_console(desk, ANA, "/ticket search parcel page:2")
    assert "page 2 of 2" in second and "for more" not in second
    assert "Search: parcel shredder: no tickets found" in await at_console(desk, ANA, "/ticket search parcel shredder")
    assert "after:someday is not a date" in await at_console(desk, ANA, "/ticket search after:someday")


def test_views_are_checked_when_the_workflow_is_read() -> None:
    teams = [{"name": "billing"}]
    for views, message in (
        ([{"name": "x"}], r"views\[0\].query is required"),
        ([{"name": "two words", "query": "a"}], "must be one word"),
        ([{"name": "x", "query": "a", "team": "nope"}], "'nope' is not one of the teams"),
        ([{"name": "x", "query": "before:never"}], r"views\[0\].query: before:never is not a date"),
        ([{"name": "x", "query": "a"}, {"name": "X", "query": "b"}], "already defined"),
    ):
        with pytest.raises(WorkflowError, match=message):
            parse_workflow({"teams": teams, "views": views})


async def test_the_migration_indexes_what_was_stored_before_it(database: Database, tmp_path: Path) -> None:
    engine = database.engine()
    await upgrade(engine, "0010")
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    async with engine.begin() as conn:
        await conn.execute(insert(orm.contacts).values(id=1, email="mia@customer.example", name="Mia", created_at=now))
        await conn.execute(insert(orm.tickets).values(
            id=1, subject="Old printer trouble", requester_id=1, status=Status.OPEN, priority=Priority.NORMAL,
            tags=[], references=[], sla_events=[], created_at=now, updated_at=now))
        for i, (kind, text) in enumerate(((MessageKind.INBOUND, "The toner smells of almonds."),
                                          (MessageKind.NOTE, "Internal: vendor ticket zx81."))):
            await conn.execute(insert(orm.messages).values(
                id=i + 1, ticket_id=1, kind=kind, created_at=now, body_text=text, body_display=text, author_label="x"))
    core = await build_core(make_settings(database, tmp_path), engine=engine)  # upgrades to head: 0011 indexes
    try:
        for words in ("printer", "almonds", "zx81"):
            assert [t.number for t in (await search.search(core.ctx, OPERATOR, words)).tickets] == [1], words
        n = await mail(core, "New one about almonds")  # and the index is kept from then on
        assert [t.number for t in (await search.search(core.ctx, OPERATOR, "almonds sort:newest")).tickets] == [n, 1]
    finally:
        await core.close()


async def test_tiketti_search_on_the_command_line(cli_env: dict[str, str], tmp_path: Path) -> None:
    for i, (sender, subject) in enumerate((("mia@customer.example", "Printer on fire"),
                                           ("olli@other.example", "Printer out of paper"),
                                           ("mia@customer.example", "Invoice question"))):
        mail_ = raw_mail(frm=sender, subject=subject, body="Please help.", message_id=f"<cli{i}@customer.example>")
        assert run_tiketti(["ingest"], env=cli_env, cwd=tmp_path, stdin=mail_).returncode == 0

    found = run_tiketti(["search", "printer", "from:customer.example"], env=cli_env, cwd=tmp_path)
    assert found.returncode == 0, found.stderr.decode()
    lines = found.stdout.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("#1 ") and "new" in lines[0]
    assert "mia@customer.example" in lines[0] and lines[0].endswith("Printer on fire")
    assert "1 ticket" in found.stderr.decode()
    newest = run_tiketti(["search", "--page", "1"], env=cli_env, cwd=tmp_path)
    assert [line.split()[0] for line in newest.stdout.decode().splitlines()] == ["#3", "#2", "#1"]
    bad = run_tiketti(["search", "priority:hi"], env=cli_env, cwd=tmp_path)
    assert bad.returncode == 64 and "unknown priority" in bad.stderr.decode()


async def test_slack_search_reads_what_slack_sends(sqlite_database: Database, tmp_path: Path) -> None:
    path = tmp_path / "workflow.toml"
    path.write_text(WORKFLOW)
    async with running_bot(sqlite_database, tmp_path, workflow_file=path) as bot:
        mine = await bot.mail(raw_mail(subject="Refund & invoice", frm="Mia <mia@customer.example>"))
        await bot.mail(raw_mail(subject="Refund please", frm="Olli <olli@other.example>"))
        await bot.settled()
        await tickets.claim(bot.core.ctx, ANA, mine)
        before = len(bot.slack.responses)
        # as Slack sends it with escaping on: a picked person is a mention, an address a mailto link, & an entity
        text = "search refund &amp; from:<mailto:mia@customer.example|mia@customer.example> assignee:<@U0ANA|ana>"
        assert (await bot.send(bot.requests.command(text, user="U0ANA"))).status == 200
        [answer] = await eventually(lambda: bot.slack.responses[before:])
        said = answer["text"] + "\n" + block_text(answer.get("blocks") or [])
        assert answer["response_type"] == "ephemeral"
        assert "Refund &amp; invoice" in said or "Refund & invoice" in said
        assert "Refund please" not in said and "1 ticket" in said


async def test_discord_search_and_a_view_with_autocomplete(sqlite_database: Database, tmp_path: Path) -> None:
    path = tmp_path / "workflow.toml"
    # no members named: the tickets channel's members are the agents (the private vault is nobody's but managers')
    path.write_text(WORKFLOW.replace('members = ["U0ANA"]\n', "").replace('members = ["U0VIC"]\n', ""))
    async with running_discord_bot(sqlite_database, tmp_path, workflow_file=path) as bot:
        await bot.mail(raw_mail(subject="Headset crackles"))
        await bot.mail(raw_mail(subject="Keyboard sticky"))
        await bot.settled()
        found = await bot.slash("search", DISCORD_ANA, query="headset status:open")
        content = found.followups[0]["content"]
        assert found.ephemeral and "Headset crackles" in content and "Keyboard" not in content
        offered = await bot.autocomplete("queue", DISCORD_ANA, "view", "bill")
        assert [c["value"] for c in offered] == ["billing-open"]  # vault-all is the private team's
        view = await bot.slash("queue", DISCORD_ANA, view="billing-open")
        assert "Billing, still open" in view.followups[0]["content"] and "Keyboard sticky" in view.followups[0]["content"]
        queue = await bot.slash("queue", DISCORD_ANA)  # without a view: the queue as before
        assert "Headset crackles" in queue.followups[0]["content"]
