"""parse_mail on the kinds of mail a helpdesk really gets: what ends up in the ticket and in chat."""

from __future__ import annotations

import re
from email.message import EmailMessage

import pytest

from bot.mail import parse as parse_module
from bot.mail.parse import UnparseableMail, parse_mail


def make_mail(body: str = "Hello, the printer is broken.", **headers: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = headers.pop("From", "Matti Meikäläinen <Matti@Example.FI>")
    msg["To"] = headers.pop("To", "Support <support@helpdesk.test>")
    msg["Subject"] = headers.pop("Subject", "Printer")
    msg["Message-ID"] = headers.pop("Message_ID", "<abc123@example.fi>")
    msg["Date"] = headers.pop("Date", "Mon, 03 Mar 2025 10:15:00 +0200")
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg


def raw_mail(headers: str, body: bytes) -> bytes:
    return headers.strip().replace("\n", "\r\n").encode("ascii") + b"\r\n\r\n" + body


# --- the basics ---------------------------------------------------------------


def test_plain_mail() -> None:
    mail = parse_mail(make_mail(Cc="Liisa <LIISA@example.fi>, tuki@example.fi").as_bytes())
    assert mail.message_id == "<abc123@example.fi>"
    assert mail.subject == "Printer"
    assert (mail.from_addr, mail.from_name) == ("matti@example.fi", "Matti Meikäläinen")
    assert mail.to == ("support@helpdesk.test",)
    assert mail.cc == ("liisa@example.fi", "tuki@example.fi")
    assert mail.date is not None and mail.date.utcoffset() is not None
    assert mail.date.isoformat() == "2025-03-03T10:15:00+02:00"
    assert mail.text.strip() == "Hello, the printer is broken."
    assert mail.display_text == "Hello, the printer is broken."
    assert mail.html is None and mail.attachments == ()
    assert not mail.is_list_mail and not mail.is_delivery_report and mail.return_path is None


def test_subject_folded_and_missing() -> None:
    folded = raw_mail("From: a@example.fi\nSubject: a long\n   subject\n\tline", b"x")
    assert parse_mail(folded).subject == "a long subject line"
    assert parse_mail(raw_mail("From: a@example.fi", b"x")).subject == "(no subject)"
    assert parse_mail(raw_mail("From: a@example.fi\nSubject:   ", b"x")).subject == "(no subject)"


def test_bad_or_missing_date_is_none() -> None:
    assert parse_mail(raw_mail("From: a@example.fi\nDate: yesterday-ish", b"x")).date is None
    assert parse_mail(raw_mail("From: a@example.fi", b"x")).date is None
    naive = parse_mail(raw_mail("From: a@example.fi\nDate: Mon, 3 Mar 2025 10:15:00 -0000", b"x")).date
    assert naive is not None and naive.tzinfo is not None


def test_html_only_mail_becomes_readable_text() -> None:
    msg = make_mail()
    msg.set_content(
        "<html><head><style>p {color: red}</style></head><body><p>Hello <b>support</b>,</p>"
        "<p>see <a href='https://status.example.fi/incident/42'>the status page</a>.</p>"
        "<ul><li>first</li><li>second</li></ul></body></html>",
        subtype="html",
    )
    mail = parse_mail(msg.as_bytes())
    assert "Hello support," in mail.text
    assert "[the status page](https://status.example.fi/incident/42)" in mail.text
    assert "first" in mail.text and "second" in mail.text
    assert "<" not in mail.text.replace("<https", "") and "color" not in mail.text
    assert mail.html is not None and "<a href=" in mail.html


def test_multipart_alternative_prefers_the_text_part() -> None:
    msg = make_mail("Plain version")
    msg.add_alternative("<p>HTML <i>version</i></p>", subtype="html")
    mail = parse_mail(msg.as_bytes())
    assert mail.text.strip() == "Plain version"
    assert mail.html is not None and mail.html.strip() == "<p>HTML <i>version</i></p>"


def test_blank_first_text_part_gives_way_to_the_next_one() -> None:
    """multipart/mixed with an empty text part first (some mobile clients) and the words in a second one."""
    body = ("--m\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\r\n"
            "--m\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe scanner is offline.\r\n--m--\r\n")
    raw = raw_mail("From: a@example.fi\nSubject: Scanner\nMIME-Version: 1.0\n"
                   'Content-Type: multipart/mixed; boundary="m"', body.encode())
    mail = parse_mail(raw)
    assert mail.text.strip() == mail.display_text == "The scanner is offline."


def test_html_part_read_when_the_text_part_is_a_stub() -> None:
    msg = make_mail("This message is in HTML format. Please view it in an HTML-capable mail client.")
    msg.add_alternative("<p>My <b>password reset</b> link has expired.</p>", subtype="html")
    mail = parse_mail(msg.as_bytes())
    assert mail.display_text == mail.text == "My password reset link has expired."


def test_script_is_removed_from_html() -> None:
    msg = make_mail()
    msg.set_content('<p onclick="steal()">Hi</p><script>alert("x")</script><img src=x onerror=alert(1)>', subtype="html")
    mail = parse_mail(msg.as_bytes())
    assert mail.html is not None
    assert "script" not in mail.html and "alert" not in mail.html and "onclick" not in mail.html
    assert "alert" not in mail.text and "Hi" in mail.text


# --- charsets -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("charset", "body"),
    [("iso-8859-1", "Hyvää päivää, Grüße"), ("windows-1252", "Price 5 € “quoted” – Grüße"), ("shift_jis", "こんにちは、プリンターが壊れました")],
)
def test_body_charsets(charset: str, body: str) -> None:
    headers = f"From: a@example.fi\nContent-Type: text/plain; charset={charset}\nContent-Transfer-Encoding: 8bit"
    assert parse_mail(raw_mail(headers, body.encode(charset))).text == body


def test_encoded_subject_and_from() -> None:
    raw = raw_mail(
        "From: =?iso-8859-1?q?J=FCrgen_M=FCller?= <juergen@example.de>\n"
        "Subject: =?utf-8?b?SHl2w6TDpCBww6RpdsOkw6Q=?= =?iso-8859-1?q?_Gr=FC=DFe?=",
        b"x",
    )
    mail = parse_mail(raw)
    assert mail.subject == "Hyvää päivää Grüße"
    assert mail.from_name == "Jürgen Müller"


@pytest.mark.parametrize(
    ("charset", "body", "expected"),
    [
        ("us-ascii", "Grüße".encode(), "Grüße"),  # declared ASCII, really UTF-8
        ("utf-8", "Grüße".encode("latin-1"), "Grüße"),  # declared UTF-8, really Latin-1
        ("unknown-8bit", "Hyvää päivää".encode(), "Hyvää päivää"),
        ('"no-such-charset"', "Grüße".encode("cp1252"), "Grüße"),
        ("shift_jis", b"\x82\xb1\xff\xfe still readable", "こ"),  # invalid bytes replaced, the rest kept
    ],
)
def test_wrong_or_unknown_charset_does_not_crash(charset: str, body: bytes, expected: str) -> None:
    headers = f"From: a@example.fi\nContent-Type: text/plain; charset={charset}\nContent-Transfer-Encoding: 8bit"
    text = parse_mail(raw_mail(headers, body)).text
    assert text == expected or (text.startswith(expected) and text.endswith(" still readable"))


def test_unknown_charset_in_header_does_not_leak_raw_bytes() -> None:
    mail = parse_mail(raw_mail("From: =?x-unknown?q?Gr=FC=DFe?= <a@example.de>", b"x"))
    assert mail.from_name == "Grüße"
    mail.from_name.encode("utf-8")  # no surrogates left


# --- quoted history and signatures --------------------------------------------

QUOTED = {
    "english": "On Mon, 3 Mar 2025 at 10:15, Support <support@helpdesk.test> wrote:\n> Did you restart it?\n> Regards",
    "outlook": "-----Original Message-----\nFrom: Support <support@helpdesk.test>\nSent: Monday, March 3, 2025 10:15 AM\n"
    "To: Matti\nSubject: RE: Printer\n\nDid you restart it?",
    "outlook-no-separator": "From: Support <support@helpdesk.test>\nSent: Monday, March 3, 2025 10:15 AM\nTo: Matti\n"
    "Subject: RE: Printer\n\nDid you restart it?",
    "finnish-outlook": "Lähettäjä: Tuki <support@helpdesk.test>\nLähetetty: maanantai 3. maaliskuuta 2025 10.15\n"
    "Vastaanottaja: Matti\nAihe: VS: Tulostin\n\nDid you restart it?",
    "finnish-gmail": "ma 3.3.2025 klo 10.15 Tuki <support@helpdesk.test> kirjoitti:\n\n> Did you restart it?",
    "german": "Am 03.03.2025 um 10:15 schrieb Support <support@helpdesk.test>:\n> Did you restart it?",
    "swedish": "Från: Support <support@helpdesk.test>\nSkickat: den 3 mars 2025 10:15\nTill: Anna\nÄmne: SV: Skrivare\n\n"
    "Did you restart it?",
    "bare-quote": "> Did you restart it?\n> It usually helps.",
}


@pytest.mark.parametrize("style", sorted(QUOTED))
def test_quoted_history_is_hidden_but_kept(style: str) -> None:
    body = f"Yes, and it still jams.\n    Error: E42 paper path\n\n{QUOTED[style]}\n"
    mail = parse_mail(make_mail(body).as_bytes())
    assert mail.display_text == "Yes, and it still jams.\n    Error: E42 paper path"
    assert "Did you restart it?" in mail.text


def test_signature_is_hidden() -> None:
    mail = parse_mail(make_mail("Please reset my password.\n\n-- \nMatti Meikäläinen\nACME Oy, +358 40 123 4567\n").as_bytes())
    assert mail.display_text == "Please reset my password."
    assert "ACME Oy" in mail.text


def test_all_quote_mail_keeps_everything() -> None:
    body = "On Mon, 3 Mar 2025 at 10:15, Support <support@helpdesk.test> wrote:\n> Did you restart it?\n"
    mail = parse_mail(make_mail(body).as_bytes())
    assert mail.display_text == body.strip()


def test_forwarded_mail_keeps_the_forwarded_request() -> None:
    body = ("FYI, see below.\n\n---------- Forwarded message ---------\nFrom: Customer <c@example.com>\n"
            "Date: Mon, 3 Mar 2025\nSubject: Broken\nTo: Matti <matti@example.fi>\n\nThe invoice is wrong.\n")
    assert "The invoice is wrong." in parse_mail(make_mail(body).as_bytes()).display_text


def test_display_text_has_no_trailing_whitespace() -> None:
    mail = parse_mail(make_mail("Line one   \r\nLine two\t\n\n\n").as_bytes())
    assert mail.display_text == "Line one\nLine two"


# --- attachments --------------------------------------------------------------


def test_attachments_listed_with_sizes_and_limit() -> None:
    msg = make_mail("See attached.")
    msg.add_attachment(b"%PDF-1.4 small", maintype="application", subtype="pdf", filename="lasku ääkkösillä.pdf")
    msg.add_attachment(b"x" * 5000, maintype="application", subtype="zip", filename="logs.zip")
    msg.add_attachment(b"\x89PNG tiny", maintype="image", subtype="png", disposition="inline", filename="shot.png")
    msg.add_attachment(b"no name", maintype="application", subtype="octet-stream")
    mail = parse_mail(msg.as_bytes(), max_attachment_bytes=1000)
    listing = [(a.filename, a.content_type, a.size) for a in mail.attachments]
    assert listing == [
        ("lasku ääkkösillä.pdf", "application/pdf", 14),
        ("logs.zip", "application/zip", 5000),
        ("shot.png", "image/png", 9),
        ("attachment-4.bin", "application/octet-stream", 7),
    ]
    assert mail.attachments[0].content == b"%PDF-1.4 small"
    assert mail.attachments[1].content is None  # over the limit: listed, not stored
    assert mail.text.strip() == "See attached."


def test_large_attachment_is_measured_not_kept() -> None:
    msg = make_mail("Big file.")
    msg.add_attachment(bytes(25_000_000), maintype="application", subtype="octet-stream", filename="disk.img")
    (attachment,) = parse_mail(msg.as_bytes()).attachments
    assert (attachment.size, attachment.content) == (25_000_000, None)


def test_attachment_filename_cannot_carry_a_path() -> None:
    msg = make_mail()
    msg.add_attachment(b"x", maintype="text", subtype="plain", filename="../../etc/passwd")
    assert parse_mail(msg.as_bytes()).attachments[0].filename == "passwd"


def test_forwarded_message_is_an_attachment() -> None:
    inner = make_mail("Inner body that is not ours", Subject="Original", Message_ID="<inner@example.com>")
    msg = make_mail("Forwarding this one.")
    msg.add_attachment(inner)
    mail = parse_mail(msg.as_bytes())
    (attachment,) = mail.attachments
    assert (attachment.filename, attachment.content_type) == ("forwarded-message.eml", "message/rfc822")
    assert attachment.content is not None and b"Inner body that is not ours" in attachment.content
    assert attachment.size == len(attachment.content)
    assert "Inner body" not in mail.text and mail.message_id == "<abc123@example.fi>"


# --- ids and threading --------------------------------------------------------


def test_missing_message_id_is_synthesised_and_stable() -> None:
    raw = raw_mail("From: a@example.fi\nSubject: no id", b"body")
    first, again = parse_mail(raw).message_id, parse_mail(raw).message_id
    assert first == again
    assert re.fullmatch(r"<sha256-[0-9a-f]{32}@missing-message-id\.tiketti>", first)
    assert parse_mail(raw + b" changed").message_id != first


def test_message_id_normalised() -> None:
    assert parse_mail(raw_mail("From: a@example.fi\nMessage-ID:   <x1@example.fi>  ", b"x")).message_id == "<x1@example.fi>"
    assert parse_mail(raw_mail("From: a@example.fi\nMessage-ID: x2@example.fi", b"x")).message_id == "<x2@example.fi>"


def test_references_and_in_reply_to() -> None:
    raw = raw_mail(
        "From: a@example.fi\n"
        "In-Reply-To: <parent@example.fi> (Matti's message of \"Mon, 3 Mar\")\n"
        "References: <root@example.fi> junk, (comment)\n <middle@exa\n mple.fi>\n\t<parent@example.fi>",
        b"x",
    )
    mail = parse_mail(raw)
    assert mail.in_reply_to == "<parent@example.fi>"
    assert mail.references == ("<root@example.fi>", "<middle@example.fi>", "<parent@example.fi>")
    assert mail.thread_ids == ["<root@example.fi>", "<middle@example.fi>", "<parent@example.fi>"]
    assert parse_mail(raw_mail("From: a@example.fi", b"x")).references == ()


# --- loop protection ----------------------------------------------------------


def test_loop_headers() -> None:
    mail = parse_mail(
        raw_mail(
            "From: robot@example.fi\nAuto-Submitted: auto-replied\nPrecedence: bulk\nX-Loop: helpdesk\n"
            "X-Auto-Response-Suppress: All\nList-Id: <news.example.fi>\nReturn-Path: <>\n"
            "X-Tiketti-Loop: t-42\nThread-Index: AdGFGH==",
            b"I am away",
        )
    )
    assert (mail.auto_submitted, mail.precedence, mail.x_loop) == ("auto-replied", "bulk", "helpdesk")
    assert mail.x_auto_response_suppress == "All"
    assert mail.is_list_mail and mail.return_path == ""
    assert (mail.tiketti_loop, mail.thread_index) == ("t-42", "AdGFGH==")


def test_list_unsubscribe_and_return_path_address() -> None:
    mail = parse_mail(raw_mail("From: n@example.fi\nList-Unsubscribe: <mailto:u@example.fi>\nReturn-Path: <Bounce@Example.FI>", b"x"))
    assert mail.is_list_mail and mail.return_path == "bounce@example.fi"


def test_delivery_status_report() -> None:
    raw = raw_mail(
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.fi>\nReturn-Path: <>\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="dsn"',
        b"--dsn\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        b"--dsn\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.fi\r\n\r\n"
        b"Final-Recipient: rfc822; gone@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        b"--dsn\r\nContent-Type: text/rfc822-headers\r\n\r\nSubject: Printer\r\n--dsn--\r\n",
    )
    mail = parse_mail(raw)
    assert mail.is_delivery_report and mail.return_path == ""
    assert mail.from_addr == "mailer-daemon@mx.example.fi"
    assert mail.text.strip() == "Your message could not be delivered."


# --- what we refuse -----------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [b"", b"  \r\n ", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", bytes(range(256)) * 4, b"just a line of text\nand another\n"],
)
def test_garbage_is_unparseable(raw: bytes) -> None:
    with pytest.raises(UnparseableMail):
        parse_mail(raw)


def test_missing_from_is_unparseable() -> None:
    with pytest.raises(UnparseableMail, match="no From address"):
        parse_mail(raw_mail("To: support@helpdesk.test\nSubject: who am I", b"x"))
    with pytest.raises(UnparseableMail, match="no From address"):
        parse_mail(raw_mail("From: undisclosed\nSubject: no address", b"x"))


def test_sender_then_return_path_stand_in_for_from() -> None:
    via_sender = parse_mail(raw_mail("From: Matti\nSender: Matti <Matti@Example.fi>", b"x"))
    assert (via_sender.from_addr, via_sender.from_name) == ("matti@example.fi", "Matti")
    via_envelope = parse_mail(raw_mail("Subject: hi\nReturn-Path: <Env@Example.fi>", b"x"))
    assert (via_envelope.from_addr, via_envelope.from_name) == ("env@example.fi", "")


def test_unexpected_errors_become_unparseable(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> tuple[str, str]:
        raise RuntimeError("regex exploded")

    monkeypatch.setattr(parse_module, "readable_body", boom)
    with pytest.raises(UnparseableMail, match="regex exploded"):
        parse_mail(make_mail().as_bytes())
