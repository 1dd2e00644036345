"""Render an OutgoingMail into RFC 5322 bytes with Jinja2 templates (text and HTML).

Built with the stdlib's compat32 MIME classes rather than `EmailMessage`: every header
here is one we write ourselves, so the modern policy's header parsing and re-folding
only cost time (about two thirds of composing an acknowledgement, bench/ingest.py).
Non-ASCII names and subjects become RFC 2047 encoded words, bodies quoted-printable
UTF-8, lines end in CRLF, as SMTP wants.
"""

from __future__ import annotations

import io
import re
from email.charset import QP, Charset
from email.generator import BytesGenerator
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import format_datetime, formataddr

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from bot.domain.outgoing import OutgoingMail
from bot.handlers.context import Clock, utcnow

LOOP_HEADER = "X-Tiketti-Loop"

_CTRL = re.compile(r"[\r\n\x00-\x08\x0b\x0c\x0e-\x1f\x7f]+")
_POLICY = compat32.clone(linesep="\r\n", max_line_length=78)
_UTF8_QP = Charset("utf-8")
_UTF8_QP.body_encoding = QP  # readable in the raw mail, unlike base64


def one_line(value: str) -> str:
    """Header values built from chat or mail input: CR/LF and control characters out, always."""
    return _CTRL.sub(" ", value).strip()


def address(name: str, addr: str) -> str:
    """`Name <addr>` with the name quoted or RFC 2047 encoded as needed; IDN domains in their
    ASCII form, so the header stays 7-bit."""
    local, _, domain = one_line(addr).rpartition("@")
    if domain and not domain.isascii():
        domain = domain.encode("idna").decode("ascii")
    return formataddr((one_line(name), f"{local}@{domain}" if local else domain), charset="utf-8")


def _text(value: str, name: str) -> str | Header:
    value = one_line(value)
    return value if value.isascii() else Header(value, "utf-8", header_name=name)


def _part(body: str, subtype: str) -> MIMEText:
    part = MIMEText(body, subtype, "us-ascii") if body.isascii() else MIMEText("", subtype, "us-ascii")
    if not body.isascii():
        del part["Content-Transfer-Encoding"]
        part.set_payload(body, _UTF8_QP)
    del part["MIME-Version"]  # once, on the whole mail
    return part


class MailComposer:
    def __init__(self, support_address: str, support_name: str, clock: Clock = utcnow) -> None:
        self.support_address = support_address
        self.support_name = support_name
        self.clock = clock
        self.env = Environment(
            loader=PackageLoader("bot.mail", "templates"),
            autoescape=select_autoescape(["html.j2"]),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
            auto_reload=False,  # packaged templates: compiled once, not stat()ed on every mail
        )

    def compose(self, mail: OutgoingMail) -> bytes:
        ctx = dict(mail.context)
        text = self.env.get_template(f"{mail.template}.txt.j2").render(**ctx)
        html = self.env.get_template(f"{mail.template}.html.j2").render(**ctx)
        msg = MIMEMultipart("alternative", _subparts=[_part(text, "plain"), _part(html, "html")])
        headers: list[tuple[str, str | Header]] = [
            ("From", address(self.support_name, self.support_address)),
            ("To", address(mail.to_name, mail.to_addr)),
            ("Subject", _text(mail.subject, "Subject")),
            ("Date", format_datetime(self.clock())),
            ("Message-ID", one_line(mail.message_id)),
        ]
        if mail.in_reply_to:
            headers.append(("In-Reply-To", one_line(mail.in_reply_to)))
        if mail.references:
            headers.append(("References", " ".join(one_line(r) for r in mail.references)))
        headers += [
            ("Thread-Topic", _text(mail.thread_topic, "Thread-Topic")),
            ("Thread-Index", one_line(mail.thread_index)),
            (LOOP_HEADER, self.support_address),
        ]
        if mail.automatic:
            headers += [("Auto-Submitted", "auto-generated"), ("X-Auto-Response-Suppress", "All"),
                        ("Precedence", "auto_reply")]
        # MIMEMultipart wrote Content-Type and MIME-Version first; ours go on top, in the usual order.
        mime = msg._headers  # noqa: SLF001 - reordering, not changing, what the class wrote
        msg._headers = []  # noqa: SLF001
        for name, value in headers:
            msg[name] = value
        msg._headers += mime  # noqa: SLF001
        out = io.BytesIO()
        BytesGenerator(out, mangle_from_=False, policy=_POLICY).flatten(msg)
        return out.getvalue()
