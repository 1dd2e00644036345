"""Bounces, read receipts and abuse reports land on the ticket whose mail they are about, never in a new one.

Each test opens a ticket with a customer's mail, has an agent answer it, lets the
outbox mail the answer to a real SMTP relay (aiosmtpd), then delivers what a mail
server or the customer's mail program sent back about that mail (tests/support/reports.py)
through the same pipeline IMAP and the MTA pipe use. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import Core
from bot.domain.model import MailState, MessageKind
from bot.handlers import notices, queries, replies
from bot.handlers.bounces import UNMATCHED
from bot.handlers.context import Actor
from bot.handlers.events import MailDeliveryFailed
from bot.mail.outbox import OutboxWorker
from bot.mail.parse import parse_mail
from bot.mail.pipeline import MailPipeline
from bot.mail.transport import SmtpTransport
from tests.support import reports
from tests.support.cli import run_tiketti
from tests.support.mails import deliver, messages, outbox, raw_mail, ticket, ticket_count
from tests.support.people import OPERATOR
from tests.support.smtp_sink import SmtpSink

CUSTOMER = reports.CUSTOMER
ANA = Actor("U1", "Ana", in_tickets_channel=True)


@pytest.fixture
async def sink() -> AsyncIterator[SmtpSink]:
    s = SmtpSink()
    await s.start()
    yield s
    await s.stop()


async def send_all(core: Core, sink: SmtpSink) -> None:
    worker = OutboxWorker(core.ctx, SmtpTransport(sink.host, sink.port, starttls=False, timeout=10),
                          max_attempts=3, backoff_seconds=10)
    await worker.deliver_due()


async def replied(core: Core, sink: SmtpSink, subject: str = "Printer on fire") -> tuple[int, bytes]:
    """A customer's mail opens a ticket; Ana answers; the outbox mails it. The ticket, and the answer as sent."""
    opened = await deliver(core, raw_mail(frm=f"Mia Customer <{CUSTOMER}>", subject=subject))
    assert opened.action == "created" and opened.ticket_number is not None
    number = opened.ticket_number
    await replies.reply(core.ctx, ANA, number, "Unplug it, we are on our way.")
    await send_all(core, sink)
    (reply,) = [r for r in await outbox(core, number) if r.kind == "reply"]
    (sent,) = sink.with_message_id(reply.mail_message_id)
    return number, sent.raw


async def shown_notices(core: Core) -> list[object]:
    """What a chat platform would post now: the notice rows, with their events rebuilt from the store."""
    claimed = await notices.claim(core.ctx, "console", "test", since=datetime(2000, 1, 1, tzinfo=UTC),
                                  lease=timedelta(minutes=1))
    return [event for _, event in claimed]


async def actions(core: Core, number: int) -> list[str]:
    return [line.action for line in await queries.history(core.ctx, OPERATOR, number)]


@pytest.mark.parametrize("sender", list(reports.BOUNCES))
async def test_bounce_marks_the_reply_bounced_and_tells_the_team_on_its_ticket(
        core: Core, sink: SmtpSink, sender: str) -> None:
    build, reason = reports.BOUNCES[sender]
    number, sent = await replied(core, sink)

    outcome = await deliver(core, build(sent))

    assert (outcome.action, outcome.ticket_number) == ("report", number)
    assert await ticket_count(core) == 1, "a bounce opens no ticket"
    ack, reply = await outbox(core, number)
    assert (ack.kind, ack.state) == ("ack", MailState.SENT), "no acknowledgement for the bounce, and the ack stands"
    assert reply.state == MailState.BOUNCED and reason in (reply.last_error or ""), reply.last_error
    (notice,) = await shown_notices(core)
    assert isinstance(notice, MailDeliveryFailed)
    assert notice.ticket is not None and notice.ticket.number == number
    assert notice.to_addr == CUSTOMER and reason in notice.error
    details = await queries.show(core.ctx, OPERATOR, number)
    assert any(reason in line for line in details.ticket.failed_mail), "the ticket lists the mail as undelivered"
    assert "mail_bounced" in await actions(core, number)
    assert [m.kind for m in await messages(core, number)] == [MessageKind.INBOUND, MessageKind.REPLY], \
        "the bounce is no customer message"


async def test_the_same_bounce_delivered_twice_is_applied_once(core: Core, sink: SmtpSink) -> None:
    number, sent = await replied(core, sink)
    bounce = reports.postfix(sent)
    assert (await deliver(core, bounce)).action == "report"
    again = await deliver(core, bounce)
    assert (again.action, again.ticket_number) == ("duplicate", None)
    assert len(await shown_notices(core)) == 1
    assert (await actions(core, number)).count("mail_bounced") == 1


async def test_reports_fetched_together_with_customer_mail_are_told_apart(core: Core, sink: SmtpSink) -> None:
    """The IMAP path stores mails in groups: a bounce among them still finds its ticket, the person gets theirs."""
    number, sent = await replied(core, sink)
    new_mail = raw_mail(frm="Liisa <liisa@customer.test>", subject="Scanner jams")
    pipeline = MailPipeline(core.ctx)
    try:
        done = await pipeline.process_many([(reports.gmail(sent), None), (new_mail, None)], source="imap:INBOX")
    finally:
        pipeline.close()
    assert [(p.outcome.action, p.outcome.ticket_number) for p in done if p.outcome] == [
        ("report", number), ("created", number + 1)]
    assert [r.state for r in await outbox(core, number)] == [MailState.SENT, MailState.BOUNCED]


async def test_a_delay_warning_is_history_not_a_failure(core: Core, sink: SmtpSink) -> None:
    number, sent = await replied(core, sink)
    outcome = await deliver(core, reports.delayed(sent))
    assert (outcome.action, outcome.ticket_number) == ("report", number)
    assert [r.state for r in await outbox(core, number)] == [MailState.SENT, MailState.SENT]
    assert await shown_notices(core) == []
    assert "mail_delayed" in await actions(core, number)
    assert await ticket_count(core) == 1


async def test_read_receipt_is_a_line_in_the_thread_and_changes_nothing_else(core: Core, sink: SmtpSink) -> None:
    number, sent = await replied(core, sink)
    before = await ticket(core, number)
    assert before is not None

    outcome = await deliver(core, reports.read_receipt(sent))

    assert (outcome.action, outcome.ticket_number) == ("report", number)
    notes = [m.body_display for m in await messages(core, number) if m.kind == MessageKind.SYSTEM]
    assert notes == [f"Read receipt: {CUSTOMER} read “Re: Printer on fire [#{number}]” at 2025-03-04 07:30 UTC."]
    after = await ticket(core, number)
    assert after is not None and after.status == before.status, "a read receipt is not the customer replying"
    assert "read_receipt" in await actions(core, number)
    assert [r.state for r in await outbox(core, number)] == [MailState.SENT, MailState.SENT]
    assert await ticket_count(core) == 1


async def test_abuse_report_stops_acknowledgements_to_the_customer_but_not_replies(core: Core, sink: SmtpSink) -> None:
    number, sent = await replied(core, sink)

    outcome = await deliver(core, reports.abuse_report(sent))

    assert (outcome.action, outcome.ticket_number) == ("report", number)
    notes = [m.body_display for m in await messages(core, number) if m.kind == MessageKind.SYSTEM]
    assert len(notes) == 1 and f"{CUSTOMER} reported “Re: Printer on fire [#{number}]” as abuse" in notes[0]
    assert "automatic_mail_stopped" in await actions(core, number)

    later = await deliver(core, raw_mail(frm=f"Mia Customer <{CUSTOMER}>", subject="Another question"))
    assert later.action == "created" and later.ticket_number == number + 1
    assert await outbox(core, later.ticket_number) == [], "no acknowledgement to someone who called our mail spam"
    suppressed = [h.detail or "" for h in await queries.history(core.ctx, OPERATOR, later.ticket_number)
                  if h.action == "ack_suppressed"]
    assert len(suppressed) == 1 and "stopped" in suppressed[0]
    await replies.reply(core.ctx, ANA, later.ticket_number, "Here is the answer you asked for.")
    assert [r.kind for r in await outbox(core, later.ticket_number)] == ["reply"], "what an agent writes still goes"


async def test_not_spam_feedback_stops_nothing(core: Core, sink: SmtpSink) -> None:
    number, sent = await replied(core, sink)
    assert (await deliver(core, reports.abuse_report(sent, feedback_type="not-spam"))).action == "report"
    later = await deliver(core, raw_mail(frm=f"Mia Customer <{CUSTOMER}>", subject="Another question"))
    assert later.ticket_number is not None
    assert [r.kind for r in await outbox(core, later.ticket_number)] == ["ack"]


def test_a_daemon_writing_without_a_bounce_in_it_is_no_report() -> None:
    """A server's notice with an IP address and a version in it: neither is an SMTP status code."""
    notice = raw_mail(frm="MAILER-DAEMON@mx.customer.test", subject="Weekly queue summary",
                      body="Relay 10.5.1.2 runs Postfix 3.4.5.1; nothing is queued for you.")
    assert parse_mail(notice).report is None


def foreign_mail(message_id: str) -> bytes:
    """A mail we never sent (spam forging our address, or an id that only looks like ours)."""
    return raw_mail(frm="Helpdesk <support@helpdesk.test>", to=f"<{CUSTOMER}>", subject="You have won",
                    message_id=message_id)


@pytest.mark.parametrize("message_id", ["<spam.123@bulk.example>", "<tiketti.1.abcdef012345.0000000000000000@helpdesk.test>"])
async def test_a_report_about_mail_we_never_sent_is_listed_not_a_ticket(core: Core, message_id: str) -> None:
    # The second id has our shape and a ticket #1 exists, but the signature is wrong: it must not match.
    await deliver(core, raw_mail(frm=f"Mia Customer <{CUSTOMER}>", subject="Printer on fire"))
    for build in (reports.postfix, reports.read_receipt, reports.abuse_report):
        raw = build(foreign_mail(message_id)) if build is not reports.abuse_report else \
            reports.abuse_report(foreign_mail(message_id), rcpt="")
        outcome = await deliver(core, raw)
        assert (outcome.action, outcome.ticket_number) == ("report_unmatched", None), build.__name__
        assert (await deliver(core, raw)).action == "duplicate", "delivered again, kept once"
    assert await ticket_count(core) == 1
    assert [r.kind for r in await outbox(core, 1)] == ["ack"], "nothing mailed because of the reports"
    assert [m.kind for m in await messages(core, 1)] == [MessageKind.INBOUND]
    async with core.ctx.uow() as uow:
        kept = list(await uow.quarantine.unresolved())
    assert [it.reason.split(":")[:2] for it in kept] == [
        [UNMATCHED, " delivery failure"], [UNMATCHED, " read receipt"], [UNMATCHED, " abuse report"]]
    assert all(it.raw.startswith(b"Return-Path: <>") for it in kept[:1]), "the report is kept whole"
    assert await shown_notices(core) == [], "backscatter is listed, not announced in chat"


async def test_a_customer_forwarding_a_bounce_is_a_person_asking(core: Core, sink: SmtpSink) -> None:
    """Only the report itself is a report: a person's mail about one still becomes a ticket."""
    _, sent = await replied(core, sink)
    bounce = reports.postfix(sent, rcpt="colleague@customer.test")
    forwarded = (b"From: Mia Customer <mia@customer.test>\r\nTo: support@helpdesk.test\r\n"
                 b"Subject: Fwd: Undelivered Mail Returned to Sender\r\nMessage-ID: <fwd-1@customer.test>\r\n"
                 b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=fwd\r\n\r\n--fwd\r\n"
                 b"Content-Type: text/plain\r\n\r\nYour mail to my colleague bounced with 550 5.1.1, why?\r\n--fwd\r\n"
                 b"Content-Type: message/rfc822\r\n\r\n" + bounce + b"\r\n--fwd--\r\n")
    typed = raw_mail(frm=f"Mia Customer <{CUSTOMER}>", subject="Undeliverable mail to your sales address",
                     body="Mail to sales@helpdesk.test gives 550 5.1.1 user unknown. Can you look?")
    for raw in (forwarded, typed):
        outcome = await deliver(core, raw)
        assert outcome.action == "created" and outcome.ticket_number is not None




def test_agents_read_unmatched_reports_apart_from_broken_mail(cli_env: dict[str, str], tmp_path: Path) -> None:
    """The operator's view: `quarantine list` is what needs a person; `--system` the reports nobody sent us about."""
    def tiketti(*args: str, stdin: bytes | None = None) -> str:
        done = run_tiketti(list(args), env=cli_env, cwd=tmp_path, stdin=stdin)
        assert done.returncode == 0, done.stderr.decode()
        return done.stdout.decode()

    tiketti("ingest", stdin=b"\x00\x01 not a mail at all")  # quarantine #1: broken
    bounce = reports.postfix(foreign_mail("<spam.9@bulk.example>"))
    assert tiketti("ingest", stdin=bounce).strip() == "report_unmatched: delivery failure kept as quarantine #2"

    plain = tiketti("quarantine", "list")
    assert "#1 " in plain and "#2 " not in plain
    assert "1 unmatched delivery report(s) not shown: tiketti quarantine list --system" in plain
    system = tiketti("quarantine", "list", "--system")
    assert "#1 " not in system
    (line,) = [line for line in system.splitlines() if line.startswith("#2 ")]
    assert "mailer-daemon@mx1.customer.test" in line.lower()
    assert f"{UNMATCHED}: delivery failure: 550 5.1.1 <{CUSTOMER}>: Recipient address rejected" in line
