"""MIME parts and attachments are capped: a mail of 20,000 parts is still a ticket, with the first
attachments stored and a note of what was left out, not 20,000 attachment rows (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from bot.app import Core, build_core
from bot.domain.model import MessageKind
from bot.handlers import queries
from bot.mail.parse import parse_mail
from tests.conftest import make_settings
from tests.support.db import Database
from tests.support.mails import deliver
from tests.support.people import OPERATOR


def many_parts(files: int, *, message_id: str = "<many.parts@customer.example>") -> bytes:
    """A text part and `files` tiny attachments: about 2 MB for 20,000."""
    head = ("From: Mia Customer <mia@customer.example>\r\nTo: support@helpdesk.test\r\nSubject: Logs from every device\r\n"
            f"Message-ID: {message_id}\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
            "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nOne log per device, attached.\r\n")
    parts = "".join(f"--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; "
                    f"filename=device-{i}.log\r\n\r\nlog {i}\r\n" for i in range(files))
    return (head + parts + "--b--\r\n").encode()


async def attachment_rows(core: Core) -> int:
    async with core.ctx.uow() as uow:
        messages = [m.id for t in await uow.tickets.active(limit=10) for m in await uow.messages.for_ticket(t.number)]
        return len(await uow.attachments.for_messages([m for m in messages if m is not None]))


async def test_a_20000_part_mail_is_a_ticket_with_the_first_attachments_and_a_note(core: Core) -> None:
    raw = many_parts(20_000)
    assert len(raw) > 2_000_000
    outcome = await deliver(core, raw)
    assert outcome.action == "created" and outcome.ticket_number is not None
    details = await queries.show(core.ctx, OPERATOR, outcome.ticket_number)
    mail, *notes = details.messages
    assert mail.text.strip() == "One log per device, attached."
    assert [a.filename for a in mail.attachments] == [f"device-{i}.log" for i in range(100)]
    assert all(a.stored for a in mail.attachments)
    assert await attachment_rows(core) == 100
    [note] = [n for n in notes if n.kind == MessageKind.SYSTEM]
    # root + text + 498 attachment parts read (500); 20,002 - 500 parts not read; 498 - 100 files read, not kept
    assert "19,502 MIME part(s) were not read" in note.text and "398 attachment(s) were not stored" in note.text
    assert "100 attachment(s) were stored" in note.text
    history = await queries.history(core.ctx, OPERATOR, outcome.ticket_number)
    assert any(line.action == "mail_capped" for line in history)


async def test_the_caps_are_settings(database: Database, tmp_path: Path) -> None:
    core = await build_core(make_settings(database, tmp_path, max_attachments=3, max_mime_parts=50),
                            engine=database.engine())
    try:
        outcome = await deliver(core, many_parts(60))
        assert outcome.ticket_number is not None
        mail, note = (await queries.show(core.ctx, OPERATOR, outcome.ticket_number)).messages
        assert [a.filename for a in mail.attachments] == ["device-0.log", "device-1.log", "device-2.log"]
        assert "12 MIME part(s) were not read" in note.text and "45 attachment(s) were not stored" in note.text
    finally:
        await core.close()


async def test_a_mail_within_the_caps_gets_no_note(core: Core) -> None:
    outcome = await deliver(core, many_parts(100))
    assert outcome.ticket_number is not None
    [mail] = (await queries.show(core.ctx, OPERATOR, outcome.ticket_number)).messages
    assert len(mail.attachments) == 100


def test_the_parser_stops_reading_at_the_part_cap() -> None:
    mail = parse_mail(many_parts(20_000), max_parts=500, max_attachments=100)
    assert (len(mail.attachments), mail.skipped_attachments, mail.skipped_parts) == (100, 398, 19_502)
    unlimited = parse_mail(many_parts(300), max_parts=10_000, max_attachments=10_000)
    assert (len(unlimited.attachments), unlimited.skipped_attachments, unlimited.skipped_parts) == (300, 0, 0)
