"""The helpdesk workflow of a team: routing by config file, assignment, follow-ups, merge, children, tasks.

Mail comes in through the real pipeline; agents act through the handlers; the
results are checked as an agent would see them (team, assignee, status, the
thread's messages) and in the audit trail. Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import Core, build_core
from bot.domain.priority import Priority
from bot.domain.status import Status
from bot.domain.workflow import ChildSpec, Template
from bot.handlers import classify, collision, creation, events, lifecycle, merge, queries, replies, tasks, tickets
from bot.handlers.context import Actor, agent_for
from bot.handlers.errors import NotFound, Refused
from tests.conftest import make_settings
from tests.support.db import Database
from tests.support.mails import deliver, messages, outbox, parse_sent, raw_mail, ticket
from tests.support.people import OPERATOR

WORKFLOW = """
auto_close_days = 7
categories = ["billing", "complaint", "technical"]
default_team = "support"

[[teams]]
name = "support"
members = ["ana@helpdesk.test", "ben@helpdesk.test"]
assignment = "least_loaded"

[[teams]]
name = "complaints"
members = ["cid@helpdesk.test", "eva@helpdesk.test"]
assignment = "skills"
follow_up = "reopen"
statuses = [{ name = "on hold at vendor", category = "waiting on third party" }]

[[teams]]
name = "billing"
follow_up = "new_after_days"
follow_up_days = 14

[skills]
"eva@helpdesk.test" = ["technical"]

[roles]
agents = ["U0NEW"]  # an agent in no team: works the tickets of teams without members
managers = ["U0MGR"]

[[rules]]
keywords = ["reklamaatio*", "complaint"]
team = "complaints"
priority = "high"
category = "complaint"

[[rules]]
to = ["billing@helpdesk.test"]
team = "billing"
category = "billing"

[[rules]]
from = ["bigcorp.example"]
tags = ["vip"]
"""

ANA = Actor("U0ANA", "Ana", "ana@helpdesk.test", in_tickets_channel=True)
BEN = Actor("U0BEN", "Ben", "ben@helpdesk.test", in_tickets_channel=True)
CID = Actor("U0CID", "Cid", "cid@helpdesk.test", in_tickets_channel=True)
EVA = Actor("U0EVA", "Eva", "eva@helpdesk.test", in_tickets_channel=True)
NEWBIE = Actor("U0NEW", "Newbie")
MAX = Actor("U0MGR", "Max Manager")


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
async def desk(database: Database, tmp_path: Path) -> AsyncIterator[Core]:
    """The core with the workflow file above, a controllable clock, and the four agents known."""
    path = tmp_path / "workflow.toml"
    path.write_text(WORKFLOW)
    core = await build_core(make_settings(database, tmp_path, workflow_file=path), engine=database.engine())
    core.ctx.clock = Clock()
    for agent in (ANA, BEN, CID, EVA):  # agents exist once they have used chat
        async with core.ctx.uow() as uow:
            await agent_for(uow, agent, core.ctx.clock())
            await uow.commit()
    yield core
    await core.close()


async def history(core: Core, number: int) -> list[tuple[str, str | None, str | None]]:
    return [(h.action, h.after, h.detail) for h in await queries.history(core.ctx, OPERATOR, number)]


async def test_rules_from_the_workflow_file_route_new_mail(desk: Core) -> None:
    complaint = await deliver(desk, raw_mail(subject="Reklamaatio: rikki", body="Tuote saapui rikki."))
    billing = await deliver(desk, raw_mail(to="billing@helpdesk.test", subject="Invoice 1001"))
    vip = await deliver(desk, raw_mail(frm="boss@eu.bigcorp.example", subject="Hello"))
    plain = await deliver(desk, raw_mail(subject="Printer"))
    t = {n: await ticket(desk, n) for n in (complaint.ticket_number, billing.ticket_number, vip.ticket_number,
                                             plain.ticket_number)}
    c, b, v, p = (t[o.ticket_number] for o in (complaint, billing, vip, plain))  # type: ignore[index]
    assert (c.team, c.priority.value, c.category) == ("complaints", "high", "complaint")
    assert (b.team, b.category) == ("billing", "billing")
    assert (v.team, v.tags) == ("support", ["vip"])
    assert (p.team, p.category, p.tags) == ("support", None, [])
    assert ("routed", None, "rule 1 of the workflow file") in await history(desk, c.number)


async def test_least_loaded_assignment_balances_the_team(desk: Core) -> None:
    first = await deliver(desk, raw_mail(subject="One"))
    t1 = await ticket(desk, first.ticket_number)  # type: ignore[arg-type]
    assert t1 is not None and t1.status == Status.OPEN
    owners = []
    for i in range(5):
        outcome = await deliver(desk, raw_mail(subject=f"Ticket {i}"))
        owners.append((await ticket(desk, outcome.ticket_number)).assignee_id)  # type: ignore[arg-type, union-attr]
    everyone = [t1.assignee_id, *owners]
    assert sorted(everyone.count(a) for a in set(everyone)) == [3, 3]  # Ana and Ben, three each
    await tickets.close(desk.ctx, ANA, first.ticket_number)  # type: ignore[arg-type]
    lighter = t1.assignee_id
    nxt = await deliver(desk, raw_mail(subject="After a close"))
    assert (await ticket(desk, nxt.ticket_number)).assignee_id == lighter  # type: ignore[arg-type, union-attr]
    assert any(a == "assigned" and d == "fewest open tickets" for a, _, d in await history(desk, nxt.ticket_number))  # type: ignore[arg-type]


async def test_skills_assignment_prefers_the_matching_expert(desk: Core) -> None:
    eva = await _agent_id(desk, "U0EVA")
    first = await deliver(desk, raw_mail(subject="complaint: API errors", body="A technical problem."))
    second = await deliver(desk, raw_mail(subject="complaint: wrong colour"))
    a, b = await ticket(desk, first.ticket_number), await ticket(desk, second.ticket_number)  # type: ignore[arg-type]
    assert a is not None and b is not None
    await classify.tag(desk.ctx, CID, a.number, ["technical"], [])
    # The first mail had no technical tag when it came in: nobody skilled, so the least loaded got it.
    assert {a.assignee_id, b.assignee_id} <= {eva, await _agent_id(desk, "U0CID")}
    third = await deliver(desk, raw_mail(subject="complaint", body="technical: the app crashes"))
    t3 = await ticket(desk, third.ticket_number)  # type: ignore[arg-type]
    assert t3 is not None
    await classify.tag(desk.ctx, CID, t3.number, ["technical"], [])
    moved = await classify.move_to_team(desk.ctx, CID, t3.number, "support")
    back = await classify.move_to_team(desk.ctx, ANA, t3.number, "complaints")  # support's now: theirs to hand back
    assert moved.ticket.team == "support" and moved.ticket.assignee in ("Ana", "Ben")
    assert back.ticket.assignee == "Eva"  # back in complaints, unassigned there: the technical skill decides


async def _agent_id(core: Core, chat_id: str) -> int | None:
    async with core.ctx.uow() as uow:
        agent = await uow.agents.by_chat_user_id(chat_id)
        return agent.id if agent else None


async def test_reply_to_solved_reopens_reply_to_closed_opens_a_linked_follow_up(desk: Core) -> None:
    clock: Clock = desk.ctx.clock  # type: ignore[assignment]
    first = raw_mail(subject="Printer", message_id="<p1@customer.example>")
    number = (await deliver(desk, first)).ticket_number
    assert number is not None
    await tickets.close(desk.ctx, ANA, number)
    again = await deliver(desk, raw_mail(subject="Re: Printer", in_reply_to="<p1@customer.example>", body="Still broken"))
    assert (again.action, again.ticket_number) == ("appended", number)
    assert (await ticket(desk, number)).status == Status.OPEN  # type: ignore[union-attr]
    await tickets.set_status(desk.ctx, ANA, number, Status.CLOSED)
    clock.advance(days=1)
    late = await deliver(desk, raw_mail(subject="Re: Printer", in_reply_to="<p1@customer.example>", body="Again!"))
    assert late.action == "created" and late.ticket_number != number
    follow_up = await ticket(desk, late.ticket_number)  # type: ignore[arg-type]
    assert follow_up is not None and follow_up.follow_up_of == number and follow_up.team == "support"
    assert (await ticket(desk, number)).status == Status.CLOSED  # type: ignore[union-attr]


async def test_team_follow_up_policies_reopen_or_open_new(desk: Core) -> None:
    clock: Clock = desk.ctx.clock  # type: ignore[assignment]
    complaint = (await deliver(desk, raw_mail(subject="complaint", message_id="<c1@customer.example>"))).ticket_number
    billing = (await deliver(desk, raw_mail(to="billing@helpdesk.test", subject="Invoice",
                                            message_id="<b1@customer.example>"))).ticket_number
    for n in (complaint, billing):
        await tickets.set_status(desk.ctx, CID, n, Status.CLOSED)  # type: ignore[arg-type]
    clock.advance(days=3)
    reopened = await deliver(desk, raw_mail(subject="Re: complaint", in_reply_to="<c1@customer.example>"))
    assert reopened.ticket_number == complaint and (await ticket(desk, complaint)).status == Status.OPEN  # type: ignore[arg-type, union-attr]
    recent = await deliver(desk, raw_mail(subject="Re: Invoice", in_reply_to="<b1@customer.example>"))
    assert recent.ticket_number == billing  # closed 3 days ago: within the 14 the team allows
    await tickets.set_status(desk.ctx, CID, billing, Status.CLOSED)  # type: ignore[arg-type]
    clock.advance(days=15)
    old = await deliver(desk, raw_mail(subject="Re: Invoice", in_reply_to="<b1@customer.example>"))
    assert old.action == "created" and (await ticket(desk, old.ticket_number)).follow_up_of == billing  # type: ignore[arg-type, union-attr]


async def test_merge_keeps_the_messages_and_later_mail_lands_in_the_target(desk: Core) -> None:
    a = (await deliver(desk, raw_mail(subject="Login fails", message_id="<a1@customer.example>"))).ticket_number
    b = (await deliver(desk, raw_mail(subject="Cannot log in", message_id="<b1@customer.example>"))).ticket_number
    assert a is not None and b is not None
    ack_of_a = next(m for m in await outbox(desk, a) if m.kind == "ack")
    await merge.merge(desk.ctx, ANA, a, b)
    target_texts = [m.body_text for m in await messages(desk, b)]
    assert len(target_texts) == 2
    source = await ticket(desk, a)
    assert source is not None and source.status == Status.CLOSED and source.merged_into == b
    assert "Merged into" in (await messages(desk, a))[-1].body_text
    by_reference = await deliver(desk, raw_mail(subject="Re: Login fails", in_reply_to="<a1@customer.example>"))
    by_our_id = await deliver(desk, raw_mail(subject="Re: Login fails", in_reply_to=ack_of_a.mail_message_id))
    by_tag = await deliver(desk, raw_mail(subject=f"Re: Login fails [#{a}]"))
    assert {by_reference.ticket_number, by_our_id.ticket_number, by_tag.ticket_number} == {b}
    assert ("merged", f"#{b}", "1 messages moved") in await history(desk, a)
    with pytest.raises(Refused, match="already merged"):
        await merge.merge(desk.ctx, ANA, a, b)


async def test_a_parent_cannot_be_solved_while_a_child_is_open(desk: Core) -> None:
    parent = (await deliver(desk, raw_mail(subject="New hire: Mia"))).ticket_number
    assert parent is not None
    result = await merge.split_child(desk.ctx, ANA, parent, "Laptop for Mia", team="billing")
    child = result.ticket.number
    assert result.ticket.parent == parent and result.ticket.team == "billing"
    with pytest.raises(Refused, match=f"child tickets are open: #{child}"):
        await tickets.close(desk.ctx, ANA, parent)
    shown = await queries.show(desk.ctx, OPERATOR, parent)
    assert shown.ticket.children == ((child, Status.NEW),)
    await tickets.close(desk.ctx, ANA, child)
    await tickets.close(desk.ctx, ANA, parent)
    assert ("child_opened", None, f"#{child}: Laptop for Mia") in await history(desk, parent)


async def test_a_due_task_reminds_its_assignee_once(desk: Core) -> None:
    clock: Clock = desk.ctx.clock  # type: ignore[assignment]
    number = (await deliver(desk, raw_mail())).ticket_number
    assert number is not None
    seen: list[events.TaskDue] = []

    async def record(e: events.TaskDue) -> None:
        seen.append(e)

    desk.ctx.bus.subscribe(events.TaskDue, record)
    task = await tasks.add_task(desk.ctx, ANA, number, "Call the customer back", due_at=clock.now + timedelta(hours=2),
                                assignee=BEN)
    assert await tasks.remind_due(desk.ctx) == 0
    clock.advance(hours=3)
    assert await tasks.remind_due(desk.ctx) == 1
    assert await tasks.remind_due(desk.ctx) == 0
    assert [(e.task_id, e.assignee_chat_id, e.text) for e in seen] == [(task.id, "U0BEN", "Call the customer back")]
    assert [t.text for t in await tasks.my_tasks(desk.ctx, BEN)] == ["Call the customer back"]
    await tasks.complete_task(desk.ctx, BEN, task.id)
    assert await tasks.my_tasks(desk.ctx, BEN) == []
    actions = [a for a, _, _ in await history(desk, number)]
    assert {"task_added", "task_reminder", "task_done"} <= set(actions)


async def test_two_agents_replying_at_once_are_warned(desk: Core) -> None:
    clock: Clock = desk.ctx.clock  # type: ignore[assignment]
    number = (await deliver(desk, raw_mail(message_id="<q1@customer.example>"))).ticket_number
    assert number is not None
    assert not await collision.reply_opened(desk.ctx, ANA, number)
    opened_at = clock.now
    clock.advance(seconds=30)
    warned = await collision.reply_opened(desk.ctx, BEN, number)
    assert warned.others == ("U0ANA",) and "Ana is writing a reply too" in warned.lines[0]
    clock.advance(seconds=30)
    await deliver(desk, raw_mail(subject="Re: Printer", in_reply_to="<q1@customer.example>", body="Any news?"))
    await replies.reply(desk.ctx, BEN, number, "On it.")
    newer = await collision.newer_than(desk.ctx, ANA, number, opened_at)
    assert [line.split(" ")[0:3] for line in newer] == [["the", "customer", "wrote"], ["Ben", "replied", "just"]]
    clock.advance(minutes=10)
    assert not await collision.reply_opened(desk.ctx, MAX, number)  # drafts and replies older than 5 minutes


async def test_solved_tickets_close_automatically_after_the_grace_period(desk: Core) -> None:
    clock: Clock = desk.ctx.clock  # type: ignore[assignment]
    number = (await deliver(desk, raw_mail())).ticket_number
    assert number is not None
    await tickets.close(desk.ctx, ANA, number)
    clock.advance(days=6)
    assert await lifecycle.close_solved(desk.ctx) == 0
    clock.advance(days=2)
    assert await lifecycle.close_solved(desk.ctx) == 1
    assert (await ticket(desk, number)).status == Status.CLOSED  # type: ignore[union-attr]
    assert ("status", "closed", "closed automatically 7 days after it was solved") in await history(desk, number)


async def test_team_statuses_category_tags_move_and_next(desk: Core) -> None:
    number = (await deliver(desk, raw_mail(subject="complaint: broken part"))).ticket_number
    assert number is not None
    result = await tickets.set_status_named(desk.ctx, CID, number, "On hold at vendor")
    assert result.ticket.status == Status.WAITING_ON_THIRD_PARTY and result.ticket.status_text == "on hold at vendor"
    assert (await classify.set_category(desk.ctx, CID, number, "Technical")).ticket.category == "technical"
    with pytest.raises(Refused, match="unknown category"):
        await classify.set_category(desk.ctx, CID, number, "weather")
    assert (await classify.tag(desk.ctx, CID, number, ["+VIP", "urgent-fix"], [])).ticket.tags == ("urgent-fix", "vip")
    moved = await classify.move_to_team(desk.ctx, CID, number, "support")
    assert moved.ticket.team == "support" and moved.ticket.assignee in ("Ana", "Ben")  # reassigned within support
    queued = [(await deliver(desk, raw_mail(to="billing@helpdesk.test", subject=s))).ticket_number for s in ("a", "b")]
    await tickets.set_priority(desk.ctx, ANA, queued[1], Priority.URGENT)  # type: ignore[arg-type]
    got = await classify.next_ticket(desk.ctx, NEWBIE)  # in no team: the queue of teams without members
    assert got.ticket.number == queued[1]
    with pytest.raises(NotFound, match="queue is empty"):
        await classify.next_ticket(desk.ctx, ANA)  # support has nothing unassigned
    actions = [a for a, _, _ in await history(desk, number)]
    assert {"status", "category", "tags", "moved", "assigned"} <= set(actions)


async def test_template_ticket_mailed_to_a_supplier_threads_their_answer_back(desk: Core) -> None:
    order = Template(name="Order", subject="Order of spare parts", team="billing",
                     children=(ChildSpec("support", "Install parts"),))
    wf = dataclasses.replace(desk.ctx.config.workflow, templates=(*desk.ctx.config.workflow.templates, order))
    desk.ctx.config = dataclasses.replace(desk.ctx.config, workflow=wf)
    result = await creation.open_ticket(desk.ctx, ANA, requester="sales@supplier.example", subject="",
                                        body="Please send 4 rollers.", template="Order", send=True)
    number = result.ticket.number
    assert result.ticket.team == "billing" and result.ticket.status == Status.WAITING_ON_CUSTOMER
    assert [c for c, _ in result.ticket.children] and "child" in result.summary
    [mail] = await outbox(desk, number)
    sent = parse_sent(mail.raw)
    assert sent["Subject"] == f"Order of spare parts [#{number}]" and sent["To"] == "sales@supplier.example"
    answer = await deliver(desk, raw_mail(frm="sales@supplier.example", subject="Re: Order of spare parts",
                                          in_reply_to=sent["Message-ID"], body="Shipped today."))
    assert answer.ticket_number == number
    with pytest.raises(Refused, match="not an email address"):
        await creation.open_ticket(desk.ctx, ANA, requester="x@y\r\nBcc: evil@z", subject="s", body="b", send=True)
