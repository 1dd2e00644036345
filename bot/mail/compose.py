"""Render an OutgoingMail into RFC 5322 bytes with Jinja2 templates (text and HTML).

The mail is written out directly rather than through the stdlib's message classes: its
shape is always the same (multipart/alternative, a text and an HTML part) and every
header is one we write ourselves, so the stdlib's general header parsing, folding and
MIME bookkeeping only cost time (most of what acknowledging a mail cost, bench/ingest.py).
Non-ASCII names and subjects become RFC 2047 encoded words, bodies quoted-printable
UTF-8 (binascii's C encoder), lines end in CRLF and headers are folded at 78 columns.
"""

from __future__ import annotations

import binascii
import re
import secrets
from email.header import Header
from email.utils import format_datetime, formataddr

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from bot.domain.outgoing import OutgoingMail
from bot.handlers.context import Clock, utcnow

LOOP_HEADER = "X-Tiketti-Loop"

_CTRL = re.compile(r"[\r\n\x00-\x08\x0b\x0c\x0e-\x1f\x7f]+")
_WIDTH = 78


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


def header(name: str, value: str) -> str:
    """One header, folded: encoded words when not ASCII, else broken at spaces (never inside a token)."""
    value = one_line(value)
    if not value.isascii():
        return f"{name}: " + Header(value, "utf-8", header_name=name).encode(linesep="\r\n")
    lines, line = [], f"{name}:"
    for word in value.split(" "):
        if len(line) + 1 + len(word) > _WIDTH and line != f"{name}:":
            lines.append(line)
            line = ""
        line += f" {word}"
    return "\r\n".join([*lines, line])


def _part(subtype: str, body: str, boundary: str) -> str:
    encoded = binascii.b2a_qp(body.replace("\r\n", "\n").encode("utf-8"), istext=True).decode("ascii")
    return (f"--{boundary}\r\nContent-Type: text/{subtype}; charset=\"utf-8\"\r\n"
            f"Content-Transfer-Encoding: quoted-printable\r\n\r\n{encoded.replace(chr(10), chr(13) + chr(10))}\r\n")


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
        fields = [
            f"From: {address(self.support_name, self.support_address)}",
            f"To: {address(mail.to_name, mail.to_addr)}",
            header("Subject", mail.subject),
            f"Date: {format_datetime(self.clock())}",
            header("Message-ID", mail.message_id),
        ]
        if mail.in_reply_to:
            fields.append(header("In-Reply-To", mail.in_reply_to))
        if mail.references:
            fields.append(header("References", " ".join(one_line(r) for r in mail.references)))
        fields += [header("Thread-Topic", mail.thread_topic), header("Thread-Index", mail.thread_index),
                   header(LOOP_HEADER, self.support_address)]
        if mail.automatic:
            fields += ["Auto-Submitted: auto-generated", "X-Auto-Response-Suppress: All", "Precedence: auto_reply"]
        # The boundary is random, and quoted-printable output never has "--" + 32 hex digits in a row.
        boundary = f"=_tiketti_{secrets.token_hex(16)}"
        fields += ["MIME-Version: 1.0", f"Content-Type: multipart/alternative;\r\n boundary=\"{boundary}\""]
        mime = "\r\n".join(fields) + "\r\n\r\n" + _part("plain", text, boundary) + _part("html", html, boundary)
        return (mime + f"--{boundary}--\r\n").encode("ascii")
