"""What agents do from chat, as the customer and the team would notice it: mail, status, history, events."""

from __future__ import annotations

import pytest

from bot.app import Core
from bot.domain import mail_ids
from bot.domain.inbound import InboundMail
from bot.domain.model import MessageKind
from bot.domain.priority import Priority
from bot.domain.status import Status
from bot.handlers import events, intake, queries, replies, tickets
from bot.handlers.context import Actor
from bot.handlers.errors import NotFound, Refused
from tests.support.mails import (
    deliver,
    header_names,
    messages,
    new_message_id,
    outbox,
    parse_sent,
    raw_mail,
    text_body,
    ticket,
)
from tests.support.people import OPERATOR

ANA = Actor("U1", "Ana Agent", in_tickets_channel=True)
BOB = Actor("U2", "Bob Builder", in_tickets_channel=True)


async def new_ticket(core: Core, subject: str = "Printer is broken", **kw: object) -> tuple[int, str]:
    mid = new_message_id()
    outcome = await deliver(core, raw_mail(subject=subject, message_id=mid, **kw))  # type: ignore[arg-type]
    assert outcome.action == "created" and outcome.ticket_number is not None
    return outcome.ticket_number, mid


async def test_claim_takes_the_ticket_and_opens_it(core: Core) -> None:
    n, _ = await new_ticket(core)
    result = await tickets.claim(core.ctx, ANA, n)
    assert result.summary == f"#{n} claimed by Ana Agent"
    assert (result.ticket.assignee, result.ticket.assignee_chat_id, result.ticket.status) == ("Ana Agent", "U1", Status.OPEN)
    assert [t.number for t in await queries.mine(core.ctx, ANA)] == [n]
    assert await queries.queue(core.ctx, OPERATOR) == []


async def test_claiming_your_own_ticket_is_refused(core: Core) -> None:
    n, _ = await new_ticket(core)
    await tickets.claim(core.ctx, ANA, n)
    with pytest.raises(Refused, match=f"#{n} is already yours"):
        await tickets.claim(core.ctx, ANA, n)


async def test_assign_to_another_agent(core: Core) -> None:
    n, _ = await new_ticket(core)
    await tickets.claim(core.ctx, ANA, n)
    result = await tickets.assign(core.ctx, ANA, n, BOB)
    assert result.ticket.assignee == "Bob Builder"
    assert [t.number for t in await queries.mine(core.ctx, BOB)] == [n]
    assert await queries.mine(core.ctx, ANA) == []
    line = [h for h in await queries.history(core.ctx, OPERATOR, n) if h.action == "assigned"][-1]
    assert (line.actor, line.before, line.after) == ("agent:U1", "Ana Agent", "Bob Builder")


async def test_assigning_a_solved_ticket_is_refused(core: Core) -> None:
    n, _ = await new_ticket(core)
    await tickets.close(core.ctx, ANA, n)
    with pytest.raises(Refused, match="reopen it first"):
        await tickets.assign(core.ctx, ANA, n, BOB)


async def test_note_is_internal_and_never_mailed(core: Core) -> None:
    n, _ = await new_ticket(core)
    assert [row.kind for row in await outbox(core, n)] == ["ack"]
    result = await tickets.add_note(core.ctx, ANA, n, "Customer is on the VIP list.")
    assert result.message is not None and result.message.is_internal
    assert [row.kind for row in await outbox(core, n)] == ["ack"], "a note puts nothing in the outbox"
    stored = (await messages(core, n))[-1]
    assert (stored.kind, stored.body_text, stored.author_label) == (MessageKind.NOTE, "Customer is on the VIP list.", "Ana Agent")


async def test_reply_mails_the_requester_in_the_same_thread(core: Core) -> None:
    n, customer_mid = await new_ticket(core, subject="RE: Printer is broken")
    result = await replies.reply(core.ctx, ANA, n, "Please check the toner.")
    replies_sent = [row for row in await outbox(core, n) if row.kind == "reply"]
    assert len(replies_sent) == 1
    row = replies_sent[0]
    assert row.to_addr == "mia@customer.example"
    sent = parse_sent(row.raw)
    assert sent["Subject"] == f"Re: Printer is broken [#{n}]"
    assert sent["In-Reply-To"] == customer_mid
    assert sent["References"].split()[-1] == customer_mid, "the mail we answer comes last, so clients nest the reply under it"
    assert sent["Message-ID"] == row.mail_message_id
    assert mail_ids.ticket_from_message_id(sent["Message-ID"], core.ctx.key) == n
    assert "Auto-Submitted" not in sent, "a person's answer is not automatic mail"
    assert "Please check the toner." in text_body(sent)
    assert result.message is not None and result.message.sent_to == "mia@customer.example"

    stored = await ticket(core, n)
    assert stored is not None
    assert stored.status == Status.WAITING_ON_CUSTOMER and stored.first_response_at is not None
    assert result.ticket.assignee == "Ana Agent", "answering an unassigned ticket takes it"


async def test_second_reply_keeps_first_response_time(core: Core) -> None:
    n, _ = await new_ticket(core)
    await replies.reply(core.ctx, ANA, n, "First answer.")
    first = await ticket(core, n)
    await replies.reply(core.ctx, ANA, n, "Second answer.")
    second = await ticket(core, n)
    assert first is not None and second is not None
    assert second.first_response_at == first.first_response_at
    assert len([row for row in await outbox(core, n) if row.kind == "reply"]) == 2


async def test_reply_to_a_closed_ticket_is_refused(core: Core) -> None:
    n, _ = await new_ticket(core)
    await tickets.set_status(core.ctx, ANA, n, Status.CLOSED)
    before = await outbox(core, n)
    with pytest.raises(Refused, match="closed"):
        await replies.reply(core.ctx, ANA, n, "Too late?")
    assert len(await outbox(core, n)) == len(before)
    assert [m.kind for m in await messages(core, n)] == [MessageKind.INBOUND]


async def test_empty_reply_and_note_are_refused(core: Core) -> None:
    n, _ = await new_ticket(core)
    with pytest.raises(Refused):
        await replies.reply(core.ctx, ANA, n, "   ")
    with pytest.raises(Refused):
        await tickets.add_note(core.ctx, ANA, n, "")
    assert len(await messages(core, n)) == 1


async def test_priority_change(core: Core) -> None:
    n, _ = await new_ticket(core)
    result = await tickets.set_priority(core.ctx, ANA, n, Priority.URGENT)
    assert result.ticket.priority == Priority.URGENT
    assert result.summary == f"#{n} priority: normal → urgent"
    with pytest.raises(Refused, match="already has priority urgent"):
        await tickets.set_priority(core.ctx, ANA, n, Priority.URGENT)


async def test_unknown_ticket_is_not_found(core: Core) -> None:
    ctx = core.ctx
    calls = [
        lambda: tickets.claim(ctx, ANA, 99),
        lambda: tickets.assign(ctx, ANA, 99, BOB),
        lambda: tickets.set_status(ctx, ANA, 99, Status.OPEN),
        lambda: tickets.set_priority(ctx, ANA, 99, Priority.HIGH),
        lambda: tickets.add_note(ctx, ANA, 99, "note"),
        lambda: replies.reply(ctx, ANA, 99, "hello"),
        lambda: queries.show(ctx, OPERATOR, 99),
        lambda: queries.history(ctx, OPERATOR, 99),
    ]
    for call in calls:
        with pytest.raises(NotFound, match="ticket #99 does not exist"):
            await call()


async def test_queue_and_mine_show_the_most_urgent_first(core: Core) -> None:
    numbers = [(await new_ticket(core, subject=f"Problem {i}"))[0] for i in range(4)]
    await tickets.set_priority(core.ctx, ANA, numbers[1], Priority.HIGH)
    await tickets.set_priority(core.ctx, ANA, numbers[3], Priority.URGENT)
    await tickets.set_priority(core.ctx, ANA, numbers[2], Priority.LOW)
    expected = [numbers[3], numbers[1], numbers[0], numbers[2]]
    assert [t.number for t in await queries.queue(core.ctx, OPERATOR)] == expected
    for n in numbers:
        await tickets.claim(core.ctx, ANA, n)
    assert [t.number for t in await queries.mine(core.ctx, ANA)] == expected
    assert await queries.mine(core.ctx, BOB) == []


async def test_an_urgent_ticket_behind_a_long_queue_still_comes_first(core: Core) -> None:
    for i in range(9):
        await deliver(core, raw_mail(frm=f"c{i}@customer.example", subject=f"Old problem {i}"))
    urgent, _ = await new_ticket(core, subject="Server room on fire")
    await tickets.set_priority(core.ctx, ANA, urgent, Priority.URGENT)
    assert [t.number for t in await queries.queue(core.ctx, OPERATOR, limit=2)] == [urgent, 1]


async def test_history_lists_every_change(core: Core) -> None:
    n, _ = await new_ticket(core)
    await tickets.claim(core.ctx, ANA, n)
    await tickets.set_priority(core.ctx, ANA, n, Priority.HIGH)
    await replies.reply(core.ctx, ANA, n, "On it.")
    await tickets.close(core.ctx, ANA, n)
    lines = [(h.actor, h.action, h.field, h.before, h.after) for h in await queries.history(core.ctx, OPERATOR, n)]
    changes = [line for line in lines if line[2] is not None]
    assert changes == [
        ("agent:U1", "assigned", "assignee", None, "Ana Agent"),
        ("agent:U1", "status", "status", "new", "open"),
        ("agent:U1", "priority", "priority", "normal", "high"),
        ("agent:U1", "status", "status", "open", "waiting_on_customer"),
        ("agent:U1", "status", "status", "waiting_on_customer", "solved"),
    ]
    actions = [line[1] for line in lines]
    assert actions[0] == "created" and lines[0][0] == "contact:mia@customer.example"
    assert {"ack_queued", "reply_queued", "first_response"} <= set(actions)


async def test_events_are_published_after_commit(core: Core) -> None:
    n, _ = await new_ticket(core)
    seen: list[tuple[str, str]] = []

    async def on_changed(event: events.TicketChanged) -> None:
        stored = await ticket(core, event.ticket.number)  # a fresh transaction sees the change: it is committed
        assert stored is not None
        seen.append(("changed", f"{event.summary} / stored {stored.status} {stored.assignee_id is not None}"))

    async def on_message(event: events.MessageAdded) -> None:
        stored = [m.id for m in await messages(core, event.ticket.number)]
        assert event.message.id in stored
        seen.append(("message", event.message.kind))

    core.ctx.bus.subscribe(events.TicketChanged, on_changed)
    core.ctx.bus.subscribe(events.MessageAdded, on_message)

    await tickets.claim(core.ctx, ANA, n)
    assert seen == [("changed", "claimed by Ana Agent / stored open True")]
    seen.clear()
    await replies.reply(core.ctx, ANA, n, "Hello")
    assert seen == [
        ("message", MessageKind.REPLY),
        ("changed", "reply sent to mia@customer.example / stored waiting_on_customer True"),
    ]
    seen.clear()
    await tickets.add_note(core.ctx, ANA, n, "psst")
    assert seen == [("message", MessageKind.NOTE)]
    seen.clear()

    with pytest.raises(Refused):
        await tickets.claim(core.ctx, ANA, n)
    with pytest.raises(Refused):
        await tickets.set_status(core.ctx, ANA, n, Status.NEW)
    with pytest.raises(NotFound):
        await tickets.claim(core.ctx, ANA, 99)
    assert seen == [], "no event when nothing changed"


async def test_chat_input_never_becomes_a_mail_header(core: Core) -> None:
    evil = "\r\nBcc: x@evil.example\r\nX-Injected: yes"
    mail = InboundMail(
        message_id=new_message_id(), subject=f"Help{evil}", from_addr="mia@customer.example",
        from_name=f"Mia{evil}", text="Body", display_text="Body",
    )
    outcome = await intake.receive_mail(core.ctx, mail, source="test")
    n = outcome.ticket_number
    assert n is not None
    await replies.reply(core.ctx, Actor("U9", f"Mallory{evil}", in_tickets_channel=True), n, f"Answer{evil}")
    rows = await outbox(core, n)
    assert [row.kind for row in rows] == ["ack", "reply"]
    for row in rows:
        names = header_names(row.raw)
        assert "bcc" not in names and "x-injected" not in names, names
        head = row.raw.split(b"\r\n\r\n", 1)[0]
        assert b"\r\nBcc:" not in head and b"\r\nX-Injected:" not in head
        sent = parse_sent(row.raw)
        assert [a.addr_spec for a in sent["To"].addresses] == ["mia@customer.example"]
        assert "\n" not in sent["Subject"] and sent["Subject"].endswith(f"[#{n}]")
