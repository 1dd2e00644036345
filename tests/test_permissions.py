"""Who may do what, tried through the console door on SQLite and PostgreSQL: every `/ticket` action a
stranger or a light agent tries is refused privately with no effect on the store (no mail queued, no
change, only the audit row saying who tried what); the right role succeeds; private teams stay private."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.adapters.console import ConsoleAdapter
from bot.app import Core, build_core
from bot.domain.access import Action, Identity, Role, Roster, Standing, TicketScope, decide, standing_of
from bot.domain.model import Message
from bot.domain.workflow import WorkflowError, parse_workflow
from bot.handlers import queries, tickets
from bot.handlers.context import Actor
from bot.handlers.permissions import Denied, may
from bot.store import orm
from tests.conftest import make_settings
from tests.support.db import Database
from tests.support.mails import deliver, raw_mail
from tests.support.people import OPERATOR
from tests.support.store_state import refusals, store_state

WORKFLOW = """
default_team = "billing"

[[teams]]
name = "billing"
members = ["U0ANA", "U0BEN"]

[[teams]]
name = "vault"
private = true
members = ["U0VIC"]

[roles]
admins = ["U0ADM"]
managers = ["U0MGR"]
light = ["U0LIT"]

[[rules]]
to = ["vault@helpdesk.test"]
team = "vault"
"""

SECRET = "SECRET-NOTE: the customer's card ends 4242"
ANA = Actor("U0ANA", "Ana")
LIGHT = Actor("U0LIT", "Lee Light")

# Every /ticket action, with a line that would change something if allowed. Ticket 1 and 2 are billing's,
# 3 is the private vault's; task 1 is on ticket 1.
ACTIONS: dict[str, str] = {
    "show": "/ticket show 1",
    "history": "/ticket history 1",
    "note": "/ticket note 1 psst",
    "claim": "/ticket claim 1",
    "assign": "/ticket assign 1 @U0BEN",
    "priority": "/ticket priority 1 urgent",
    "status": "/ticket status 1 waiting on customer",
    "category": "/ticket category 1 technical",
    "tag": "/ticket tag 1 +vip",
    "task": "/ticket task 1 call back",
    "done": "/ticket done 1",
    "reply": "/ticket reply 1 Hello from chat",
    "merge": "/ticket merge 2 into 1",
    "close": "/ticket close 1",
    "reopen": "/ticket reopen 1",
    "child": "/ticket child 1 Order a spare part",
    "ask": "/ticket ask 1 expert@supplier.example | Is this charge ours?",
    "new": "/ticket new someone@outside.example | Hello | Written down from a call",
    "send": "/ticket new someone@outside.example | Hello | Mailed from chat | send",
    "queue": "/ticket queue",
    "mine": "/ticket mine",
    "tasks": "/ticket tasks",
    "next": "/ticket next",
    "report": "/ticket report week billing",
    "time": "/ticket time 1 25m checked the invoice run",
    "move": "/ticket move 1 vault",  # last: ticket 1 is the private team's from here on
}
LIGHT_MAY = {"show", "history", "note"}  # once pulled into ticket 1


@pytest.fixture
async def desk(database: Database, tmp_path: Path) -> AsyncIterator[Core]:
    path = tmp_path / "workflow.toml"
    path.write_text(WORKFLOW)
    core = await build_core(make_settings(database, tmp_path, workflow_file=path), engine=database.engine())
    for subject, to in (("Invoice twice", "support"), ("Invoice again", "support"), ("Vault key", "vault"),
                        ("Solved already", "support")):
        await deliver(core, raw_mail(subject=subject, to=f"{to}@helpdesk.test"))
    await tickets.add_note(core.ctx, ANA, 1, SECRET)
    await tickets.close(core.ctx, ANA, 4)
    console, _ = at_console(core, ANA)
    await console.execute("/ticket task 1 check the invoice run")
    yield core
    await core.close()


def at_console(core: Core, actor: Actor) -> tuple[ConsoleAdapter, io.StringIO]:
    out = io.StringIO()
    return ConsoleAdapter(core.ctx, out, actor=actor), out


async def try_each(core: Core, actor: Actor, verbs: list[str]) -> list[str]:
    """Run each action as `actor`; what went wrong, for one readable assertion."""
    problems = []
    for verb in verbs:
        before = await store_state(core)
        tried = len(await refusals(core, actor))
        console, out = at_console(core, actor)
        await console.execute(ACTIONS[verb])
        said = out.getvalue()
        if await store_state(core) != before:
            problems.append(f"{verb}: the store changed")
        if not said.startswith("✗") or "only" not in said and "pulled into" not in said:
            problems.append(f"{verb}: not refused, said {said[:120]!r}")
        if SECRET in said or "Invoice twice" in said:
            problems.append(f"{verb}: leaked ticket content")
        if len(await refusals(core, actor)) != tried + 1:
            problems.append(f"{verb}: no audit row for the refusal")
    return problems


async def test_a_stranger_is_refused_every_action_with_no_effect(desk: Core) -> None:
    stranger = Actor("U0EVE", "Eve", in_tickets_channel=True)  # in the channel, but the roster does not name her
    assert await try_each(desk, stranger, list(ACTIONS)) == []
    assert all(who_tried for who_tried in await refusals(desk, stranger))


async def test_a_light_agent_not_pulled_in_is_refused_everything(desk: Core) -> None:
    assert await try_each(desk, LIGHT, list(ACTIONS)) == []


async def test_a_light_agent_pulled_in_reads_and_notes_but_never_mails_or_closes(desk: Core) -> None:
    assert await tickets.add_collaborator(desk.ctx, ANA, 1, LIGHT)  # Ana mentions Lee in #1's thread
    console, out = at_console(desk, LIGHT)
    await console.execute("/ticket show 1")
    assert SECRET in out.getvalue(), "pulled in, the expert sees the whole context"
    await console.execute("/open 1")
    await console.execute("Checked with the bank: a double charge, refund it.")
    notes = [m.body_text for m in await _messages(desk, 1)]
    assert "Checked with the bank: a double charge, refund it." in notes
    on_ticket_one = [v for v, line in ACTIONS.items() if v not in LIGHT_MAY and " 1 " in line + " "]
    assert await try_each(desk, LIGHT, on_ticket_one) == []
    console, out = at_console(desk, LIGHT)
    await console.execute("/ticket reply 1 Refund done")
    assert "you were pulled into #1 to help" in out.getvalue()


async def test_the_teams_agent_can_do_every_action(desk: Core) -> None:
    failed = []
    for verb, line in ACTIONS.items():
        before = await store_state(desk)
        console, out = at_console(desk, ANA)
        await console.execute(line)
        said = out.getvalue()
        if "✗" in said:
            failed.append(f"{verb}: {said[:160]!r}")
        elif verb not in {"show", "history", "queue", "mine", "tasks", "report"} and await store_state(desk) == before:
            failed.append(f"{verb}: nothing changed")
    assert failed == [], "\n".join(failed)
    async with desk.ctx.uow() as uow:
        mailed = [m.to_addr for m in await uow.outbox.for_ticket(1) if m.kind == "reply"]
    assert mailed == ["mia@customer.example"]


async def test_private_team_tickets_are_hidden_from_other_agents_and_shown_to_managers(desk: Core) -> None:
    console, out = at_console(desk, ANA)
    await console.execute("/ticket show 3")
    assert "private team vault" in out.getvalue() and "Vault key" not in out.getvalue()
    assert 3 not in [t.number for t in await queries.queue(desk.ctx, ANA)]
    manager, victor = Actor("U0MGR", "Max"), Actor("U0VIC", "Victor")
    assert 3 in [t.number for t in await queries.queue(desk.ctx, manager)]
    assert 3 in [t.number for t in await queries.queue(desk.ctx, victor)]
    assert (await tickets.claim(desk.ctx, victor, 3)).ticket.assignee == "Victor"
    with pytest.raises(Denied, match="only agents of vault can reply to #1|only agents of billing"):
        await tickets.claim(desk.ctx, victor, 1)


async def test_assigning_to_someone_who_is_not_an_agent_of_the_team_is_refused(desk: Core) -> None:
    console, out = at_console(desk, ANA)
    await console.execute("/ticket assign 1 @U0EVE")
    assert "is not an agent who can work #1" in out.getvalue()
    await console.execute("/ticket assign 1 @U0VIC")  # an agent, but of another team
    assert out.getvalue().count("is not an agent who can work #1") == 2
    assert (await _ticket_assignee(desk, 1)) is None


async def test_sending_to_outside_addresses_is_limited_per_agent_and_hour(desk: Core, tmp_path: Path) -> None:
    limit = desk.ctx.config.send_limit_per_hour
    console, out = at_console(desk, ANA)
    for i in range(limit + 1):
        await console.execute(f"/ticket new supplier{i}@outside.example | Order {i} | Please send {i} | send")
    assert "the most allowed" in out.getvalue().split("✗")[-1]
    async with desk.engine.connect() as conn:
        sent = (await conn.execute(select(orm.outbox.c.to_addr).where(orm.outbox.c.kind == "reply"))).all()
    assert len(sent) == limit


async def test_the_console_operator_is_admin(desk: Core) -> None:
    assert (await queries.show(desk.ctx, OPERATOR, 3)).ticket.subject == "Vault key"


def test_the_policy_reads_as_a_table() -> None:
    """The decision itself, without a store: the rules a reviewer checks."""
    roster = Roster(managers=frozenset({"m"}), light=frozenset({"l"}))
    teams = [("billing", ["U1"]), ("vault", ["U2"])]

    def who(key: str, *, channel: bool = False, roster: Roster = roster, teams: list = teams) -> Standing:  # type: ignore[type-arg]
        return standing_of(Identity(frozenset({key}), channel), roster, teams)

    billing = TicketScope(1, "billing", team_has_members=True)
    vault = TicketScope(2, "vault", team_private=True, team_has_members=True)
    assert who("u1").role == Role.AGENT and decide(who("u1"), Action.REPLY, billing) is None
    assert decide(who("u2"), Action.REPLY, billing) == "only agents of billing can reply to #1"
    assert decide(who("u2"), Action.SHOW, billing) is None  # a public team's ticket: other agents may read it
    assert decide(who("u1"), Action.SHOW, vault) is not None
    assert decide(who("m"), Action.REPLY, vault) is None
    assert decide(who("m"), Action.CONFIGURE) == "only admins can change the configuration"
    assert who("x", channel=True).role == Role.STRANGER  # a roster exists: the channel grants nothing
    assert who("x", channel=True, roster=Roster(), teams=[]).role == Role.AGENT  # no roster: the channel decides
    assert who("x", roster=Roster(), teams=[]).role == Role.STRANGER
    light = who("l")
    assert decide(light, Action.NOTE, billing) is not None
    assert decide(light, Action.NOTE, TicketScope(1, "billing", pulled_in=True)) is None
    assert decide(light, Action.REPLY, TicketScope(1, "billing", pulled_in=True)) is not None
    assert decide(Standing(Role.STRANGER, frozenset(), True), Action.QUEUE) is not None


async def _messages(core: Core, number: int) -> list[Message]:
    async with core.ctx.uow() as uow:
        return list(await uow.messages.for_ticket(number))


async def _ticket_assignee(core: Core, number: int) -> int | None:
    async with core.ctx.uow() as uow:
        t = await uow.tickets.get(number)
        assert t is not None
        return t.assignee_id


def test_the_roles_table_is_checked_when_the_workflow_is_read() -> None:
    with pytest.raises(WorkflowError, match="roles.owners is not a role"):
        parse_workflow({"roles": {"owners": ["U1"]}})
    with pytest.raises(WorkflowError, match="roles.admins must be a list"):
        parse_workflow({"roles": {"admins": "U1"}})
    flow = parse_workflow({"roles": {"light": ["it@example.com"]}, "teams": [{"name": "hr", "private": True}]})
    assert flow.roster.light == {"it@example.com"} and flow.require_team("hr").private


async def test_asking_what_a_door_may_offer_audits_nothing(desk: Core) -> None:
    stranger = Actor("U0EVE", "Eve")
    assert not await may(desk.ctx, stranger, Action.QUEUE) and not await may(desk.ctx, stranger, Action.SHOW, 1)
    assert await may(desk.ctx, ANA, Action.REPLY, 1) and not await may(desk.ctx, ANA, Action.SHOW, 3)
    assert not await may(desk.ctx, ANA, Action.SHOW, 99)
    assert await refusals(desk, stranger) == []


async def test_a_new_agents_first_actions_at_once_all_happen(desk: Core) -> None:
    """Their agent record is made once, before the actions: none of them loses a race for it."""
    newcomer = Actor("U0BEN", "Ben", "ben@helpdesk.test")
    notes = await asyncio.gather(*(tickets.add_note(desk.ctx, newcomer, n, f"first look at #{n}") for n in (1, 2, 4)))
    assert [r.summary.split()[0] for r in notes] == ["#1", "#2", "#4"]
    async with desk.ctx.uow() as uow:
        assert (await uow.agents.by_chat_user_id("U0BEN")) is not None


async def test_a_colleague_pulled_into_several_tickets_at_once_is_on_each(desk: Core) -> None:
    """The colleague's agent record is made once, before the pull-ins: none of them loses a race for it
    (a mention in two threads at once used to roll one of them back)."""
    for i in range(4):  # a few newcomers, each mentioned in three threads at once
        newcomer = Actor(f"U0NEW{i}", f"Newcomer {i}")
        added = await asyncio.gather(*(tickets.add_collaborator(desk.ctx, ANA, n, newcomer) for n in (1, 2, 4)))
        assert added == [True, True, True]
    added = await asyncio.gather(*(tickets.add_collaborator(desk.ctx, ANA, n, LIGHT) for n in (1, 2, 4)))
    assert added == [True, True, True]
    for n in (1, 2, 4):
        assert await may(desk.ctx, LIGHT, Action.SHOW, n)  # pulled in: the light agent may read each
