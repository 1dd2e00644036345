"""Mail out: replies and acknowledgements leave through a real SMTP server (aiosmtpd on 127.0.0.1), once each.

Runs on SQLite and PostgreSQL. Time is a clock the test moves, so retries are
checked by their schedule, never by sleeping.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.parser import BytesParser
from email.policy import default as default_policy
from pathlib import Path

import pytest

from bot.app import Core
from bot.domain.inbound import InboundMail
from bot.domain.model import MailState, OutboundMail
from bot.handlers import intake, queries, replies
from bot.handlers.context import Actor
from bot.handlers.delivery import UNCERTAIN
from bot.handlers.events import MailDeliveryFailed
from bot.mail.outbox import OutboxWorker
from bot.mail.transport import FolderTransport, SmtpTransport, Transport, transport_from_settings
from tests.conftest import make_settings
from tests.support.db import Database
from tests.support.people import OPERATOR
from tests.support.smtp_sink import SmtpSink

CUSTOMER = "mia@customer.test"
SUPPORT = "support@helpdesk.test"
CUSTOMER_MID = "<printer-1@customer.test>"
BACKOFF = 10.0
WAIT = 20.0  # a guard against hanging, not a performance claim


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(core: Core) -> Clock:
    c = Clock()
    core.ctx.clock = c
    return c


@pytest.fixture
async def sink() -> AsyncIterator[SmtpSink]:
    """A relay on a free port, not yet started: each test decides when it is up."""
    s = SmtpSink()
    yield s
    await s.stop()


def worker(core: Core, transport: Transport, **kw: object) -> OutboxWorker:
    opts: dict[str, object] = {"max_attempts": 3, "backoff_seconds": BACKOFF, **kw}
    return OutboxWorker(core.ctx, transport, **opts)  # type: ignore[arg-type]


def smtp(sink: SmtpSink) -> SmtpTransport:
    return SmtpTransport(sink.host, sink.port, starttls=False, timeout=10)


async def open_ticket(core: Core, subject: str = "Printer on fire", mid: str = CUSTOMER_MID) -> int:
    mail = InboundMail(message_id=mid, subject=subject, from_addr=CUSTOMER, from_name="Mia",
                       to=(SUPPORT,), text="It smokes.", display_text="It smokes.")
    outcome = await intake.receive_mail(core.ctx, mail, source="test")
    assert outcome.action == "created" and outcome.ticket_number is not None
    return outcome.ticket_number


async def answer(core: Core, number: int, text: str = "Unplug it, we are on our way.") -> None:
    await replies.reply(core.ctx, Actor("U1", "Ana", in_tickets_channel=True), number, text)


async def rows(core: Core, number: int = 1) -> list[OutboundMail]:
    async with core.ctx.uow() as uow:
        return list(await uow.outbox.for_ticket(number))


def failures(core: Core) -> list[MailDeliveryFailed]:
    seen: list[MailDeliveryFailed] = []

    async def on_failed(event: MailDeliveryFailed) -> None:
        seen.append(event)

    core.ctx.bus.subscribe(MailDeliveryFailed, on_failed)
    return seen


async def test_relay_down_then_up_delivers_reply_and_ack_exactly_once_with_threading_headers(
        core: Core, clock: Clock, sink: SmtpSink) -> None:
    await open_ticket(core)
    await answer(core, 1)
    w = worker(core, smtp(sink))

    assert await w.deliver_due() == 2  # relay down: both tried, both kept
    ack, reply = await rows(core)
    for row in (ack, reply):
        assert row.state == MailState.PENDING and row.attempts == 1 and row.last_error
        assert row.next_attempt_at == clock.now + timedelta(seconds=BACKOFF)
    assert await w.deliver_due() == 0, "nothing is retried before its time"

    await sink.start()
    clock.advance(BACKOFF)
    assert await w.deliver_due() == 2
    assert await w.deliver_due() == 0
    assert [r.state for r in await rows(core)] == [MailState.SENT, MailState.SENT]

    assert len(sink.received) == 2
    got_ack, = sink.with_message_id(ack.mail_message_id)
    assert got_ack.message["Auto-Submitted"] == "auto-generated"
    got, = sink.with_message_id(reply.mail_message_id)
    assert got.mail_from == SUPPORT and got.rcpt_tos == (CUSTOMER,)
    m = got.message
    assert m["From"].addresses[0].addr_spec == SUPPORT
    assert m["To"].addresses[0].addr_spec == CUSTOMER
    assert m["Subject"] == "Re: Printer on fire [#1]"
    assert m["In-Reply-To"] == CUSTOMER_MID
    assert CUSTOMER_MID in m["References"].split()
    assert m["Message-ID"] == reply.mail_message_id and m["Message-ID"].startswith("<tiketti.1.")
    assert "Unplug it" in m.get_body(("plain",)).get_content()


async def test_retries_back_off_then_give_up_and_4xx_counts_as_temporary(core: Core, clock: Clock, sink: SmtpSink) -> None:
    seen = failures(core)
    await sink.start()
    sink.refuse(CUSTOMER, 450, "4.2.0 Mailbox busy, try later")
    await open_ticket(core)
    w = worker(core, smtp(sink), max_attempts=3)

    await w.deliver_due()
    (row,) = await rows(core)
    assert row.state == MailState.PENDING and "450" in (row.last_error or "")
    clock.advance(BACKOFF)
    await w.deliver_due()
    (row,) = await rows(core)
    assert row.next_attempt_at == clock.now + timedelta(seconds=2 * BACKOFF), "the wait doubles"
    clock.advance(2 * BACKOFF)
    await w.deliver_due()
    (row,) = await rows(core)
    assert row.state == MailState.FAILED and row.attempts == 3
    assert len(seen) == 1 and sink.received == []
    assert w.retry_delay(30) == timedelta(minutes=15), "never more than 15 minutes between tries"


async def test_concurrent_workers_never_send_a_row_twice(core: Core, clock: Clock, sink: SmtpSink) -> None:
    await sink.start()
    for n in range(3):
        number = await open_ticket(core, f"Question {n}", f"<q{n}@customer.test>")
        await answer(core, number, f"Answer {n}")
    expected = {r.mail_message_id for n in (1, 2, 3) for r in await rows(core, n)}
    assert len(expected) == 6

    workers = [worker(core, smtp(sink), batch=2) for _ in range(3)]
    handled = await asyncio.gather(*(w.deliver_due() for w in workers for _ in range(2)))
    assert sum(handled) == 6
    assert sum([await w.deliver_due() for w in workers]) == 0

    ids = [r.message["Message-ID"] for r in sink.received]
    assert sorted(ids) == sorted(expected), "every mail arrived exactly once"


async def test_rejected_recipient_fails_at_once_and_the_ticket_shows_it(core: Core, clock: Clock, sink: SmtpSink) -> None:
    seen = failures(core)
    await sink.start()
    sink.refuse(CUSTOMER)  # 550 User unknown
    await open_ticket(core)
    await answer(core, 1)
    w = worker(core, smtp(sink), max_attempts=5)

    assert await w.deliver_due() == 2
    assert await w.deliver_due() == 0, "a 5xx is not retried"
    ack, reply = await rows(core)
    assert reply.state == MailState.FAILED and reply.attempts == 1 and "550" in (reply.last_error or "")
    assert sink.received == []

    assert {e.subject for e in seen} == {"Re: Printer on fire [#1]"} and len(seen) == 2
    assert all(e.to_addr == CUSTOMER and e.ticket and e.ticket.number == 1 and "550" in e.error for e in seen)
    shown = (await queries.show(core.ctx, OPERATOR, 1)).ticket.failed_mail
    assert len(shown) == 2 and all(CUSTOMER in line and "User unknown" in line for line in shown)
    history = [line for line in await queries.history(core.ctx, OPERATOR, 1) if line.action == "mail_failed"]
    assert len(history) == 2 and reply.mail_message_id in " ".join(h.detail or "" for h in history)


async def test_mail_stuck_in_sending_after_a_crash_is_reported_not_resent(core: Core, clock: Clock, sink: SmtpSink) -> None:
    seen = failures(core)
    await sink.start()
    await open_ticket(core)
    w = worker(core, smtp(sink), lease_seconds=300)
    await w.deliver_due()  # the acknowledgement goes out normally
    await answer(core, 1, "First answer")
    await answer(core, 1, "Second answer")

    sink.stall()
    sending = asyncio.create_task(w.deliver_due())
    await asyncio.wait_for(sink.stalled.wait(), WAIT)
    sending.cancel()  # the bot dies while the relay holds the first answer
    sink.unstall()  # (only so the cancelled client's polite QUIT gets an answer at once)
    await asyncio.gather(sending, return_exceptions=True)
    (_, first, second) = await rows(core)
    assert first.state == MailState.SENDING
    assert second.state == MailState.PENDING and second.attempts == 0, "the untried mail goes back to the queue"

    restarted = worker(core, smtp(sink))
    assert await restarted.deliver_due() == 1, "inside its lease the stuck row is left alone"
    clock.advance(301)
    assert await restarted.deliver_due() == 1
    assert await restarted.deliver_due() == 0
    (_, first, second) = await rows(core)
    assert first.state == MailState.FAILED and first.last_error == UNCERTAIN
    assert sink.with_message_id(first.mail_message_id) == [], "never sent a second time"
    assert second.state == MailState.SENT and len(sink.with_message_id(second.mail_message_id)) == 1
    assert len(seen) == 1 and seen[0].error == UNCERTAIN
    assert any(UNCERTAIN in line for line in (await queries.show(core.ctx, OPERATOR, 1)).ticket.failed_mail)


async def test_running_worker_delivers_queued_mail_and_stops_when_told(core: Core, sink: SmtpSink) -> None:
    await sink.start()
    w = worker(core, smtp(sink))
    stop = asyncio.Event()
    running = asyncio.create_task(w.run(stop))
    await open_ticket(core)
    await answer(core, 1)
    w.wake()

    async def both_arrived() -> None:
        while len(sink.received) < 2:
            await asyncio.sleep(0.02)

    await asyncio.wait_for(both_arrived(), WAIT)
    stop.set()
    await asyncio.wait_for(running, WAIT)
    assert [r.state for r in await rows(core)] == [MailState.SENT, MailState.SENT]
    assert len(sink.received) == 2


async def test_folder_transport_writes_readable_mail(core: Core, clock: Clock, tmp_path: Path, database: Database) -> None:
    transport = transport_from_settings(make_settings(database, tmp_path))
    assert isinstance(transport, FolderTransport), "no SMTP host: mail goes to the outbound folder"
    await open_ticket(core)
    await answer(core, 1)
    assert await worker(core, transport).deliver_due() == 2

    files = sorted((tmp_path / "outbound").iterdir())
    assert len(files) == 2 and all(f.suffix == ".eml" for f in files), "no temporary files left behind"
    subjects = {str(BytesParser(policy=default_policy).parsebytes(f.read_bytes())["Subject"]) for f in files}
    assert subjects == {"Re: Printer on fire [#1]"}
    assert [r.state for r in await rows(core)] == [MailState.SENT, MailState.SENT]
