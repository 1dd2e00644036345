"""Macros (issue 14, point 2): several changes and a canned reply in one step, from the workflow file.

Through the real handlers and store, on SQLite and PostgreSQL: what a macro changes and how each change is
audited (the macro named), the reply mailed once after the changes, a refusal that changes nothing (a light
agent, a role the macro does not name, a reply on an internal ticket), and the console's `/ticket macro`.
The root's select is driven over the wire in tests/test_macros_doors.py.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.adapters.console import ConsoleAdapter
from bot.app import Core, build_core
from bot.domain.priority import Priority
from bot.domain.status import Status
from bot.domain.workflow import WorkflowError, parse_workflow
from bot.handlers import classify, macros, merge
from bot.handlers.context import Actor, ensure_agent
from bot.handlers.errors import Refused
from bot.handlers.permissions import Denied
from bot.store import orm
from tests.conftest import make_settings
from tests.support.db import Database
from tests.support.mails import deliver, messages, outbox, raw_mail, ticket
from tests.support.people import OPERATOR
from tests.support.store_state import refusals, store_state

WORKFLOW = """
default_team = "billing"

[[teams]]
name = "billing"
members = ["U0ANA", "U0BEN"]
statuses = [{ name = "on hold at bank", category = "waiting_on_third_party" }]

[[teams]]
name = "it"
members = ["U0IVY"]

[roles]
managers = ["U0MAX"]
light = ["U0LIT"]

[[macros]]
name = "refund-approved"
title = "Refund approved"
assign = "me"
status = "solved"
priority = "high"
category = "billing"
tags = ["+refund", "-pending"]
note = "Refund approved: the bank confirmed the double charge."
reply = "refund-done"
teams = ["billing"]

[[macros]]
name = "escalate"
title = "Escalate to IT"
team = "it"
priority = "urgent"
roles = ["managers"]

[[macros]]
name = "bank-hold"
title = "Hold at the bank"
status = "on hold at bank"
tags = ["+bank"]
"""
REFUND_DONE = """---
title: Refund done
---
Hi {{ customer.first_name or "there" }},

your refund for ticket #{{ ticket.number }} is on its way.

{{ agent.name }}
"""
ANA = Actor("U0ANA", "Ana")
MAX = Actor("U0MAX", "Max")
LEE = Actor("U0LIT", "Lee")


@pytest.fixture
async def desk(database: Database, tmp_path: Path) -> AsyncIterator[Core]:
    (tmp_path / "workflow.toml").write_text(WORKFLOW)
    (tmp_path / "replies").mkdir()
    (tmp_path / "replies" / "refund-done.md").write_text(REFUND_DONE)
    settings = make_settings(database, tmp_path, workflow_file=tmp_path / "workflow.toml",
                             replies_dir=tmp_path / "replies")
    core = await build_core(settings, engine=database.engine())
    yield core
    await core.close()


async def new_ticket(core: Core, subject: str = "Charged twice") -> int:
    outcome = await deliver(core, raw_mail(frm="Mia Customer <mia@customer.example>", subject=subject))
    assert outcome.ticket_number is not None
    return outcome.ticket_number


async def audit_rows(core: Core, number: int) -> list[tuple[str, str | None, str | None, str | None, str | None]]:
    a = orm.audit_events.c
    query = select(a.action, a.field, a.before, a.after, a.detail).where(a.ticket_id == number).order_by(a.id)
    async with core.engine.connect() as conn:
        return [tuple(r) for r in (await conn.execute(query)).all()]  # type: ignore[misc]


async def test_a_macro_makes_each_change_audited_with_its_name_and_mails_its_reply_once(desk: Core) -> None:
    n = await new_ticket(desk)
    await classify.tag(desk.ctx, ANA, n, ["pending", "vip"], [])
    before = len(await audit_rows(desk, n))

    result = await macros.apply_macro(desk.ctx, ANA, n, "Refund Approved")  # by title, any case

    t = await ticket(desk, n)
    assert t is not None
    assert (t.status, t.priority, t.category, t.tags) == (Status.SOLVED, Priority.HIGH, "billing", ["refund", "vip"])
    rows = (await audit_rows(desk, n))[before:]
    by_field = {(action, field): (old, new, detail) for action, field, old, new, detail in rows}
    assert by_field[("assigned", "assignee")] == (None, "Ana", "macro refund-approved")
    assert by_field[("status", "status")] == ("new", "solved", "macro refund-approved")
    assert by_field[("priority", "priority")] == ("normal", "high", "macro refund-approved")
    assert by_field[("category", "category")] == (None, "billing", "macro refund-approved")
    assert by_field[("tags", "tags")] == ("pending, vip", "refund, vip", "macro refund-approved")
    assert any(a == "note" and d and d.endswith("macro refund-approved") for a, _, _, _, d in rows)
    assert [a for a, *_ in rows].index("reply_queued") > [a for a, *_ in rows].index("tags"), "the reply comes last"

    replies = [row for row in await outbox(desk, n) if row.kind == "reply"]
    assert len(replies) == 1
    mailed = [m for m in await messages(desk, n) if m.kind.value == "reply"]
    assert len(mailed) == 1 and f"your refund for ticket #{n} is on its way" in mailed[0].body_text
    assert "Hi Mia" in mailed[0].body_text and "Ana" in mailed[0].body_text
    notes = [m.body_text for m in await messages(desk, n) if m.kind.value == "note"]
    assert notes == ["Refund approved: the bank confirmed the double charge."]
    assert result.summary.startswith(f"#{n} macro Refund approved: ") and "reply sent to mia@customer.example" in result.summary


async def test_a_custom_status_and_a_second_run_that_needs_nothing(desk: Core) -> None:
    n = await new_ticket(desk)
    result = await macros.apply_macro(desk.ctx, ANA, n, "bank-hold")
    t = await ticket(desk, n)
    assert t is not None and t.status == Status.WAITING_ON_THIRD_PARTY and t.status_label == "on hold at bank"
    assert "status on hold at bank" in result.summary and t.tags == ["bank"]
    state = await store_state(desk)
    with pytest.raises(Refused, match="in place already"):
        await macros.apply_macro(desk.ctx, ANA, n, "bank-hold")
    assert await store_state(desk) == state


async def test_a_light_agent_is_refused_once_and_nothing_changes(desk: Core) -> None:
    n = await new_ticket(desk)
    state = await store_state(desk)
    with pytest.raises(Denied, match="light agent"):
        await macros.apply_macro(desk.ctx, LEE, n, "refund-approved")
    assert await store_state(desk) == state
    assert await refusals(desk, LEE) == [("macro", f"a light agent can apply macros to only the tickets they were "
                                                   f"pulled into; #{n} is not one")]
    with pytest.raises(Denied, match="only the helpdesk's agents can apply macros"):
        await macros.list_macros(desk.ctx, LEE)


async def test_a_macro_for_managers_is_refused_to_an_agent_and_applied_by_a_manager(desk: Core) -> None:
    n = await new_ticket(desk)
    await ensure_agent(desk.ctx, ANA)  # an agent's record is made by whatever they do first
    state = await store_state(desk)
    with pytest.raises(Denied, match="only managers can apply the macro escalate"):
        await macros.apply_macro(desk.ctx, ANA, n, "escalate")
    assert await store_state(desk) == state and len(await refusals(desk, ANA)) == 1
    assert [m.name for m in await macros.list_macros(desk.ctx, ANA)] == ["refund-approved", "bank-hold"]

    await macros.apply_macro(desk.ctx, MAX, n, "escalate")
    t = await ticket(desk, n)
    assert t is not None and (t.team, t.priority) == ("it", Priority.URGENT)
    assert ("moved", "team", "billing", "it", "macro escalate") in await audit_rows(desk, n)
    assert [m.name for m in await macros.list_macros(desk.ctx, MAX)] == ["refund-approved", "escalate", "bank-hold"]


async def test_a_reply_on_an_internal_ticket_refuses_the_whole_macro(desk: Core) -> None:
    parent = await new_ticket(desk)
    child = await merge.split_child(desk.ctx, OPERATOR, parent, "Ask the bank", "billing")
    number = child.ticket.number
    await ensure_agent(desk.ctx, ANA)
    state = await store_state(desk)
    with pytest.raises(Refused, match="internal ticket"):
        await macros.apply_macro(desk.ctx, ANA, number, "refund-approved")
    assert await store_state(desk) == state


async def test_a_team_limited_macro_and_an_unknown_name(desk: Core) -> None:
    n = await new_ticket(desk)
    await macros.apply_macro(desk.ctx, MAX, n, "escalate")  # now with it
    with pytest.raises(Refused, match="for billing tickets; #.* is with it"):
        await macros.apply_macro(desk.ctx, MAX, n, "refund-approved")
    with pytest.raises(Refused, match="no macro named 'refund'.*refund-approved, escalate, bank-hold"):
        await macros.apply_macro(desk.ctx, MAX, n, "refund")


async def test_the_console_lists_and_applies_macros(desk: Core) -> None:
    n = await new_ticket(desk)
    out = io.StringIO()
    console = ConsoleAdapter(desk.ctx, out, actor=Actor("U0ANA", "Ana", in_tickets_channel=True))
    console.subscribe()
    await console.execute("/ticket macros")
    listed = out.getvalue()
    assert "Refund approved (refund-approved): assign me, status solved" in listed and "escalate" not in listed
    await console.execute(f"/ticket show {n}")
    assert "[macro]" in out.getvalue()
    await console.execute(f"/ticket macro {n} bank-hold")
    t = await ticket(desk, n)
    assert t is not None and t.tags == ["bank"]
    await console.execute(f"/ticket macro {n} escalate")
    assert "only managers can apply the macro escalate" in out.getvalue()


def test_a_wrong_word_in_a_macro_stops_the_workflow_at_load_naming_the_macro() -> None:
    teams = [{"name": "billing"}]
    for step, said in (({"status": "sovled"}, "unknown status"), ({"priority": "asap"}, "unknown priority"),
                       ({"category": "refunds"}, "category 'refunds'"), ({"team": "sales"}, "team 'sales'"),
                       ({"teams": ["sales"]}, "teams 'sales'"), ({"roles": ["light"]}, "roles 'light'"),
                       ({"tag": "+x"}, "'tag' is not a macro step"), ({}, "does nothing")):
        with pytest.raises(WorkflowError, match=f"macro 'oops'.*{said}|macro 'oops' {said}"):
            parse_workflow({"teams": teams, "macros": [{"name": "oops", **step}]})
    with pytest.raises(WorkflowError, match="two macros have the same name"):
        parse_workflow({"macros": [{"name": "a", "note": "x"}, {"name": "A", "note": "y"}]})


def test_the_example_workflows_macros_load_and_name_replies_that_exist() -> None:
    import tomllib

    root = Path(__file__).resolve().parent.parent
    wf = parse_workflow(tomllib.loads((root / "config" / "workflow.example.toml").read_text()))
    assert {"refund-approved", "spam"} <= {m.name for m in wf.macros}
    for m in wf.macros:
        if m.reply:
            assert list((root / "config" / "replies").glob(f"{m.reply}*.md")), m.reply
