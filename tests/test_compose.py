"""Mail we send, as the customer's mail program reads it: parsed by the stdlib's strict policy."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage

from bot.domain.outgoing import OutgoingMail
from bot.mail.compose import MailComposer

NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


def compose(**overrides: object) -> bytes:
    fields: dict[str, object] = dict(
        template="reply", to_addr="mia@customer.example", to_name="Mia Müller", subject="Re: Tulostin ei toimi [#12]",
        message_id="<t12.abc@support.example>", thread_index="AdkFAAAAAAAAAAAAAAAAAAAAAAAA", thread_topic="Tulostin ei toimi",
        in_reply_to="<m1@customer.example>", references=("<m1@customer.example>",),
        context={"ticket_number": 12, "ticket_tag": "[#12]", "subject": "Tulostin", "customer_name": "Mia",
                 "support_name": "Helpdesk", "body": "Hei Mia,\n\nkokeile tätä: a = b.\n", "agent_name": "Ana"},
    )
    fields.update(overrides)
    return MailComposer("support@support.example", "Helpdesk Öy", clock=lambda: NOW).compose(OutgoingMail(**fields))  # type: ignore[arg-type]


def parse(raw: bytes) -> EmailMessage:
    msg = message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    assert not msg.defects and not any(part.defects for part in msg.walk())
    return msg


def test_a_reply_reads_back_exactly_with_its_threading_headers() -> None:
    msg = parse(compose())
    assert str(msg["Subject"]) == "Re: Tulostin ei toimi [#12]"
    assert msg["To"].addresses[0].display_name == "Mia Müller"
    assert msg["To"].addresses[0].addr_spec == "mia@customer.example"
    assert str(msg["From"]) == "Helpdesk Öy <support@support.example>"
    assert msg["Message-ID"] == "<t12.abc@support.example>"
    assert msg["In-Reply-To"] == "<m1@customer.example>"
    assert msg["References"] == "<m1@customer.example>"
    assert msg["Thread-Index"] == "AdkFAAAAAAAAAAAAAAAAAAAAAAAA"
    assert msg["Date"].datetime == NOW
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert text is not None and html is not None
    assert "kokeile tätä: a = b." in text.get_content()
    assert "kokeile tätä: a = b." in html.get_content()
    assert msg["Auto-Submitted"] is None  # a person's reply, not an automatic mail


def test_every_line_is_crlf_and_short_and_the_mail_is_seven_bit() -> None:
    long_refs = tuple(f"<ref{i}.{'x' * 20}@customer.example>" for i in range(12))
    raw = compose(references=long_refs, subject="Re: " + "tulostin " * 20 + "[#12]",
                  context={"ticket_number": 12, "ticket_tag": "[#12]", "subject": "s", "customer_name": "Mia",
                           "support_name": "Helpdesk", "body": "pitkä rivi " * 200, "agent_name": "Ana"})
    raw.decode("ascii")
    lines = raw.split(b"\r\n")
    assert b"\n" not in b"".join(lines)
    assert max(len(line) for line in lines) <= 78
    msg = parse(raw)
    assert msg["References"].split() == list(long_refs)
    assert str(msg["Subject"]) == "Re: " + "tulostin " * 20 + "[#12]"
    body = msg.get_body(("plain",))
    assert body is not None and "pitkä rivi " * 199 in body.get_content()


def test_line_breaks_from_chat_or_mail_cannot_add_headers() -> None:
    evil = "Order\r\nBcc: x@evil.example\nX-Injected: yes"
    msg = parse(compose(subject=evil, to_name=evil, thread_topic=evil, in_reply_to="<a@b>\r\nBcc: y@evil.example"))
    assert msg["Bcc"] is None and msg["X-Injected"] is None
    assert str(msg["Subject"]) == "Order Bcc: x@evil.example X-Injected: yes"


def test_automatic_mail_says_so_and_asks_for_no_auto_replies() -> None:
    msg = parse(compose(template="ack", automatic=True,
                        context={"ticket_number": 12, "ticket_tag": "[#12]", "subject": "Tulostin", "customer_name": "Mia",
                                 "support_name": "Helpdesk", "first_response_text": "by Tuesday 10:00"}))
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["X-Auto-Response-Suppress"] == "All"
    assert msg["Precedence"] == "auto_reply"
    assert msg["X-Tiketti-Loop"] == "support@support.example"
