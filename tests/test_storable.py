"""A parsed mail holds nothing a database refuses: control characters gone, lengths inside the columns,
the same on SQLite and PostgreSQL (bot.mail.storable). What a person would see of it stays."""

from __future__ import annotations

import pytest

from bot.app import Core
from bot.handlers import queries
from bot.mail import storable
from bot.mail.parse import UnparseableMail, parse_mail
from bot.mail.pipeline import MailPipeline
from tests.support.mails import deliver, raw_mail
from tests.support.people import OPERATOR


def test_control_characters_leave_headers_and_text_but_lines_stay() -> None:
    mail = parse_mail(raw_mail(frm="=?utf-8?q?Mia=07=1B[31m?= <mia@customer.example>",
                               subject="=?utf-8?q?Invoice=00_=1B]0;x=07due?=",
                               body="Line one\x00\nLine\ttwo\x1b[2J\nthree\x7f"))
    assert mail.subject == "Invoice ]0;xdue"
    assert mail.from_name == "Mia[31m"
    assert mail.text == "Line one\nLine\ttwo[2J\nthree\n"


def test_long_values_are_cut_inside_their_columns_keeping_what_matters() -> None:
    name = "Report " + "x" * 600 + ".xlsx"
    kept = storable.filename(name)
    assert len(kept) <= 400 and kept.startswith("Report xxx") and kept.endswith("….xlsx")
    assert len(storable.header("s" * 5000, storable.SUBJECT_MAX)) == storable.SUBJECT_MAX


def test_long_message_ids_stay_distinct_and_stable() -> None:
    a, b = "<" + "a" * 2000 + "1@x>", "<" + "a" * 2000 + "2@x>"
    assert len(storable.message_id(a)) <= storable.MESSAGE_ID_MAX
    assert storable.message_id(a) != storable.message_id(b)
    assert storable.message_id(a) == storable.message_id(a)
    assert storable.message_id("<short@x>") == "<short@x>"


def test_a_sender_address_too_long_to_receive_mail_is_unparseable() -> None:
    with pytest.raises(UnparseableMail, match="sender address"):
        parse_mail(raw_mail(frm=f"Mia <{'m' * 300}@customer.example>"))


async def test_an_overlong_sender_address_is_quarantined_on_both_databases(core: Core) -> None:
    """Cutting an address would make it someone else's: kept in quarantine instead, the same everywhere."""
    processed = await MailPipeline(core.ctx).process(raw_mail(frm=f"Mia <{'m' * 300}@customer.example>"), source="test")
    assert processed.quarantine_id is not None


async def test_a_subject_longer_than_the_column_is_a_ticket_on_both_databases(core: Core) -> None:
    outcome = await deliver(core, raw_mail(subject="Printer " + "very " * 400 + "broken"))
    assert outcome.ticket_number is not None
    details = await queries.show(core.ctx, OPERATOR, outcome.ticket_number)
    assert details.ticket.subject.startswith("Printer very") and len(details.ticket.subject) <= storable.SUBJECT_MAX
