"""Quiet, safe logs: above DEBUG no record carries a mail's text, subject or a full address, whatever
happens to the mail (stored, quarantined, retried, refused by the database), on SQLite and PostgreSQL.

Logs travel further than the database (journald, log shippers, screenshots in tickets): a customer's
words and address belong in the helpdesk, not there.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DataError, IntegrityError

from bot.app import Core
from bot.handlers import intake
from bot.mail import imap as imap_module
from bot.mail.imap import ImapFetcher
from bot.mail.pipeline import MailPipeline
from tests.support.imap_server import ImapServer, start_imap_server
from tests.support.mails import raw_mail

SUBJECTS = ["Secret subject Alpha", "Secret subject Bravo", "Secret subject Charlie", "Secret subject Delta",
            "Secret subject Echo", "Secret subject Foxtrot"]
BODY = "Confidential body text about my diagnosis"
ADDRESSES = ["mia.private@customer.example", "eve.private@elsewhere.example"]
NAME = "Mia Privatename"
SECRETS = [*SUBJECTS, BODY, "diagnosis", *ADDRESSES, NAME, "hello\x00world", "helloworld"]


@pytest.fixture(scope="module")
def imap_server() -> Iterator[ImapServer]:
    yield from start_imap_server(idle=True)


def mails() -> list[bytes]:
    mia, eve = f"{NAME} <{ADDRESSES[0]}>", f"Eve <{ADDRESSES[1]}>"
    return [
        raw_mail(frm=mia, subject=SUBJECTS[0], body=BODY, message_id="<a1@mx.example>"),
        raw_mail(frm=mia, subject="=?utf-8?q?hello=00world?=", body=BODY, message_id="<a2@mx.example>"),
        raw_mail(frm=eve, subject=SUBJECTS[1], body=BODY, message_id="<a3@mx.example>",
                 references=tuple(f"<r{i}@mx.example>" for i in range(40_000))),
        raw_mail(frm=f"{NAME} {'x' * 300} <{ADDRESSES[0]}>", subject=SUBJECTS[2], body=BODY, message_id="<a4@mx.example>"),
        raw_mail(frm=f"{NAME}", subject=SUBJECTS[3], body=BODY, message_id="<a5@mx.example>"),  # no address: unparseable
        raw_mail(frm=eve, subject=SUBJECTS[4], body=BODY, message_id="<a6@mx.example>"),  # refused by the database
        raw_mail(frm=eve, subject=SUBJECTS[5], body=BODY, message_id="<a7@mx.example>"),  # fails, retried, quarantined
        raw_mail(frm=eve, subject="Behind them all", body=BODY, message_id="<a8@mx.example>"),
    ]


def leaks(caplog: pytest.LogCaptureFixture) -> list[str]:
    found = []
    formatter = logging.Formatter()
    for record in caplog.records:
        if record.levelno <= logging.DEBUG:
            continue
        shown = record.getMessage() + (formatter.formatException(record.exc_info) if record.exc_info else "")
        found += [f"{record.levelname} {record.name}: {secret!r}" for secret in SECRETS if secret in shown]
    return found


async def test_no_mail_text_subject_or_address_above_debug(core: Core, imap_server: ImapServer,
                                                            caplog: pytest.LogCaptureFixture,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    real = intake.receive_together

    async def troubled(ctx, batch, **kwargs):  # type: ignore[no-untyped-def]
        for mail in batch:
            quoted = f"{mail.subject} {mail.from_addr} {mail.text}"
            if mail.subject == SUBJECTS[4]:  # what a driver says about a value it refuses: it quotes it
                async with ctx.uow() as uow:
                    await uow.session.execute(text("INSERT INTO kv (key, value) VALUES (:k, :v)"),
                                              [{"k": "same", "v": quoted}, {"k": "same", "v": quoted}])
            if mail.subject == SUBJECTS[5]:
                raise DataError("UPDATE tickets SET subject = $1", {"subject": quoted}, ConnectionResetError(quoted))
        return await real(ctx, batch, **kwargs)

    monkeypatch.setattr(intake, "receive_together", troubled)
    monkeypatch.setattr(imap_module, "_FIRST_BACKOFF", 0.05)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy")  # SQL echo on: statements at INFO, with parameters if shown
    folder = imap_server.new_folder()
    imap_server.append(folder, *mails())
    fetcher = ImapFetcher(core.ctx, MailPipeline(core.ctx), host=imap_server.host, port=imap_server.port,
                          user=imap_server.user, password=imap_server.password, ssl=False, folder=folder,
                          poll_seconds=600)
    stop = asyncio.Event()
    task = asyncio.create_task(fetcher.run(stop))
    try:
        async with asyncio.timeout(60):
            while not await _stored(core, "Behind them all"):
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)
    assert leaks(caplog) == []
    # ...and the run did meet what could leak: a quarantine of each kind, IMAP retries, SQL echo.
    async with core.ctx.uow() as uow:
        assert len(await uow.quarantine.unresolved()) == 3  # unparseable, refused, failed three times
    assert any(r.levelno >= logging.WARNING and r.name == "bot.mail.imap" for r in caplog.records)
    assert any("SQL parameters hidden" in r.getMessage() for r in caplog.records if r.levelno == logging.INFO)


async def _stored(core: Core, subject: str) -> bool:
    async with core.ctx.uow() as uow:
        return any(t.subject == subject for t in await uow.tickets.active(limit=50))


async def test_a_statement_the_database_refuses_does_not_quote_its_values(core: Core) -> None:
    secret = f"{BODY} {ADDRESSES[0]}"
    with pytest.raises(IntegrityError) as refused:
        async with core.engine.begin() as conn:
            await conn.execute(text("INSERT INTO kv (key, value) VALUES (:k, :v)"),
                               [{"k": "twice", "v": secret}, {"k": "twice", "v": secret}])
    assert "INSERT INTO kv" in str(refused.value) and secret not in str(refused.value)
