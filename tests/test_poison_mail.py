"""No mail stalls intake: mail that PostgreSQL used to refuse, delivered through a real IMAP server,
each followed by a normal mail that must become a ticket (SQLite and PostgreSQL).

Before values were made storable, each of these stopped or split the two databases: an encoded NUL
in the subject failed the ticket insert and then the quarantine insert (IMAP read the same batch
forever), 40,000 References ids broke asyncpg's parameter limit (read as "store unreachable", the
same stall), a 500-character attachment name or a 300-character sender name was stored on SQLite
and quarantined on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.app import Core
from bot.handlers import intake, queries
from bot.mail import pipeline as pipeline_module
from bot.mail.imap import ImapFetcher
from bot.mail.pipeline import MailPipeline
from bot.store.quarantine import SqlQuarantine
from tests.support.imap_server import ImapServer, start_imap_server
from tests.support.mails import raw_mail
from tests.support.people import OPERATOR


@pytest.fixture(scope="module")
def imap_server() -> Iterator[ImapServer]:
    yield from start_imap_server(idle=True)


def fetcher(core: Core, server: ImapServer, folder: str) -> ImapFetcher:
    return ImapFetcher(core.ctx, MailPipeline(core.ctx), host=server.host, port=server.port, user=server.user,
                       password=server.password, ssl=False, folder=folder, poll_seconds=600)


def with_attachment(filename: str) -> bytes:
    return ("From: Mia Customer <mia@customer.example>\r\nTo: support@helpdesk.test\r\nSubject: Scan attached\r\n"
            "Message-ID: <scan.1@customer.example>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
            "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe scan is attached.\r\n"
            f"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"{filename}\"\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b--\r\n").encode()


LONG_NAME = "Quarterly report " + "x" * 480 + ".pdf"
LONG_SENDER = "Mia " + "Verylongname" * 25  # 304 characters
POISON = {
    "nul-subject": raw_mail(subject="=?utf-8?q?hello=00world?=", message_id="<nul.1@customer.example>"),
    "40000-references": raw_mail(subject="Thread with history", message_id="<refs.1@customer.example>",
                                 references=tuple(f"<old{i}@elsewhere.example>" for i in range(40_000))),
    "long-attachment-name": with_attachment(LONG_NAME),
    "long-sender-name": raw_mail(frm=f"{LONG_SENDER} <mia@customer.example>", subject="Who am I",
                                 message_id="<name.1@customer.example>"),
}


async def tickets_by_subject(core: Core) -> dict[str, int]:
    async with core.ctx.uow() as uow:
        return {t.subject: t.number for t in await uow.tickets.active(limit=100)}


async def quarantined(core: Core) -> int:
    async with core.ctx.uow() as uow:
        return len(await uow.quarantine.unresolved())


@pytest.mark.parametrize("poison", list(POISON))
async def test_a_poison_mail_is_stored_and_the_mail_behind_it_becomes_a_ticket(
        core: Core, imap_server: ImapServer, poison: str) -> None:
    folder = imap_server.new_folder()
    imap_server.append(folder, POISON[poison], raw_mail(subject="Printer on fire", message_id="<next@customer.example>"))
    f = fetcher(core, imap_server, folder)
    try:
        assert await f.fetch_once() == 2
        assert await f.fetch_once() == 0  # the cursor moved past both: nothing is read again
    finally:
        await f.close()
    found = await tickets_by_subject(core)
    assert "Printer on fire" in found
    assert len(found) == 2 and await quarantined(core) == 0  # the poison mail is a ticket too, on both databases
    [number] = [n for subject, n in found.items() if subject != "Printer on fire"]
    first = (await queries.show(core.ctx, OPERATOR, number)).messages[0]
    if poison == "nul-subject":
        assert "helloworld" in found
    elif poison == "long-attachment-name":
        [attachment] = first.attachments
        assert attachment.stored and attachment.filename.startswith("Quarterly report xxx")
        assert attachment.filename.endswith(".pdf") and len(attachment.filename) <= 400
    elif poison == "long-sender-name":
        assert first.author.startswith("Mia Verylongname") and first.author.endswith("<mia@customer.example>")


async def test_a_mail_failing_again_and_again_is_quarantined_at_the_third_try_and_intake_moves_on(
        core: Core, imap_server: ImapServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever the error (here one that looks like a dropped connection while the store answers)."""
    real = intake.receive_together

    async def failing(ctx, mails, **kwargs):  # type: ignore[no-untyped-def]
        if any(m.subject == "Always fails" for m in mails):
            raise ConnectionResetError(104, "Connection reset by peer")
        return await real(ctx, mails, **kwargs)

    monkeypatch.setattr(intake, "receive_together", failing)
    folder = imap_server.new_folder()
    stuck = raw_mail(subject="Always fails", message_id="<stuck@customer.example>")
    imap_server.append(folder, raw_mail(subject="Before it"), stuck, raw_mail(subject="Behind it"))
    f = fetcher(core, imap_server, folder)
    try:
        for _ in range(pipeline_module.MAX_FAILURES - 1):
            with pytest.raises(ConnectionResetError):  # tried again later (run() backs off and reconnects)
                await f.fetch_once()
            assert await quarantined(core) == 0
        await f.fetch_once()
        assert await f.fetch_once() == 0
    finally:
        await f.close()
    assert set(await tickets_by_subject(core)) == {"Before it", "Behind it"}
    async with core.ctx.uow() as uow:
        [held] = await uow.quarantine.unresolved()
    assert held.raw == stuck and held.reason.startswith(f"failed {pipeline_module.MAX_FAILURES} times")


async def test_while_the_store_cannot_count_a_failure_nothing_is_quarantined(
        core: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    """An outage is not the mail's fault: however often it is tried, it is kept for later, not quarantined."""
    async def refused(ctx, mails, **kwargs):  # type: ignore[no-untyped-def]
        raise ConnectionRefusedError(111, "Connection refused")

    async def store_away(self: SqlQuarantine, raw: bytes) -> int:
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(intake, "receive_together", refused)
    monkeypatch.setattr(SqlQuarantine, "count_failure", store_away)
    pipeline = MailPipeline(core.ctx)
    for _ in range(pipeline_module.MAX_FAILURES + 2):
        with pytest.raises(ConnectionRefusedError):
            await pipeline.process(raw_mail(message_id="<outage@customer.example>"), source="test")
    assert await quarantined(core) == 0


async def test_a_value_the_database_refuses_quarantines_that_mail_at_once(
        core: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure caused by the mail's data is never retried: retrying it would stall the mails behind it."""
    from sqlalchemy.exc import DataError

    real = intake.receive_together

    async def refusing(ctx, mails, **kwargs):  # type: ignore[no-untyped-def]
        if any(m.subject == "Refused" for m in mails):
            raise DataError("INSERT INTO tickets ...", {}, ValueError("value too long for type character varying(998)"))
        return await real(ctx, mails, **kwargs)

    monkeypatch.setattr(intake, "receive_together", refusing)
    pipeline = MailPipeline(core.ctx)
    first = await pipeline.process(raw_mail(subject="Refused"), source="test")
    assert first.quarantine_id is not None
    assert (await pipeline.process(raw_mail(subject="Fine"), source="test")).ok
    assert set(await tickets_by_subject(core)) == {"Fine"}
