"""Which ticket a mail belongs to: raw mail through the real pipeline, on SQLite and PostgreSQL."""

from __future__ import annotations

from bot.app import Core
from bot.domain.model import MessageKind
from bot.domain.status import Status
from bot.handlers import events, queries, replies, tickets
from bot.handlers.context import Actor
from tests.support.mails import deliver, messages, new_message_id, outbox, raw_mail, ticket, ticket_count
from tests.support.people import OPERATOR

AGENT = Actor("U1", "Ana Agent", in_tickets_channel=True)
MIA = "Mia Customer <mia@customer.example>"
STRANGER = "Eve Outsider <eve@elsewhere.example>"


async def first_ticket(core: Core, **kw: object) -> tuple[int, str]:
    """A customer's first mail; returns the ticket number and the mail's Message-ID."""
    mid = new_message_id()
    outcome = await deliver(core, raw_mail(message_id=mid, **kw))  # type: ignore[arg-type]
    assert outcome.action == "created" and outcome.ticket_number is not None
    return outcome.ticket_number, mid


async def agent_reply_id(core: Core, number: int) -> str:
    await replies.reply(core.ctx, AGENT, number, "Please try turning it off and on again.")
    sent = [row for row in await outbox(core, number) if row.kind == "reply"]
    stored = [m for m in await messages(core, number) if m.kind == MessageKind.REPLY]
    assert len(sent) == 1 and len(stored) == 1
    assert sent[0].mail_message_id == stored[0].mail_message_id
    return sent[0].mail_message_id


async def assert_appended(core: Core, raw: bytes, number: int) -> None:
    before = len(await messages(core, number))
    outcome = await deliver(core, raw)
    assert (outcome.action, outcome.ticket_number) == ("appended", number)
    assert len(await messages(core, number)) == before + 1
    assert await ticket_count(core) == number


async def test_reply_threads_by_in_reply_to(core: Core) -> None:
    n, mid = await first_ticket(core)
    await assert_appended(core, raw_mail(subject="Re: Printer is broken", in_reply_to=mid, body="Still broken."), n)


async def test_reply_threads_by_references_only(core: Core) -> None:
    n, mid = await first_ticket(core)
    raw = raw_mail(subject="Printer again", references=("<older@customer.example>", mid), body="More detail.")
    await assert_appended(core, raw, n)


async def test_answer_to_our_reply_threads_by_our_signed_id(core: Core) -> None:
    n, _ = await first_ticket(core)
    ours = await agent_reply_id(core, n)
    # A client that keeps only the id it answers, with a subject the customer rewrote.
    await assert_appended(core, raw_mail(subject="different words", in_reply_to=ours, body="Thanks!"), n)
    found = await ticket(core, n)
    assert found is not None and found.status == Status.CUSTOMER_REPLIED


async def test_answer_to_the_acknowledgement_threads(core: Core) -> None:
    n, _ = await first_ticket(core)
    (ack,) = [row for row in await outbox(core, n) if row.kind == "ack"]
    await assert_appended(core, raw_mail(subject="Re: ack", in_reply_to=ack.mail_message_id), n)


async def test_subject_tag_from_the_requester_threads(core: Core) -> None:
    n, _ = await first_ticket(core, frm=MIA)
    await assert_appended(core, raw_mail(frm=MIA, subject=f"Re: Printer is broken [#{n}]", body="Any news?"), n)


async def test_subject_tag_from_a_stranger_opens_a_new_ticket(core: Core) -> None:
    n, _ = await first_ticket(core, frm=MIA)
    outcome = await deliver(core, raw_mail(frm=STRANGER, subject=f"Re: Printer is broken [#{n}]", body="Injected"))
    assert outcome.action == "created" and outcome.ticket_number == n + 1
    assert [m.body_text for m in await messages(core, n) if "Injected" in m.body_text] == []


async def test_forged_message_id_is_not_trusted(core: Core) -> None:
    n, _ = await first_ticket(core, frm=MIA)
    forged = f"<tiketti.{n}.abc.0000000000000000@helpdesk.test>"
    outcome = await deliver(core, raw_mail(frm=STRANGER, subject="Re: hello", in_reply_to=forged, references=(forged,)))
    assert outcome.action == "created" and outcome.ticket_number == n + 1
    assert len(await messages(core, n)) == 1


async def test_unknown_thread_opens_a_new_ticket(core: Core) -> None:
    n, _ = await first_ticket(core)
    outcome = await deliver(core, raw_mail(subject="Re: something else", in_reply_to="<never-seen@other.example>"))
    assert outcome.action == "created" and outcome.ticket_number == n + 1
    assert len(await messages(core, n)) == 1


async def test_same_message_id_twice_is_stored_once(core: Core) -> None:
    mid = new_message_id()
    raw = raw_mail(message_id=mid)
    first = await deliver(core, raw)
    again = await deliver(core, raw)
    assert first.action == "created" and again.action == "duplicate"
    assert await ticket_count(core) == 1
    assert len(await messages(core, 1)) == 1
    assert len(await outbox(core, 1)) == 1, "one acknowledgement, not two"

    # The same reply delivered twice (To and Cc, or a re-read folder) is stored once too.
    reply = raw_mail(subject="Re: Printer is broken", in_reply_to=mid, message_id=new_message_id())
    assert (await deliver(core, reply)).action == "appended"
    assert (await deliver(core, reply)).action == "duplicate"
    assert len(await messages(core, 1)) == 2


async def test_cc_recipient_answering_lands_on_the_same_ticket(core: Core) -> None:
    n, mid = await first_ticket(core, frm=MIA, headers={"Cc": "Liisa Colleague <liisa@customer.example>"})
    raw = raw_mail(frm="Liisa Colleague <liisa@customer.example>", subject="Re: Printer is broken",
                   in_reply_to=mid, references=(mid,), body="It is broken here too.")
    await assert_appended(core, raw, n)
    authors = [m.author_label for m in await messages(core, n)]
    assert authors[-1] == "Liisa Colleague <liisa@customer.example>"
    details = await queries.show(core.ctx, OPERATOR, n)
    assert details.ticket.requester_email == "mia@customer.example", "the requester stays the requester"


async def test_customer_reply_to_waiting_ticket_is_customer_replied(core: Core) -> None:
    n, mid = await first_ticket(core)
    await tickets.set_status(core.ctx, AGENT, n, Status.WAITING_ON_CUSTOMER)
    await assert_appended(core, raw_mail(in_reply_to=mid, subject="Re: Printer is broken"), n)
    found = await ticket(core, n)
    assert found is not None and found.status == Status.CUSTOMER_REPLIED


async def test_customer_reply_to_solved_ticket_reopens_it(core: Core) -> None:
    n, mid = await first_ticket(core)
    await tickets.close(core.ctx, AGENT, n)
    await assert_appended(core, raw_mail(in_reply_to=mid, subject="Re: Printer is broken", body="Not fixed!"), n)
    found = await ticket(core, n)
    assert found is not None and found.status == Status.OPEN and found.solved_at is None
    last = [h for h in await queries.history(core.ctx, OPERATOR, n) if h.action == "status"][-1]
    assert (last.actor, last.before, last.after) == ("contact:mia@customer.example", "solved", "open")


async def test_customer_reply_to_closed_ticket_opens_a_linked_follow_up(core: Core) -> None:
    n, mid = await first_ticket(core)
    ours = await agent_reply_id(core, n)
    await tickets.set_status(core.ctx, AGENT, n, Status.CLOSED)
    outcome = await deliver(core, raw_mail(in_reply_to=ours, references=(mid, ours), subject="Re: Printer is broken",
                                           body="It broke again."))
    assert outcome.action == "created" and outcome.ticket_number == n + 1
    follow_up = await ticket(core, n + 1)
    closed = await ticket(core, n)
    assert follow_up is not None and closed is not None
    assert follow_up.follow_up_of == n and follow_up.status == Status.NEW
    assert closed.status == Status.CLOSED
    assert len(await messages(core, n)) == 2, "the closed ticket gets nothing new"
    assert [m.body_text.strip() for m in await messages(core, n + 1)] == ["It broke again."]

    new_side = [h.detail for h in await queries.history(core.ctx, OPERATOR, n + 1) if h.action == "follow_up"]
    old_side = [h.detail for h in await queries.history(core.ctx, OPERATOR, n) if h.action == "follow_up"]
    assert new_side == [f"follow-up of closed ticket #{n}"]
    assert old_side == [f"customer wrote again: follow-up ticket #{n + 1}"]


async def test_chat_hears_about_new_tickets_and_replies_once(core: Core) -> None:
    seen: list[str] = []

    async def opened(event: events.TicketOpened) -> None:
        assert await ticket(core, event.ticket.number) is not None, "published after commit"
        seen.append(f"opened #{event.ticket.number}: {event.first_message.text.strip()}")

    async def added(event: events.MessageAdded) -> None:
        seen.append(f"message #{event.ticket.number}: {event.message.text.strip()}")

    async def changed(event: events.TicketChanged) -> None:
        seen.append(f"changed #{event.ticket.number} by {event.actor}")

    core.ctx.bus.subscribe(events.TicketOpened, opened)
    core.ctx.bus.subscribe(events.MessageAdded, added)
    core.ctx.bus.subscribe(events.TicketChanged, changed)
    n, mid = await first_ticket(core, body="Printer broken.")
    reply = raw_mail(in_reply_to=mid, subject="Re: Printer is broken", body="Still broken.")
    await deliver(core, reply)
    await deliver(core, reply)
    await deliver(core, raw_mail(headers={"X-Tiketti-Loop": "support@helpdesk.test"}))
    assert seen == [
        f"opened #{n}: Printer broken.",
        f"message #{n}: Still broken.",
        f"changed #{n} by contact:mia@customer.example",
    ]
