"""Our Message-IDs, subject tags and Outlook's Thread-Index: what keeps a conversation in one thread."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from bot.app import Core
from bot.domain import mail_ids
from bot.handlers import replies
from bot.handlers.context import Actor
from tests.support.mails import deliver, outbox, parse_sent, raw_mail

KEY = b"test-secret-key"
T0 = datetime(2025, 3, 3, 8, 0, 0, 123456, tzinfo=UTC)


def test_signed_message_id_round_trip() -> None:
    mid = mail_ids.make_message_id(42, KEY, "helpdesk.test")
    assert mid.startswith("<tiketti.42.") and mid.endswith("@helpdesk.test>")
    assert mail_ids.ticket_from_message_id(mid, KEY) == 42
    assert mail_ids.ticket_from_message_id(f"  {mid} ", KEY) == 42


def test_every_message_id_is_new() -> None:
    assert len({mail_ids.make_message_id(1, KEY, "helpdesk.test") for _ in range(50)}) == 50


def test_tampering_is_detected() -> None:
    mid = mail_ids.make_message_id(42, KEY, "helpdesk.test")
    _, number, nonce, rest = mid.split(".", 3)
    sig = rest.split("@", 1)[0]
    other_sig = ("0" if sig[0] != "0" else "1") + sig[1:]
    for forged in (
        mid.replace("tiketti.42.", "tiketti.43."),  # someone else's ticket
        mid.replace(nonce, nonce[::-1] + "0"),  # another nonce
        mid.replace(sig, other_sig),  # a guessed signature
        "<tiketti.1.abc.0000000000000000@helpdesk.test>",
    ):
        assert mail_ids.ticket_from_message_id(forged, KEY) is None, forged
    assert mail_ids.ticket_from_message_id(mid, b"another deployment's key") is None


@pytest.mark.parametrize("foreign", ["<abc@customer.example>", "", "tiketti.1.abc.0000000000000000@x", "<tiketti.x.y.z@x>"])
def test_foreign_ids_are_not_ours(foreign: str) -> None:
    assert mail_ids.ticket_from_message_id(foreign, KEY) is None


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Printer is broken", "Re: Printer is broken [#12]"),
        ("Re: Printer is broken", "Re: Printer is broken [#12]"),
        ("RE: re: Printer is broken", "Re: Printer is broken [#12]"),
        ("AW: Drucker kaputt", "Re: Drucker kaputt [#12]"),
        ("SV: Skrivaren", "Re: Skrivaren [#12]"),
        ("VS: Tulostin", "Re: Tulostin [#12]"),
        ("Re[2]: Fwd: Printer", "Re: Printer [#12]"),
        ("Re: Printer is broken [#12]", "Re: Printer is broken [#12]"),
        ("Re: [#12] Printer is broken", "Re: Printer is broken [#12]"),
        ("Printer [#12] is broken [#12]", "Re: Printer is broken [#12]"),
        ("", "Re: (no subject) [#12]"),
        ("Re: ", "Re: (no subject) [#12]"),
    ],
)
def test_reply_subject(subject: str, expected: str) -> None:
    result = mail_ids.reply_subject(subject, "#", 12)
    assert result == expected
    assert result.count("[#12]") == 1 and result.lower().count("re:") == 1


def test_reply_subject_with_a_custom_tag_prefix() -> None:
    assert mail_ids.reply_subject("Re: Invoice [ACME #7]", "ACME #", 7) == "Re: Invoice [ACME #7]"
    assert mail_ids.find_subject_tag("Re: Invoice [acme #7]", "ACME #") == 7


@pytest.mark.parametrize(
    ("subject", "number"),
    [("Re: Printer [#12]", 12), ("[# 5] hello", 5), ("no tag here", None), ("#12 without brackets", None)],
)
def test_find_subject_tag(subject: str, number: int | None) -> None:
    assert mail_ids.find_subject_tag(subject, "#") == number


def decoded(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


def test_thread_index_is_base64_of_22_bytes_plus_5_per_depth() -> None:
    for depth in range(5):
        raw = decoded(mail_ids.thread_index(KEY, 3, T0, T0 + timedelta(minutes=depth), depth))
        assert len(raw) == 22 + 5 * depth


def test_thread_index_header_identifies_the_ticket() -> None:
    same = [mail_ids.thread_index(KEY, 3, T0, T0 + timedelta(hours=d), d) for d in range(4)]
    assert len({decoded(v)[:22] for v in same}) == 1, "Outlook groups by the first 22 bytes"
    other_ticket = mail_ids.thread_index(KEY, 4, T0, T0, 0)
    assert decoded(other_ticket)[:22] != decoded(same[0])[:22]
    # A ticket created at the very same moment is still another conversation.
    assert decoded(mail_ids.thread_index(KEY, 4, T0, T0, 0))[6:22] != decoded(same[0])[6:22]


def test_thread_index_children_extend_the_parent() -> None:
    shallow = decoded(mail_ids.thread_index(KEY, 3, T0, T0 + timedelta(hours=1), 1))
    deep = decoded(mail_ids.thread_index(KEY, 3, T0, T0 + timedelta(hours=1), 2))
    assert deep.startswith(shallow)


async def test_mails_of_one_ticket_share_a_thread_index_in_the_outbox(core: Core) -> None:
    """The acknowledgement and the agent's reply group together in Outlook; another ticket's mail does not."""
    first = await deliver(core, raw_mail(subject="Printer"))
    second = await deliver(core, raw_mail(frm="liisa@customer.example", subject="Scanner"))
    assert first.ticket_number is not None and second.ticket_number is not None
    await replies.reply(core.ctx, Actor("U1", "Ana", in_tickets_channel=True), first.ticket_number, "On it.")
    ack, reply = [decoded(parse_sent(row.raw)["Thread-Index"]) for row in await outbox(core, first.ticket_number)]
    (other,) = [decoded(parse_sent(row.raw)["Thread-Index"]) for row in await outbox(core, second.ticket_number)]
    assert ack[:22] == reply[:22]
    assert other[:22] != ack[:22]
    assert len(reply) == len(ack) + 5, "the reply is one step deeper in the conversation"


def test_a_subject_typed_in_chat_cannot_add_mail_headers() -> None:
    assert mail_ids.ticket_subject("Order\r\nBcc: evil@example.com", "#", 7) == "Order Bcc: evil@example.com [#7]"
    assert mail_ids.reply_subject("Order\r\nBcc: evil@example.com", "#", 7) == "Re: Order Bcc: evil@example.com [#7]"
