"""A Message-ID names one mail: its re-delivery is stored once, a different mail reusing it is stored
(and flagged), and a quarantined mail delivered again is kept once (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.app import Core
from bot.handlers import events, queries
from bot.mail.imap import ImapFetcher
from bot.mail.pipeline import MailPipeline
from tests.support.imap_server import ImapServer, start_imap_server
from tests.support.mails import deliver, raw_mail, ticket_count
from tests.support.people import OPERATOR

SHARED = "<20250303101500.shared@mailer.example>"


@pytest.fixture(scope="module")
def imap_server() -> Iterator[ImapServer]:
    yield from start_imap_server(idle=True)


async def test_a_different_mail_reusing_a_message_id_is_stored_and_flagged(core: Core) -> None:
    first = await deliver(core, raw_mail(frm="Mia <mia@customer.example>", subject="Printer broken", message_id=SHARED,
                                         body="The printer prints blank pages."))
    other = await deliver(core, raw_mail(frm="Eve <eve@elsewhere.example>", subject="Invoice question",
                                         message_id=SHARED, body="Why is my invoice twice the price?"))
    assert first.action == other.action == "created" and first.ticket_number != other.ticket_number
    assert other.ticket_number is not None
    details = await queries.show(core.ctx, OPERATOR, other.ticket_number)
    assert details.ticket.subject == "Invoice question"
    assert details.messages[0].text.strip() == "Why is my invoice twice the price?"
    [flag] = [line for line in await queries.history(core.ctx, OPERATOR, other.ticket_number)
              if line.action == "message_id_reused"]
    assert f"#{first.ticket_number}" in (flag.detail or "")
    # Both mails delivered again (another relay's headers on top) are recognised: nothing more is stored.
    again = raw_mail(frm="Mia <mia@customer.example>", subject="Printer broken", message_id=SHARED,
                     body="The printer prints blank pages.", headers={"Received": "from relay2.example by mx"})
    assert (await deliver(core, again)).action == "duplicate"
    assert (await deliver(core, raw_mail(frm="Eve <eve@elsewhere.example>", subject="Invoice question",
                                         message_id=SHARED, body="Why is my invoice twice the price?"))).action == "duplicate"
    assert await ticket_count(core) == 2


async def test_same_sender_same_id_other_text_is_stored_too(core: Core) -> None:
    await deliver(core, raw_mail(subject="Printer broken", message_id=SHARED, body="First text."))
    second = await deliver(core, raw_mail(subject="Printer broken", message_id=SHARED, body="Entirely other text."))
    assert second.action == "created"
    assert await ticket_count(core) == 2


async def test_a_quarantined_mail_delivered_again_is_kept_once(core: Core, imap_server: ImapServer) -> None:
    announced: list[events.MailQuarantined] = []

    async def listen(event: events.MailQuarantined) -> None:
        announced.append(event)

    core.ctx.bus.subscribe(events.MailQuarantined, listen)
    broken = raw_mail(frm="nobody", subject="No sender here", message_id="<broken.1@customer.example>")
    folder = imap_server.new_folder()
    imap_server.append(folder, broken, broken, raw_mail(subject="Fine"))  # a client that sent it twice
    f = ImapFetcher(core.ctx, MailPipeline(core.ctx), host=imap_server.host, port=imap_server.port,
                    user=imap_server.user, password=imap_server.password, ssl=False, folder=folder, poll_seconds=600)
    try:
        assert await f.fetch_once() == 3
    finally:
        await f.close()
    again = await MailPipeline(core.ctx).process(broken, source="pipe")  # and once more by another door
    async with core.ctx.uow() as uow:
        [held] = await uow.quarantine.unresolved()
    assert again.quarantine_id == held.id and held.raw == broken
    assert [e.quarantine_id for e in announced] == [held.id]  # agents were told once
    assert await ticket_count(core) == 1
