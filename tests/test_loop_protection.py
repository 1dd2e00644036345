"""Automatic acknowledgements: one for a person who writes in, none for machines, lists or ourselves."""

from __future__ import annotations

import pytest

from bot.app import Core
from bot.handlers import queries
from tests.support.mails import SUPPORT, deliver, outbox, parse_sent, raw_mail, text_body, ticket_count
from tests.support.people import OPERATOR

# Delivery reports (DSN, MDN, ARF) are no tickets at all: tests/test_delivery_reports.py.
SUPPRESSED: dict[str, tuple[bytes, str]] = {
    "auto-replied": (raw_mail(headers={"Auto-Submitted": "auto-replied"}), "Auto-Submitted"),
    "auto-generated": (raw_mail(headers={"Auto-Submitted": "auto-generated"}), "Auto-Submitted"),
    "precedence-bulk": (raw_mail(headers={"Precedence": "bulk"}), "Precedence"),
    "precedence-list": (raw_mail(headers={"Precedence": "list"}), "Precedence"),
    "precedence-junk": (raw_mail(headers={"Precedence": "junk"}), "Precedence"),
    "x-loop": (raw_mail(headers={"X-Loop": "helpdesk@other.example"}), "X-Loop"),
    "x-auto-response-suppress": (raw_mail(headers={"X-Auto-Response-Suppress": "All"}), "X-Auto-Response-Suppress"),
    "list-id": (raw_mail(headers={"List-Id": "Users <users.lists.example>"}), "mailing-list"),
    "list-unsubscribe": (raw_mail(headers={"List-Unsubscribe": "<mailto:leave@lists.example>"}), "mailing-list"),
    "bounce-return-path": (raw_mail(headers={"Return-Path": "<>"}), "bounce"),
    "mailer-daemon": (raw_mail(frm="MAILER-DAEMON@mx.customer.example"), "automatic sender"),
    "postmaster": (raw_mail(frm="Postmaster <postmaster@customer.example>"), "automatic sender"),
    "own-address": (raw_mail(frm=f"Helpdesk <{SUPPORT}>"), "our own addresses"),
    "own-address-any-case": (raw_mail(frm="Helpdesk <Support@HelpDesk.test>"), "our own addresses"),
}


async def suppression_reasons(core: Core, number: int) -> list[str]:
    return [h.detail or "" for h in await queries.history(core.ctx, OPERATOR, number) if h.action == "ack_suppressed"]


async def test_new_ticket_gets_exactly_one_acknowledgement(core: Core) -> None:
    outcome = await deliver(core, raw_mail(subject="Printer is broken"))
    n = outcome.ticket_number
    assert outcome.action == "created" and n is not None
    (row,) = await outbox(core, n)
    assert (row.kind, row.to_addr) == ("ack", "mia@customer.example")
    sent = parse_sent(row.raw)
    assert sent["Auto-Submitted"] == "auto-generated"
    assert sent["X-Tiketti-Loop"] == SUPPORT
    assert sent["To"].addresses[0].addr_spec == "mia@customer.example"
    assert sent["Subject"] == f"Re: Printer is broken [#{n}]"
    body = text_body(sent)
    assert f"[#{n}]" in body and "within one business day" in body
    assert await suppression_reasons(core, n) == []


@pytest.mark.parametrize("case", list(SUPPRESSED))
async def test_no_acknowledgement_for_automatic_mail(core: Core, case: str) -> None:
    raw, reason = SUPPRESSED[case]
    outcome = await deliver(core, raw)
    n = outcome.ticket_number
    assert outcome.action == "created" and n is not None, "the mail still becomes a ticket"
    assert await outbox(core, n) == []
    reasons = await suppression_reasons(core, n)
    assert len(reasons) == 1 and reason in reasons[0], reasons


async def test_our_own_mail_coming_back_creates_nothing(core: Core) -> None:
    outcome = await deliver(core, raw_mail(frm=f"Helpdesk <{SUPPORT}>", headers={"X-Tiketti-Loop": SUPPORT}))
    assert (outcome.action, outcome.ticket_number) == ("ignored", None)
    assert await ticket_count(core) == 0


async def test_another_tiketti_helpdesk_writing_is_a_ticket_without_ack(core: Core) -> None:
    """Their loop header names their address, not ours: a person wrote, but we never auto-answer a helpdesk."""
    raw = raw_mail(frm="Vendor Support <support@vendor.example>", headers={"X-Tiketti-Loop": "support@vendor.example"})
    outcome = await deliver(core, raw)
    assert outcome.action == "created" and outcome.ticket_number is not None
    assert await outbox(core, outcome.ticket_number) == []
    assert len(await suppression_reasons(core, outcome.ticket_number)) == 1


async def test_fourth_new_ticket_within_an_hour_gets_no_ack(core: Core) -> None:
    numbers = []
    for i in range(4):
        outcome = await deliver(core, raw_mail(subject=f"Problem number {i + 1}"))
        assert outcome.action == "created" and outcome.ticket_number is not None
        numbers.append(outcome.ticket_number)
    acks = [len(await outbox(core, n)) for n in numbers]
    assert acks == [1, 1, 1, 0]
    reasons = await suppression_reasons(core, numbers[-1])
    assert len(reasons) == 1 and reasons[0].startswith("rate limit")
    # Another customer is not held back by Mia's limit.
    other = await deliver(core, raw_mail(frm="Liisa <liisa@customer.example>", subject="Mine"))
    assert other.ticket_number is not None and len(await outbox(core, other.ticket_number)) == 1
