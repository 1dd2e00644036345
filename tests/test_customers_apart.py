"""Customers stay apart: merges, child tickets and chat contacts never carry one customer's mail to another.

Mail comes in through the real pipeline; what leaves goes through the outbox worker to a
real SMTP server (aiosmtpd on 127.0.0.1), and the tests read what each customer received.
Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.adapters.actions import perform_change
from bot.adapters.commands import UsageError, parse_ticket, split_outbound
from bot.app import Core, build_core
from bot.domain.model import Collaborator
from bot.domain.status import Status
from bot.domain.workflow import ChildSpec, Template
from bot.handlers import chat_intake, contact_link, creation, merge, replies, reports, tickets
from bot.handlers.context import Actor, agent_for
from bot.handlers.errors import Refused
from bot.handlers.merge import NeedsConfirmation
from bot.handlers.permissions import Denied
from bot.mail.outbox import OutboxWorker
from bot.mail.transport import SmtpTransport
from tests.conftest import make_settings
from tests.support.db import Database
from tests.support.mails import deliver, messages, outbox, raw_mail, ticket
from tests.support.smtp_sink import Received, SmtpSink

WORKFLOW = """
[[teams]]
name = "it"

[roles]
agents = ["U1"]
light = ["U9"]
"""

ANA = Actor("U1", "Ana", in_tickets_channel=True)
LEE = Actor("U9", "Lee Expert", in_tickets_channel=True)  # a light agent
STRANGER = Actor("U7", "Somebody", in_tickets_channel=True)  # not on the roster
ANN = "ann@alpha.example"
BO = "bo@beta.example"


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def desk(database: Database, tmp_path: Path) -> AsyncIterator[Core]:
    path = tmp_path / "workflow.toml"
    path.write_text(WORKFLOW)
    core = await build_core(make_settings(database, tmp_path, workflow_file=path), engine=database.engine())
    core.ctx.clock = Clock()
    yield core
    await core.close()


@pytest.fixture
async def sink() -> AsyncIterator[SmtpSink]:
    s = SmtpSink()
    await s.start()
    yield s
    await s.stop()


async def send_all(desk: Core, sink: SmtpSink) -> list[Received]:
    """Let the outbox worker deliver everything due; return what the relay received just now."""
    before = len(sink.received)
    transport = SmtpTransport(sink.host, sink.port, starttls=False, timeout=10)
    await OutboxWorker(desk.ctx, transport, max_attempts=3, backoff_seconds=10.0).deliver_due()
    return sink.received[before:]


async def two_customers(desk: Core) -> tuple[int, int]:
    a = await deliver(desk, raw_mail(frm=f"Ann <{ANN}>", subject="Login fails", message_id="<a1@alpha.example>",
                                     body="My login fails since Monday. My home address is Elm Street 1."))
    b = await deliver(desk, raw_mail(frm=f"Bo <{BO}>", subject="Cannot log in", message_id="<b1@beta.example>",
                                     body="I cannot log in either."))
    assert a.ticket_number is not None and b.ticket_number is not None
    return a.ticket_number, b.ticket_number


async def audit_actions(desk: Core, number: int) -> list[tuple[str, str | None]]:
    async with desk.ctx.uow() as uow:
        return [(e.action, e.detail) for e in await uow.audit.for_ticket(number)]


# --- merge -----------------------------------------------------------------------------------


async def test_merging_two_customers_tickets_needs_an_explicit_confirmation(desk: Core) -> None:
    a, b = await two_customers(desk)
    with pytest.raises(NeedsConfirmation) as refused:
        await merge.merge(desk.ctx, ANA, a, b)
    text = str(refused.value)
    assert "a***@alpha.example" in text and "b***@beta.example" in text and ANN not in text and BO not in text
    assert f"/ticket merge {a} into {b} --different-customer" in text
    assert (refused.value.source, refused.value.target) == (a, b)
    source = await ticket(desk, a)
    assert source is not None and source.merged_into is None and source.status == Status.NEW
    assert len(await messages(desk, a)) == 1 and len(await messages(desk, b)) == 1

    # The same words in text: refused without the flag, done with it.
    with pytest.raises(NeedsConfirmation):
        await perform_change(desk.ctx, ANA, parse_ticket(f"merge {a} into {b}"), _no_users)
    result = await perform_change(desk.ctx, ANA, parse_ticket(f"merge {a} into {b} --different-customer"), _no_users)
    assert not isinstance(result, str) and result.ticket.number == b
    source = await ticket(desk, a)
    assert source is not None and source.merged_into == b
    assert any(act == "merged" and "different customers (confirmed)" in (d or "") for act, d in await audit_actions(desk, a))
    notices = [m.body_text for m in await messages(desk, b) if m.kind == "system"]
    assert notices and "another customer (a***@alpha.example)" in notices[0]


async def _no_users(user_id: str, name: str) -> Actor:
    raise AssertionError("no user is resolved in these tests")


async def test_after_a_confirmed_merge_no_mail_of_one_customer_reaches_the_other(desk: Core, sink: SmtpSink) -> None:
    a, b = await two_customers(desk)
    acks = await send_all(desk, sink)
    ack_to_ann = next(r for r in acks if r.rcpt_tos == (ANN,))
    await merge.merge(desk.ctx, ANA, a, b, different_customer=True)

    # The agent answers on the target: only Bo hears it, and Ann's mail ids are not in its headers.
    await replies.reply(desk.ctx, ANA, b, "We reset the login service; please try again.")
    [to_bo] = await send_all(desk, sink)
    assert to_bo.rcpt_tos == (BO,) and b"alpha.example" not in to_bo.raw and b"Elm Street" not in to_bo.raw

    # Ann writes again, three ways: none of it lands in Bo's ticket; all of it in one ticket of hers.
    by_our_id = await deliver(desk, raw_mail(frm=f"Ann <{ANN}>", subject="Re: Login fails",
                                             in_reply_to=ack_to_ann.message["Message-ID"], body="Still broken."))
    assert by_our_id.action == "created" and by_our_id.ticket_number not in (a, b)
    hers = await ticket(desk, by_our_id.ticket_number)  # type: ignore[arg-type]
    assert hers is not None and hers.follow_up_of == a
    async with desk.ctx.uow() as uow:
        ann = await uow.contacts.by_email(ANN)
    assert ann is not None and hers.requester_id == ann.id
    by_her_id = await deliver(desk, raw_mail(frm=f"Ann <{ANN}>", subject="Re: Login fails",
                                             in_reply_to="<a1@alpha.example>", body="Any news?"))
    by_tag = await deliver(desk, raw_mail(frm=f"Ann <{ANN}>", subject=f"Re: Cannot log in [#{b}]", body="Hello?"))
    assert by_her_id.ticket_number == by_tag.ticket_number == hers.number
    assert [m.body_text.strip() for m in await messages(desk, b) if m.kind == "inbound"] == [
        "My login fails since Monday. My home address is Elm Street 1.", "I cannot log in either."]
    assert any("merged into #" in m.body_text for m in await messages(desk, hers.number) if m.kind == "system")
    assert ("follow_up", f"the customer of merged #{a} wrote again: their own ticket #{hers.number}") in \
        await audit_actions(desk, b)

    # Her answer goes to her only; Bo's next mail still lands in his ticket.
    await replies.reply(desk.ctx, ANA, hers.number, "Ann, your account is unlocked now.")
    bo_again = await deliver(desk, raw_mail(frm=f"Bo <{BO}>", subject="Re: Cannot log in",
                                            in_reply_to=to_bo.message["Message-ID"], body="Works, thanks."))
    assert bo_again.action == "appended" and bo_again.ticket_number == b
    sent = await send_all(desk, sink)
    assert [r.rcpt_tos for r in sent if b"unlocked" in r.raw] == [(ANN,)]
    for r in sink.received:  # everything that ever left, acknowledgements included
        assert r.rcpt_tos in ((ANN,), (BO,))
        theirs = b"alpha.example" if r.rcpt_tos == (BO,) else b"beta.example"
        assert theirs not in r.raw, f"mail to {r.rcpt_tos} carries the other customer's address"
    for number in (a, b, hers.number):
        wanted = BO if number == b else ANN
        assert {m.to_addr for m in await outbox(desk, number)} <= {wanted}


async def test_the_same_customers_tickets_merge_without_asking(desk: Core) -> None:
    first = await deliver(desk, raw_mail(frm=f"Ann <{ANN}>", subject="Login fails"))
    second = await deliver(desk, raw_mail(frm=f"Ann <{ANN}>", subject="Login still fails"))
    assert first.ticket_number and second.ticket_number
    await merge.merge(desk.ctx, ANA, first.ticket_number, second.ticket_number)
    later = await deliver(desk, raw_mail(frm=f"Ann <{ANN}>", subject=f"Re: Login fails [#{first.ticket_number}]"))
    assert later.ticket_number == second.ticket_number


async def test_merging_with_an_internal_ticket_asks_only_when_a_customer_would_move(desk: Core) -> None:
    a, b = await two_customers(desk)
    note = (await merge.split_child(desk.ctx, ANA, a, "Check the login logs", team="it")).ticket.number
    other = (await merge.split_child(desk.ctx, ANA, b, "Check the directory", team="it")).ticket.number
    await merge.merge(desk.ctx, ANA, other, note)  # internal into internal: nobody's mail moves
    with pytest.raises(NeedsConfirmation, match=f"in #{note}, an internal ticket that mails nobody"):
        await merge.merge(desk.ctx, ANA, b, note)
    await merge.merge(desk.ctx, ANA, note, a)  # internal notes into a customer's ticket: no customer is shown


async def test_a_ticket_with_open_children_cannot_be_merged(desk: Core) -> None:
    parent = (await deliver(desk, raw_mail(frm=f"Ann <{ANN}>", subject="New laptop"))).ticket_number
    other = (await deliver(desk, raw_mail(frm=f"Ann <{ANN}>", subject="New laptop, again"))).ticket_number
    assert parent and other
    child = (await merge.split_child(desk.ctx, ANA, parent, "Order the laptop", team="it")).ticket.number
    with pytest.raises(Refused, match=f"#{parent} has open child tickets \\(#{child}\\)"):
        await merge.merge(desk.ctx, ANA, parent, other)
    assert (await ticket(desk, parent)).merged_into is None  # type: ignore[union-attr]
    await tickets.close(desk.ctx, ANA, child)
    await merge.merge(desk.ctx, ANA, parent, other)
    assert (await ticket(desk, parent)).merged_into == other  # type: ignore[union-attr]


async def test_strangers_and_light_agents_cannot_merge(desk: Core) -> None:
    a, b = await two_customers(desk)
    async with desk.ctx.uow() as uow:  # Lee was pulled into both tickets: light on them
        lee = await agent_for(uow, LEE, desk.ctx.clock())
        for n in (a, b):
            await uow.collaborators.add_if_absent(Collaborator(n, lee.id, desk.ctx.clock(), "agent:U1"))  # type: ignore[arg-type]
        await uow.commit()
    for who in (STRANGER, LEE):
        for confirmed in (False, True):
            with pytest.raises(Denied):
                await merge.merge(desk.ctx, who, a, b, different_customer=confirmed)
    assert (await ticket(desk, a)).merged_into is None  # type: ignore[union-attr]
    assert [act for act, _ in await audit_actions(desk, a)].count("refused") == 4
    await merge.merge(desk.ctx, ANA, a, b, different_customer=True)


async def test_a_merged_ticket_is_counted_as_merged_not_solved(desk: Core) -> None:
    start = desk.ctx.clock()
    a, b = await two_customers(desk)
    await merge.merge(desk.ctx, ANA, a, b, different_customer=True)
    desk.ctx.clock.now += timedelta(minutes=5)  # type: ignore[attr-defined]
    await tickets.close(desk.ctx, ANA, b)
    report = await reports.build_report(desk.ctx, start - timedelta(hours=1), start + timedelta(hours=1))
    assert (report.new, report.solved, report.merged, report.resolution.count, report.backlog) == (2, 1, 1, 1, 0)
    rows = {(s, k): v for s, k, v in reports.csv_rows(report)}
    assert (rows[("tickets", "solved")], rows[("tickets", "merged")]) == ("1", "1")
    async with desk.ctx.uow() as uow:  # a merge from before this rule set solved_at: still not a solve
        old = await uow.tickets.get(a, for_update=True)
        assert old is not None and old.solved_at is None
        old.solved_at = desk.ctx.clock()
        await uow.commit()
    again = await reports.build_report(desk.ctx, start - timedelta(hours=1), start + timedelta(hours=1))
    assert (again.solved, again.merged) == (1, 1)


# --- child tickets -----------------------------------------------------------------------------


async def test_a_child_ticket_is_internal_and_mails_no_customer(desk: Core, sink: SmtpSink) -> None:
    parent = (await deliver(desk, raw_mail(frm=f"Ann <{ANN}>", subject="New hire: Mia"))).ticket_number
    assert parent is not None
    await send_all(desk, sink)  # the parent's acknowledgement
    result = await perform_change(desk.ctx, ANA, parse_ticket(f"child {parent} it Laptop for Mia"), _no_users)
    assert not isinstance(result, str)
    child = result.ticket
    assert child.internal and child.requester_email == "" and child.team == "it" and "(internal)" in result.summary
    assert (await ticket(desk, child.number)).requester_id is None  # type: ignore[union-attr]
    with pytest.raises(Refused, match=f"#{child.number} is an internal ticket"):
        await replies.reply(desk.ctx, ANA, child.number, "Your laptop order is approved.")
    await tickets.close(desk.ctx, ANA, child.number)
    assert await outbox(desk, child.number) == []
    assert [m.kind for m in await outbox(desk, parent)] == ["ack"]
    assert await send_all(desk, sink) == []

    # A template's children are internal too.
    order = Template(name="Onboarding", subject="New hire", children=(ChildSpec("it", "Accounts"),))
    wf = dataclasses.replace(desk.ctx.config.workflow, templates=(order,))
    desk.ctx.config = dataclasses.replace(desk.ctx.config, workflow=wf)
    opened = await creation.open_ticket(desk.ctx, ANA, requester=ANN, subject="", body="Mia starts Monday",
                                        template="Onboarding")
    [(kid, _)] = opened.ticket.children
    assert (await ticket(desk, kid)).requester_id is None  # type: ignore[union-attr]
    with pytest.raises(Refused, match="internal ticket"):
        await replies.reply(desk.ctx, ANA, kid, "Accounts are ready")
    assert await send_all(desk, sink) == []


async def test_an_outbound_child_mails_the_named_address_only(desk: Core, sink: SmtpSink) -> None:
    parent = (await deliver(desk, raw_mail(frm=f"Ann <{ANN}>", subject="Broken screen"))).ticket_number
    assert parent is not None
    await send_all(desk, sink)
    line = f"child {parent} it Order a screen | to sales@supplier.example"
    result = await perform_change(desk.ctx, ANA, parse_ticket(line), _no_users)
    assert not isinstance(result, str)
    child = result.ticket
    assert not child.internal and child.requester_email == "sales@supplier.example" and child.subject == "Order a screen"
    assert await send_all(desk, sink) == []  # opening it mails nobody
    await replies.reply(desk.ctx, ANA, child.number, "Please send one 24-inch screen.")
    [mail] = await send_all(desk, sink)
    assert mail.rcpt_tos == ("sales@supplier.example",) and ANN.encode() not in mail.raw
    for bad in ("123@discord.invalid", "support@helpdesk.test", "a@b, c@d"):
        with pytest.raises(Refused):
            await merge.split_child(desk.ctx, ANA, parent, "Order", to=bad)


def test_the_grammar_of_confirmation_and_outbound_children() -> None:
    assert parse_ticket("merge 3 into 4").confirmed is False
    assert parse_ticket("merge #3 into #4 --different-customer").confirmed is True
    assert parse_ticket("merge 3 into 4 —different-customer").other == 4  # a chat client's "--"
    with pytest.raises(UsageError, match="unknown option"):
        parse_ticket("merge 3 into 4 --force")
    assert split_outbound("it Order parts | to sales@supplier.example") == ("it Order parts", "sales@supplier.example")
    assert split_outbound("Laptop | for Mia") == ("Laptop | for Mia", None)


# --- chat contacts ------------------------------------------------------------------------------


async def test_mail_from_a_dm_customers_synthetic_address_is_never_taken_for_them(desk: Core, sink: SmtpSink) -> None:
    dm = await chat_intake.receive_chat_message(desk.ctx, chat_intake.ChatMessageIn(
        platform="discord", user_id="4242", user_name="Mia", dm_channel="D1", message_id="m1", text="My parcel is lost"))
    assert dm.ticket_number is not None
    dm_customer = (await ticket(desk, dm.ticket_number)).requester_id  # type: ignore[union-attr]
    opened = []
    for sender, subject in (("4242@discord.invalid", f"Re: My parcel is lost [#{dm.ticket_number}]"),
                            ("4242@discord.invalid", "Refund to a new account"),
                            ("someone@anything.invalid", "Hello")):
        outcome = await deliver(desk, raw_mail(frm=f"Mia <{sender}>", subject=subject,
                                               body="Send my refund to IBAN FI00 1234 instead."))
        assert outcome.action in ("created", "appended") and outcome.ticket_number != dm.ticket_number
        opened.append(outcome.ticket_number)
    assert [m.body_text for m in await messages(desk, dm.ticket_number)] == ["My parcel is lost"]
    forged = await ticket(desk, opened[0])
    assert forged is not None and forged.requester_id != dm_customer, "a new contact, not the DM customer"
    async with desk.ctx.uow() as uow:
        contact = await uow.contacts.get(forged.requester_id)  # type: ignore[arg-type]
        assert contact is not None and contact.email == "mail.4242@discord.invalid"
    assert await send_all(desk, sink) == [], "nothing is mailed to a .invalid address, not even an acknowledgement"
    with pytest.raises(Refused, match="cannot receive mail"):
        await replies.reply(desk.ctx, ANA, opened[0], "Which account?")


async def test_link_codes_are_limited_per_address_whoever_asks(desk: Core, sink: SmtpSink) -> None:
    async def ask(user: str, n: int) -> str | None:
        return await contact_link.handle(desk.ctx, contact_link.LinkRequest("discord", user, f"msg-{user}-{n}", ANN))

    answers = [await ask(f"10{i}", 1) for i in range(4)]
    assert all(a is not None and a.startswith("I sent a code") for a in answers[:3])
    assert answers[3] is not None and "several codes in the last hour" in answers[3]
    assert [r.rcpt_tos for r in await send_all(desk, sink)] == [(ANN,)] * 3
    assert "several codes" in (await ask("200", 1) or "")  # a fifth asker too
    assert await send_all(desk, sink) == []
    desk.ctx.clock.now += timedelta(minutes=61)  # type: ignore[attr-defined]
    assert (await ask("104", 2) or "").startswith("I sent a code")
