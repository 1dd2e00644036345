"""The body an agent sees, through the real pipeline (raw mail in, stored message out), on SQLite and
PostgreSQL: an empty or placeholder text part never hides the letter in the HTML part, HTML is
converted with its links, and quoted history is hidden from chat but kept whole."""

from __future__ import annotations

from bot.app import Core
from bot.domain.model import Message
from tests.support.mails import deliver, messages, new_message_id

HEAD = ("From: Mia Customer <mia@customer.example>\r\nTo: Helpdesk <support@helpdesk.test>\r\n"
        "Subject: {subject}\r\nDate: Mon, 03 Mar 2025 10:15:00 +0200\r\nMessage-ID: {mid}\r\nMIME-Version: 1.0\r\n")
LETTER = ('<html><body><p>Hello,</p><p>the order page shows the wrong total, see '
          '<a href="https://shop.example/order/5521">order 5521</a>.</p><p>Mia</p></body></html>')


def alternative(text_part: str, html: str = LETTER, subject: str = "Wrong total", charset: str = "utf-8") -> bytes:
    """multipart/alternative with the text part exactly as given (a lone CRLF, spaces, a stub…)."""
    head = HEAD.format(subject=subject, mid=new_message_id())
    return (head + 'Content-Type: multipart/alternative; boundary="b1"\r\n\r\n'
            f'--b1\r\nContent-Type: text/plain; charset="{charset}"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n'
            f"{text_part}\r\n"
            '--b1\r\nContent-Type: text/html; charset="utf-8"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n'
            f"{html}\r\n--b1--\r\n").encode()


async def first_message(core: Core, raw: bytes) -> Message:
    outcome = await deliver(core, raw)
    assert outcome.action == "created" and outcome.ticket_number is not None
    return (await messages(core, outcome.ticket_number))[0]


async def test_empty_text_part_does_not_hide_the_html_letter(core: Core) -> None:
    message = await first_message(core, alternative("\r\n"))
    assert "the order page shows the wrong total" in message.body_display
    assert "[order 5521](https://shop.example/order/5521)" in message.body_display
    assert "the order page shows the wrong total" in message.body_text


async def test_whitespace_text_part_does_not_hide_the_html_letter(core: Core) -> None:
    message = await first_message(core, alternative(" \t\r\n \r\n"))
    assert message.body_display.startswith("Hello,") and message.body_display.endswith("Mia")


async def test_view_in_html_stub_does_not_hide_the_html_letter(core: Core) -> None:
    for stub in ("This is an HTML message. Please use an HTML capable mail program to read this message.",
                 "Your email client does not support HTML messages. View this email in your browser: "
                 "https://mailer.example/v/123",
                 "Tämä viesti on HTML-muodossa. Avaa se selaimessa."):
        message = await first_message(core, alternative(stub))
        assert "the order page shows the wrong total" in message.body_display, stub


async def test_a_real_text_part_still_wins(core: Core) -> None:
    message = await first_message(core, alternative("Hi, the total on order 5521 is wrong (plain).\r\n"))
    assert message.body_display == "Hi, the total on order 5521 is wrong (plain)."


async def test_html_letter_is_sanitised_and_readable(core: Core) -> None:
    html = ('<p onclick="steal()">Please <b>call</b> me.</p><script>fetch("https://evil.example")</script>'
            '<style>p {color: red}</style><img src="https://tracker.example/p.gif">')
    message = await first_message(core, alternative("\r\n", html=html))
    assert message.body_display == "Please call me."
    assert "evil" not in message.body_text and "color" not in message.body_text and "tracker" not in message.body_text


async def test_html_reply_history_hidden_by_structure_but_kept(core: Core) -> None:
    html = ('<div dir="ltr">Still broken after the restart.</div><br><div class="gmail_quote">'
            '<div dir="ltr" class="gmail_attr">On Mon, Mar 3, 2025 at 10:15 AM Helpdesk &lt;support@helpdesk.test&gt;'
            ' wrote:<br></div><blockquote class="gmail_quote">Did you try restarting the printer?</blockquote></div>')
    message = await first_message(core, alternative("", html=html))
    assert message.body_display == "Still broken after the restart."
    assert "Did you try restarting the printer?" in message.body_text


async def test_plain_reply_below_the_quote(core: Core) -> None:
    body = ("On Mon, Mar 3, 2025 at 10:15 AM Helpdesk <support@helpdesk.test> wrote:\r\n"
            "> Did you try restarting the printer?\r\n\r\nYes, twice. It still prints blank pages.")
    raw = (HEAD.format(subject="Re: Printer", mid=new_message_id())
           + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n").encode()
    message = await first_message(core, raw)
    assert message.body_display == "Yes, twice. It still prints blank pages."
    assert "Did you try restarting the printer?" in message.body_text


async def test_forwarded_mail_is_shown_whole(core: Core) -> None:
    body = ("FYI\r\n\r\n________________________________\r\nFrom: Mia Customer <mia@customer.example>\r\n"
            "Sent: Monday, March 3, 2025 10:15 AM\r\nTo: Sales <sales@helpdesk.test>\r\nSubject: Invoice\r\n\r\n"
            "The invoice total is wrong.")
    raw = (HEAD.format(subject="FW: Invoice", mid=new_message_id())
           + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n").encode()
    message = await first_message(core, raw)
    assert "The invoice total is wrong." in message.body_display
