"""Realistic customer mail for the ingestion benchmark, as raw RFC 5322 bytes.

A benchmark fed only tidy UTF-8 text mail would flatter the parser, so this
mixes what a helpdesk really receives: plain, HTML-only and multipart/alternative
bodies; ISO-8859-1, Windows-1252 and Shift_JIS next to UTF-8; quoted-printable,
base64 and 8bit; replies threaded by In-Reply-To/References to the customer's own
mail, to our signed acknowledgement, or only by the [#N] subject tag; quoted
history, signatures, attachments from a few KB to a few hundred KB, the odd
auto-reply and a re-delivered duplicate.

Deterministic for a seed. It predicts ticket numbers (a fresh store numbers
tickets 1, 2, 3... in arrival order), so replies can quote our signed Message-IDs
and subject tags exactly as a customer's mail client would. State is bounded
(recent tickets only), so generating 10,000 mails lazily does not itself grow.
"""

from __future__ import annotations

import base64
import quopri
import random
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.header import Header
from email.utils import format_datetime

from bench.corpus import LOCALES, Locale, quote_header
from bot.domain import mail_ids

CRLF = b"\r\n"
_START = datetime(2025, 3, 3, 8, 0, tzinfo=timezone(timedelta(hours=2)))


@dataclass
class Person:
    name: str
    email: str
    locale: Locale


@dataclass
class OpenTicket:
    number: int
    requester: Person
    subject: str
    message_ids: list[str] = field(default_factory=list)  # the customer's own mails, oldest first
    last_text: str = ""


@dataclass(frozen=True)
class Part:
    """A leaf MIME part: already-encoded body bytes plus the headers that describe them."""

    headers: list[tuple[str, str]]
    body: bytes


class MailGenerator:
    """Yields raw mails; `expected` counts what the pipeline should make of them."""

    def __init__(self, *, seed: int = 1, key: bytes = b"bench", support: str = "support@helpdesk.bench",
                 customers: int = 500, recent: int = 1000) -> None:
        self.rng = random.Random(seed)
        self.key, self.support = key, support
        self.domain = support.rsplit("@", 1)[1]
        self.people = [self._person(i) for i in range(customers)]
        self.tickets: deque[OpenTicket] = deque(maxlen=recent)
        self.opened = 0
        self.sent: deque[bytes] = deque(maxlen=50)
        self.clock = _START
        self.serial = 0
        self.expected: Counter[str] = Counter()  # created / appended / duplicate
        self.kinds: Counter[str] = Counter()  # what was generated, for the report

    def mails(self, n: int) -> Iterator[bytes]:
        for _ in range(n):
            yield self.next_mail()

    def next_mail(self) -> bytes:
        self.clock += timedelta(seconds=self.rng.randint(5, 120))
        if self.sent and self.rng.random() < 0.02:
            self.kinds["duplicate (re-delivered)"] += 1
            self.expected["duplicate"] += 1
            return self.rng.choice(self.sent)
        roll = self.rng.random()
        if not self.tickets or roll < 0.55:
            raw = self._new_ticket()
        else:
            raw = self._reply(roll)
        self.sent.append(raw)
        return raw

    # --- threading ---------------------------------------------------------

    def _new_ticket(self) -> bytes:
        person = self.rng.choice(self.people)
        loc = person.locale
        self.opened += 1
        ticket = OpenTicket(self.opened, person, self.rng.choice(loc.subjects))
        text = self._compose_text(loc, person, quoted=None)
        extra: list[tuple[str, str]] = []
        if self.rng.random() < 0.015:
            self.kinds["auto-reply (ack suppressed)"] += 1
            extra = [("Auto-Submitted", "auto-replied"), ("X-Autoreply", "yes")]
        mid = self._message_id(person)
        ticket.message_ids.append(mid)
        ticket.last_text = text
        self.tickets.append(ticket)
        self.expected["created"] += 1
        self.kinds["new ticket"] += 1
        return self._mail(person, ticket.subject, text, mid, extra=extra)

    def _reply(self, roll: float) -> bytes:
        # Most replies are to recent tickets; a few come back to old ones.
        window = min(len(self.tickets), 100 if self.rng.random() < 0.7 else len(self.tickets))
        ticket = self.tickets[-self.rng.randint(1, window)]
        person, loc = ticket.requester, ticket.requester.locale
        tagged = mail_ids.reply_subject(ticket.subject, "#", ticket.number)
        if roll < 0.72:  # answering our acknowledgement: our signed id in In-Reply-To
            ours = mail_ids.make_message_id(ticket.number, self.key, self.domain)
            refs, subject, kind = [ticket.message_ids[0], ours], tagged, "reply to our ack (signed In-Reply-To)"
        elif roll < 0.86:  # a second mail to their own first one ("forgot the attachment")
            refs, subject, kind = ticket.message_ids[-3:], f"{loc.re}: {ticket.subject}", "reply to own mail (References)"
        else:  # webmail that dropped the threading headers: only the [#N] tag is left
            refs, subject, kind = [], f"{loc.re}: {tagged[4:]}", "reply by subject tag only"
        text = self._compose_text(loc, person, quoted=ticket.last_text)
        mid = self._message_id(person)
        ticket.message_ids = [*ticket.message_ids[-5:], mid]
        ticket.last_text = text
        self.expected["appended"] += 1
        self.kinds[kind] += 1
        return self._mail(person, subject, text, mid, refs=refs)

    # --- content -----------------------------------------------------------

    def _compose_text(self, loc: Locale, person: Person, quoted: str | None) -> str:
        rng = self.rng
        paras = [rng.choice(loc.greetings)]
        paras += rng.sample(loc.paragraphs, k=rng.randint(1, 3))
        if rng.random() < 0.3:
            paras.append("\n".join(rng.choice(loc.log_lines) for _ in range(rng.randint(3, 12))))
        paras.append(rng.choice(loc.signoffs).format(name=person.name.split()[0]))
        if rng.random() < 0.6:
            paras.append(rng.choice(loc.signatures).format(name=person.name, phone=f"+358 40 {rng.randint(1000000, 9999999)}"))
        text = "\n\n".join(paras)
        if quoted is not None:
            header = quote_header(loc, rng, format_datetime(self.clock - timedelta(hours=3)), self.support)
            text += "\n\n" + header + "\n" + "\n".join("> " + line if line else ">" for line in quoted.split("\n")[:60])
        return text

    def _mail(self, person: Person, subject: str, text: str, mid: str, *,
              refs: list[str] | None = None, extra: list[tuple[str, str]] | None = None) -> bytes:
        rng, loc = self.rng, person.locale
        charset, cte = loc.pick_encoding(rng)
        style = rng.choices(["plain", "alternative", "html"], weights=[50, 35, 15])[0]
        self.kinds[f"body: {style}"] += 1
        self.kinds[f"charset: {charset} / {cte}"] += 1
        if style == "plain":
            body = _text_part(text, "plain", charset, cte)
        elif style == "html":
            body = _text_part(_html(text), "html", charset, cte)
        else:
            body = self._multipart("alternative", [_text_part(text, "plain", charset, cte),
                                                   _text_part(_html(text), "html", charset, cte)])
        if rng.random() < 0.12:
            files = [self._attachment(loc) for _ in range(rng.choice([1, 1, 1, 2, 3]))]
            self.kinds["with attachments"] += 1
            body = self._multipart("mixed", [body, *files])
        headers = [
            ("Return-Path", f"<{person.email}>"),
            ("From", _address(person.name, person.email, charset)),
            ("To", f"Support <{self.support}>"),
            ("Subject", _encode_header(subject, charset)),
            ("Date", format_datetime(self.clock)),
            ("Message-ID", mid),
        ]
        if refs:
            headers += [("In-Reply-To", refs[-1]), ("References", "\r\n ".join(refs))]
        headers += [("MIME-Version", "1.0"), ("User-Agent", rng.choice(loc.agents)), *(extra or [])]
        return _serialise(Part(headers + body.headers, body.body))

    def _multipart(self, subtype: str, parts: list[Part]) -> Part:
        self.serial += 1
        boundary = f"----=_Part_{self.serial}_{self.rng.getrandbits(40):010x}"
        chunks = [b"This is a multi-part message in MIME format.\r\n"]
        for part in parts:
            chunks += [f"--{boundary}".encode(), CRLF, _serialise(part), CRLF]
        chunks += [f"--{boundary}--".encode(), CRLF]
        return Part([("Content-Type", f'multipart/{subtype}; boundary="{boundary}"')], b"".join(chunks))

    def _attachment(self, loc: Locale) -> Part:
        rng = self.rng
        size = int(2 ** rng.uniform(11, 18.6))  # log-uniform, 2 KB .. ~400 KB
        name, ctype, magic = rng.choice(loc.files)
        if ctype == "text/csv":
            rows = [f"{i};{rng.randint(0, 99999)};{rng.choice(loc.subjects)}" for i in range(size // 40 + 1)]
            data = ("\n".join(rows)).encode("utf-8")[:size]
        else:
            data = magic + rng.randbytes(size - len(magic))
        self.kinds["attachment files"] += 1
        disposition = f"attachment; filename*=utf-8''{_rfc2231(name)}" if not name.isascii() else f'attachment; filename="{name}"'
        return Part([("Content-Type", f"{ctype}; name=\"{name if name.isascii() else 'file'}\""),
                     ("Content-Transfer-Encoding", "base64"), ("Content-Disposition", disposition)], _b64(data))

    def _person(self, i: int) -> Person:
        loc = self.rng.choices(LOCALES, weights=[loc.weight for loc in LOCALES])[0]
        first, last = self.rng.choice(loc.first_names), self.rng.choice(loc.last_names)
        domain = self.rng.choice(loc.domains)
        local = f"{_ascii(first)}.{_ascii(last)}" if loc.code != "ja" else "customer"
        return Person(f"{first} {last}", f"{local}.{i}@{domain}".lower(), loc)

    def _message_id(self, person: Person) -> str:
        self.serial += 1
        return f"<{self.serial}.{self.rng.getrandbits(48):012x}@{person.email.rsplit('@', 1)[1]}>"


def big_attachment_mail(size: int, *, seed: int = 7, support: str = "support@helpdesk.bench") -> bytes:
    """One plain mail carrying a `size`-byte incompressible file, base64 in 76-column lines like every client sends."""
    rng = random.Random(seed)
    text = _text_part("Hello,\n\nthe full disk image is attached.\n\nRegards,\nBig Sender", "plain", "utf-8", "7bit")
    file = Part([("Content-Type", 'application/octet-stream; name="disk.img"'), ("Content-Transfer-Encoding", "base64"),
                 ("Content-Disposition", 'attachment; filename="disk.img"')], _b64(rng.randbytes(size)))
    boundary = "----=_big_attachment"
    body = b"".join([f"--{boundary}\r\n".encode(), _serialise(text), CRLF, f"--{boundary}\r\n".encode(),
                     _serialise(file), CRLF, f"--{boundary}--\r\n".encode()])
    headers = [("From", "Big Sender <big.sender@example.com>"), ("To", support), ("Subject", "Disk image"),
               ("Date", format_datetime(_START)), ("Message-ID", "<big-attachment@example.com>"), ("MIME-Version", "1.0"),
               ("Content-Type", f'multipart/mixed; boundary="{boundary}"')]
    return _serialise(Part(headers, body))


# --- encoding helpers -------------------------------------------------------


def _text_part(text: str, subtype: str, charset: str, cte: str) -> Part:
    try:
        data = text.encode(charset)
    except UnicodeEncodeError:  # the sentence bank is chosen per charset, but stay safe
        charset, data = "utf-8", text.encode("utf-8")
    data = data.replace(b"\n", CRLF)
    if cte == "base64":
        body = _b64(data)
    elif cte == "quoted-printable":
        body = quopri.encodestring(data.replace(CRLF, b"\n")).replace(b"\n", CRLF)
    else:
        body = data
    return Part([("Content-Type", f"text/{subtype}; charset={charset}"), ("Content-Transfer-Encoding", cte)], body)


def _html(text: str) -> str:
    blocks = []
    for para in text.split("\n\n"):
        escaped = para.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        if para.startswith(">"):
            blocks.append(f'<blockquote style="margin:0 0 0 .8ex;border-left:1px #ccc solid;padding-left:1ex">{escaped.replace(chr(10), "<br>")}</blockquote>')
        else:
            blocks.append(f"<div>{escaped.replace(chr(10), '<br>')}</div><div><br></div>")
    return ('<html><head><meta http-equiv="Content-Type" content="text/html"><style>p{margin:0}</style></head>'
            '<body><div dir="ltr">' + "\n".join(blocks) + '<img src="https://track.example.com/o.gif" width="1" height="1">'
            "</div></body></html>")


def _serialise(part: Part) -> bytes:
    head = b"".join(f"{name}: {value}".encode("ascii") + CRLF for name, value in part.headers)
    return head + CRLF + part.body


def _b64(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", CRLF)


def _encode_header(value: str, charset: str) -> str:
    if value.isascii():
        return value
    return Header(value, "utf-8" if charset == "shift_jis" else charset, maxlinelen=76).encode(linesep="\r\n")


def _address(name: str, email: str, charset: str) -> str:
    return f"{_encode_header(name, charset)} <{email}>" if not name.isascii() else f'"{name}" <{email}>'


def _rfc2231(name: str) -> str:
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch in "._-") else "".join(f"%{b:02X}" for b in ch.encode()) for ch in name)


_FOLD = str.maketrans({"ä": "a", "ö": "o", "å": "a", "ü": "ue", "ß": "ss", "é": "e", "Ä": "A", "Ö": "O", "Ü": "Ue"})


def _ascii(value: str) -> str:
    return value.translate(_FOLD).replace(" ", "")
