"""Outside experts consulted by mail (`/ticket ask`), end to end on SQLite and PostgreSQL: the customer's mail
comes in over IMAP (a real server), the question leaves through the outbox to an SMTP server (aiosmtpd), the
expert's answer comes back over IMAP, and agents work at the console. What is checked is what people would
notice: what the expert receives, where the answer lands, that the customer hears nothing of it."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import AsyncIterator, Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.adapters.console import ConsoleAdapter
from bot.app import Core, build_core
from bot.domain import mail_ids
from bot.domain.experts import BadExpertAddress, expert_address
from bot.domain.model import MailState, MessageKind
from bot.domain.status import Status
from bot.handlers import experts, queries, tickets
from bot.handlers.context import Actor
from bot.handlers.errors import Refused
from bot.handlers.permissions import Denied
from bot.mail.imap import ImapFetcher
from bot.mail.outbox import OutboxWorker
from bot.mail.pipeline import MailPipeline
from bot.mail.transport import SmtpTransport
from bot.store import orm
from tests.conftest import make_settings
from tests.support import reports
from tests.support.db import Database
from tests.support.imap_server import ImapServer, start_imap_server
from tests.support.mails import messages, outbox, raw_mail, ticket
from tests.support.smtp_sink import Received, SmtpSink
from tests.support.store_state import refusals, store_state

WORKFLOW = """
default_team = "billing"

[[teams]]
name = "billing"
members = ["U0ANA"]

[roles]
light = ["U0LIT"]
"""

ANA = Actor("U0ANA", "Ana")
LIGHT = Actor("U0LIT", "Lee Light")
CUSTOMER = "mia@customer.example"
EXPERT = "expert@supplier.example"
SECRET = "SECRET-NOTE: the customer's card ends 4242"
COMPLAINT = "I was charged twice for March, 49 euros each time."


@pytest.fixture(scope="module")
def imap_server() -> Iterator[ImapServer]:
    yield from start_imap_server(idle=False)


@pytest.fixture
async def sink() -> AsyncIterator[SmtpSink]:
    s = SmtpSink()
    await s.start()
    yield s
    await s.stop()


class Desk:
    """The helpdesk with its mailbox and relay: mail in by IMAP, mail out by SMTP, agents at the console."""

    def __init__(self, core: Core, imap: ImapServer, sink: SmtpSink) -> None:
        self.core, self.imap, self.sink = core, imap, sink
        self.folder = imap.new_folder()
        self.fetcher = ImapFetcher(core.ctx, MailPipeline(core.ctx), host=imap.host, port=imap.port, user=imap.user,
                                   password=imap.password, ssl=False, folder=self.folder, poll_seconds=600)
        self.outbox = OutboxWorker(core.ctx, SmtpTransport(sink.host, sink.port, starttls=False, timeout=10),
                                   max_attempts=3, backoff_seconds=10.0)

    async def mail_in(self, raw: bytes) -> None:
        self.imap.append(self.folder, raw)
        assert await self.fetcher.fetch_once() == 1

    async def send_out(self) -> list[Received]:
        """What the outbox mails now."""
        before = len(self.sink.received)
        await self.outbox.deliver_due()
        return self.sink.received[before:]

    async def console(self, actor: Actor, line: str) -> str:
        out = io.StringIO()
        await ConsoleAdapter(self.core.ctx, out, actor=actor).execute(line)
        return out.getvalue()

    def mailed_to(self, address: str) -> list[Received]:
        return [r for r in self.sink.received if address in r.rcpt_tos]


@pytest.fixture
async def desk(database: Database, tmp_path: Path, imap_server: ImapServer, sink: SmtpSink) -> AsyncIterator[Desk]:
    path = tmp_path / "workflow.toml"
    path.write_text(WORKFLOW)
    core = await build_core(make_settings(database, tmp_path, workflow_file=path), engine=database.engine())
    d = Desk(core, imap_server, sink)
    try:
        yield d
    finally:
        await d.fetcher.close()
        await core.close()


async def opened(desk: Desk) -> int:
    """Mia writes in; Ana notes something secret and answers her (the ball is in Mia's court)."""
    await desk.mail_in(raw_mail(frm=f"Mia <{CUSTOMER}>", subject="Invoice twice", body=COMPLAINT,
                                message_id="<march@customer.example>"))
    await tickets.add_note(desk.core.ctx, ANA, 1, SECRET)
    assert "reply sent" in await desk.console(ANA, "/ticket reply 1 We are looking into it.")
    assert [r.rcpt_tos for r in await desk.send_out()] == [(CUSTOMER,), (CUSTOMER,)]  # the ack and the reply
    return 1


def expert_reply(question: Received, body: str, *, message_id: str, subject: str | None = None,
                 headers: dict[str, str] | None = None, attachment: bytes | None = None) -> bytes:
    """The expert's mail client answering `question` (In-Reply-To and References as clients write them)."""
    asked = question.message
    mail = EmailMessage()
    mail["From"] = f"Erik Expert <{EXPERT}>"
    mail["To"] = asked["From"]
    mail["Subject"] = subject or f"Re: {asked['Subject']}"
    mail["Date"] = "Tue, 04 Mar 2025 09:00:00 +0000"
    mail["Message-ID"] = message_id
    mail["In-Reply-To"] = asked["Message-ID"]
    mail["References"] = " ".join([*(asked["References"] or "").split(), asked["Message-ID"]])
    for name, value in (headers or {}).items():
        mail[name] = value
    mail.set_content(body)
    if attachment is not None:
        mail.add_attachment(attachment, maintype="application", subtype="pdf", filename="statement.pdf")
    return mail.as_bytes()


def text_of(received: Received) -> str:
    message = received.message
    return "\n".join(part.get_content() for part in message.walk() if part.get_content_maintype() == "text")


async def test_the_expert_is_asked_by_mail_and_answers_onto_the_same_ticket_as_a_note(desk: Desk) -> None:
    number = await opened(desk)
    before = await ticket(desk.core, number)
    assert before is not None and before.status == Status.WAITING_ON_CUSTOMER

    said = await desk.console(ANA, f"/ticket ask {number} {EXPERT} --with-message | Is this second charge ours?")
    assert f"question mailed to {EXPERT}" in said
    [question] = await desk.send_out()
    mail, text = question.message, text_of(question)
    assert question.rcpt_tos == (EXPERT,) and mail["To"] == EXPERT
    assert mail_ids.ticket_from_message_id(mail["Message-ID"], desk.core.ctx.key) == number  # ours, signed
    assert mail["Subject"] == f"Invoice twice [#{number}]" and mail["In-Reply-To"] is None
    assert "Is this second charge ours?" in text and COMPLAINT in text
    assert SECRET not in text and "We are looking into it." not in text and CUSTOMER not in question.raw.decode()

    pdf = b"%PDF-1.4 the supplier's statement"
    await desk.mail_in(expert_reply(question, "Yes, the second charge is ours: refunded today.",
                                    message_id="<answer-1@supplier.example>", attachment=pdf))

    shown = await messages(desk.core, number)
    answer = shown[-1]
    assert answer.kind == MessageKind.NOTE and answer.author_label == f"{EXPERT} by mail"
    assert answer.body_display.startswith(f"from {EXPERT} by mail, answering Ana's question")
    assert "refunded today" in answer.body_display
    a = orm.attachments.c
    async with desk.core.engine.connect() as conn:
        kept = (await conn.execute(select(a.filename, a.content).where(a.message_id == answer.id))).all()
    assert [tuple(row) for row in kept] == [("statement.pdf", pdf)]
    after = await ticket(desk.core, number)
    assert after is not None and (after.status, after.first_response_at, after.last_inbound_message_id) == (
        before.status, before.first_response_at, before.last_inbound_message_id)
    assert await ticket(desk.core, number + 1) is None, "no ticket of its own"
    assert await desk.send_out() == [], "nothing is mailed back: no acknowledgement, and never to the customer"
    assert len(desk.mailed_to(CUSTOMER)) == 2

    details = await desk.console(ANA, f"/ticket show {number}")
    assert f"asked {EXPERT} by mail" in details and "refunded today" in details and f"{EXPERT} by mail" in details

    # A follow-up continues the mail thread: under the expert's answer, with the whole exchange referenced.
    await desk.console(ANA, f"/ticket ask {number} {EXPERT} | And the April invoice?")
    [follow_up] = await desk.send_out()
    assert follow_up.rcpt_tos == (EXPERT,)
    assert follow_up.message["Subject"] == f"Re: Invoice twice [#{number}]"
    assert follow_up.message["In-Reply-To"] == "<answer-1@supplier.example>"
    assert follow_up.message["References"].split() == [mail["Message-ID"], "<answer-1@supplier.example>"]
    assert COMPLAINT not in text_of(follow_up), "the customer's message goes only when asked for"


async def test_the_customer_and_the_expert_stay_in_their_own_conversations(desk: Desk) -> None:
    number = await opened(desk)
    await desk.console(ANA, f"/ticket ask {number} {EXPERT} | Is this ours?")
    [question] = await desk.send_out()
    [reply] = [m for m in await messages(desk.core, number) if m.kind == MessageKind.REPLY]

    # Mia answers our reply: her mail is the customer's, as ever; nothing goes to the expert.
    await desk.mail_in(raw_mail(frm=f"Mia <{CUSTOMER}>", subject=f"Re: Invoice twice [#{number}]",
                                body="Any news?", in_reply_to=reply.mail_message_id,
                                references=(reply.mail_message_id or "",)))
    after = await ticket(desk.core, number)
    assert after is not None and after.status == Status.CUSTOMER_REPLIED
    assert (await messages(desk.core, number))[-1].kind == MessageKind.INBOUND

    # The expert answers with only the subject's tag (a new mail, not a reply): still a note.
    await desk.mail_in(raw_mail(frm=f"Erik <{EXPERT}>", subject=f"About [#{number}]", body="It is ours."))
    note = (await messages(desk.core, number))[-1]
    assert note.kind == MessageKind.NOTE and note.author_label == f"{EXPERT} by mail"
    assert await desk.send_out() == []
    assert desk.mailed_to(EXPERT) == [question]

    # Someone we never asked, with the same tag: not the ticket's, as before (a ticket of their own).
    await desk.mail_in(raw_mail(frm="Olli <olli@elsewhere.example>", subject=f"About [#{number}]", body="Hi"))
    assert (await messages(desk.core, number))[-1].id == note.id
    assert await ticket(desk.core, number + 1) is not None

    # Mia's later reply still goes to Mia alone, threaded under her own conversation, not the expert's.
    await desk.console(ANA, f"/ticket reply {number} The supplier confirmed it.")
    [to_mia, _ack_for_olli] = sorted(await desk.send_out(), key=lambda r: r.rcpt_tos != (CUSTOMER,))
    assert to_mia.rcpt_tos == (CUSTOMER,)
    assert question.message["Message-ID"] not in to_mia.raw.decode() and EXPERT not in to_mia.raw.decode()


async def test_an_out_of_office_from_the_expert_is_kept_and_never_answered(desk: Desk) -> None:
    number = await opened(desk)
    await desk.console(ANA, f"/ticket ask {number} {EXPERT} | Is this ours?")
    [question] = await desk.send_out()
    away = expert_reply(question, "I am away until Monday.", message_id="<ooo@supplier.example>",
                        subject=f"Automatic reply: {question.message['Subject']}",
                        headers={"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"})
    await desk.mail_in(away)
    await desk.mail_in(away)  # delivered twice: kept once

    notes = [m for m in await messages(desk.core, number) if m.mail_message_id == "<ooo@supplier.example>"]
    assert len(notes) == 1 and notes[0].kind == MessageKind.NOTE
    assert "an automatic reply: Auto-Submitted: auto-replied" in notes[0].body_display
    assert await desk.send_out() == [], "no mail back: no loop"
    assert len(desk.sink.received) == 3  # the ack, the reply and the question, nothing since
    after = await ticket(desk.core, number)
    assert after is not None and after.status == Status.WAITING_ON_CUSTOMER


async def test_addresses_that_are_not_one_outside_expert_are_refused_and_nothing_is_sent(desk: Desk) -> None:
    number = await opened(desk)
    ctx = desk.core.ctx
    before = await store_state(desk.core)
    for address, why in ((f"{EXPERT}\r\nBcc: thief@evil.example", "line break"),
                         (f"{EXPERT}\nBcc: thief@evil.example", "line break"),
                         (f"{EXPERT}, thief@evil.example", "one address"),
                         ("not-an-address", "not a mail address")):
        with pytest.raises(BadExpertAddress, match=why):
            await experts.ask_expert(ctx, ANA, number, address, "Is this ours?")
    for address, why in (("support@helpdesk.test", "helpdesk's own address"), (CUSTOMER, "customer"),
                         ("someone@chat.invalid", "reserved")):
        with pytest.raises(Refused, match=why):
            await experts.ask_expert(ctx, ANA, number, address, "Is this ours?")
    said = await desk.console(ANA, f"/ticket ask {number} {EXPERT}")
    assert said.startswith("✗") and "usage" in said
    assert await store_state(desk.core) == before
    assert await desk.send_out() == []


async def test_a_line_break_in_the_question_stays_in_the_body(desk: Desk) -> None:
    number = await opened(desk)
    await experts.ask_expert(desk.core.ctx, ANA, number, EXPERT, "Is this ours?\r\nBcc: thief@evil.example\r\n")
    [question] = await desk.send_out()
    assert question.rcpt_tos == (EXPERT,) and question.message["Bcc"] is None
    assert "Bcc: thief@evil.example" in text_of(question)


async def test_a_light_agent_may_not_mail_an_expert(desk: Desk) -> None:
    number = await opened(desk)
    await tickets.add_note(desk.core.ctx, ANA, number, "pulling Lee in")  # even pulled in, below
    before, tried = await store_state(desk.core), len(await refusals(desk.core, LIGHT))
    with pytest.raises(Denied):
        await experts.ask_expert(desk.core.ctx, LIGHT, number, EXPERT, "Is this ours?")
    said = await desk.console(LIGHT, f"/ticket ask {number} {EXPERT} | Is this ours?")
    assert said.startswith("✗") and SECRET not in said
    assert await store_state(desk.core) == before
    assert len(await refusals(desk.core, LIGHT)) == tried + 2
    assert await desk.send_out() == []


async def test_a_bounce_of_the_question_marks_it_undelivered_and_answers_nobody(desk: Desk) -> None:
    number = await opened(desk)
    await desk.console(ANA, f"/ticket ask {number} {EXPERT} | Is this ours?")
    [question] = await desk.send_out()
    await desk.mail_in(reports.postfix(question.raw, rcpt=EXPERT))

    [row] = [r for r in await outbox(desk.core, number) if r.to_addr == EXPERT]
    assert row.state == MailState.BOUNCED
    details = await queries.show(desk.core.ctx, ANA, number)
    assert any(EXPERT in line for line in details.ticket.failed_mail), "the ticket lists the question as undelivered"
    assert await ticket(desk.core, number + 1) is None and await desk.send_out() == []


async def test_the_customer_quoting_the_experts_mail_is_still_the_customer(desk: Desk) -> None:
    """Were Mia sent a copy of the exchange, her mail is hers: a customer message, not an expert's note."""
    number = await opened(desk)
    await desk.console(ANA, f"/ticket ask {number} {EXPERT} | Is this ours?")
    [question] = await desk.send_out()
    await desk.mail_in(raw_mail(frm=f"Mia <{CUSTOMER}>", subject=f"Re: Invoice twice [#{number}]", body="Well?",
                                in_reply_to=question.message["Message-ID"]))
    last = (await messages(desk.core, number))[-1]
    assert last.kind == MessageKind.INBOUND and "Well?" in last.body_text
    after = await ticket(desk.core, number)
    assert after is not None and after.status == Status.CUSTOMER_REPLIED


async def test_questions_to_an_expert_do_not_count_against_acknowledging_their_own_mail(desk: Desk) -> None:
    """People wrote the questions: they are not automatic mail, so the expert writing in as a customer later
    is acknowledged like anyone (at most TIKETTI_ACK_LIMIT_PER_HOUR automatic mails per hour, default 3)."""
    number = await opened(desk)
    await desk.console(ANA, f"/ticket ask {number} {EXPERT} | Is this ours?")
    [question] = await desk.send_out()
    await desk.mail_in(expert_reply(question, "Yes.", message_id="<yes@supplier.example>"))  # a known contact now
    for n in range(3):
        await desk.console(ANA, f"/ticket ask {number} {EXPERT} | Question {n + 2}?")
    assert len(await desk.send_out()) == 3
    await desk.mail_in(raw_mail(frm=f"Erik <{EXPERT}>", subject="A quote for five printers", body="Please."))
    assert await ticket(desk.core, number + 1) is not None
    [ack] = await desk.send_out()
    assert ack.rcpt_tos == (EXPERT,) and f"[#{number + 1}]" in ack.message["Subject"]


async def test_new_experts_count_toward_the_hourly_limit_on_mailing_outside_addresses(desk: Desk) -> None:
    number = await opened(desk)
    desk.core.ctx.config = dataclasses.replace(desk.core.ctx.config, send_limit_per_hour=2)
    await desk.console(ANA, f"/ticket ask {number} {EXPERT} | Is this ours?")
    await desk.console(ANA, f"/ticket ask {number} {EXPERT} | And April?")  # a follow-up: not a new address
    await desk.console(ANA, f"/ticket ask {number} bank@bank.example | Did you charge twice?")
    before = await store_state(desk.core)
    said = await desk.console(ANA, f"/ticket ask {number} auditor@audit.example | Seen this before?")
    assert said.startswith("✗") and "2 new outside addresses in the last hour" in said
    assert await store_state(desk.core) == before
    assert sorted(r.rcpt_tos[0] for r in await desk.send_out()) == ["bank@bank.example", EXPERT, EXPERT]


@pytest.mark.parametrize(("typed", "address"), [
    ("Expert@Supplier.Example", EXPERT), (f"<{EXPERT}>", EXPERT), (f"mailto:{EXPERT}", EXPERT),
    ("myynti@ääkköset.fi", "myynti@xn--kkset-fraa0m.fi"),  # the envelope's ASCII form
])
def test_an_expert_address_is_one_plain_address(typed: str, address: str) -> None:
    assert expert_address(typed) == address


@pytest.mark.parametrize("typed", ["expert@supplier", "expert@sup_plier.example", "expert@-supplier.example",
                                   "e xpert@supplier.example", "äiti@supplier.example", "expert@supplier.example\x00",
                                   "a" * 250 + "@supplier.example", "expert@supplier.example;thief@evil.example"])
def test_anything_else_is_not_an_expert_address(typed: str) -> None:
    with pytest.raises(BadExpertAddress):
        expert_address(typed)
