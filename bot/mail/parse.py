"""Raw RFC 5322 bytes to an InboundMail, or UnparseableMail so the caller can quarantine the mail.

Pure and forgiving: real mail has broken charsets, dates and headers, and one bad
detail must cost that detail only, never the ticket.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime

import nh3

from bot.domain.inbound import InboundAttachment, InboundMail
from bot.mail import large_parts
from bot.mail.delivery_reports import read_report
from bot.mail.headers import CachedHeaders
from bot.mail.payloads import Payloads, count_parts, nested_bytes, undecoded_payload
from bot.mail.storable import UnstorableMail, storable_mail
from bot.mail.text import clean_str, decode_bytes, readable_body

_MSG_ID = re.compile(r"<([^<>]+)>")
_WS = re.compile(r"\s+")
_UNSAFE_FILENAME = re.compile(r"[\x00-\x1f\x7f]")
_REPORT_TYPES = {"message/delivery-status", "message/global-delivery-status", "message/disposition-notification"}
_NESTED_MAIL_TYPES = {"message/rfc822", "message/global"}
_LOOP_HEADER = "X-Tiketti-Loop"  # bot.mail.compose.LOOP_HEADER; not imported to keep this module light


# Mail repeats its headers (Content-Type is asked for a dozen times per mail): parse each distinct one once.
_POLICY = policy.default.clone(header_factory=CachedHeaders(values=2048))


class UnparseableMail(ValueError):
    """Not a mail we can turn into a ticket; the message says why in a few words."""


@dataclass(frozen=True)
class Limits:
    """What one mail may cost: bytes per stored attachment, MIME parts read, attachments stored."""

    attachment_bytes: int = 10_000_000
    parts: int = 500
    attachments: int = 100


def parse_mail(raw: bytes, *, max_attachment_bytes: int = 10_000_000, max_parts: int = 500,
               max_attachments: int = 100) -> InboundMail:
    """Parse once, decode each part once; any surprise becomes UnparseableMail, never a crash.

    The result is storable (bot.mail.storable): what a database would refuse is cleaned here.
    """
    if not isinstance(raw, (bytes, bytearray)):
        raise UnparseableMail(f"expected bytes, got {type(raw).__name__}")
    if not raw or raw.isspace():
        raise UnparseableMail("empty mail")
    try:
        return storable_mail(_parse(bytes(raw), Limits(max_attachment_bytes, max_parts, max_attachments)))
    except UnstorableMail as exc:
        raise UnparseableMail(str(exc)) from exc
    except UnparseableMail:
        raise
    except Exception as exc:  # the stdlib parser and friends have many odd corners
        raise UnparseableMail(f"cannot parse mail: {type(exc).__name__}: {exc}") from exc


def _parse(raw: bytes, limits: Limits) -> InboundMail:
    large = large_parts.extract(raw)
    if large is not None:
        try:
            mail = _parse_source(raw, large.stripped, large, limits)
            if large.all_used:
                return mail
        except Exception:  # noqa: S110 - the ordinary parse below decides what this mail is
            pass
    return _parse_source(raw, raw, None, limits)


def _parse_source(raw: bytes, source: bytes, large: large_parts.LargeParts | None, limits: Limits) -> InboundMail:
    """`source` is `raw`, or `raw` with big base64 bodies swapped for placeholders that `large` resolves."""
    # parse(BytesIO) feeds the parser in chunks; parsebytes() makes a 4-byte-per-char StringIO copy
    # (about 4x the mail size at peak, measured on a 25 MB attachment).
    msg = BytesParser(policy=_POLICY).parse(io.BytesIO(source))
    if not msg.keys():
        raise UnparseableMail("not a MIME message: no headers found")
    from_name, from_addr = _sender(msg)
    body = _Body(limits, Payloads(raw, large))
    body.collect(msg)
    text, display_text = readable_body(body.text, body.html, subject=_header_str(msg, "Subject"))
    return InboundMail(
        message_id=_message_id(msg, raw),
        subject=_fold(_header_str(msg, "Subject")) or "(no subject)",
        from_addr=from_addr,
        from_name=from_name,
        to=_address_list(msg, "To"),
        cc=_address_list(msg, "Cc"),
        date=_date(_raw_header(msg, "Date")),
        in_reply_to=next(iter(_ids(_raw_header(msg, "In-Reply-To"))), None),
        references=_ids(_raw_header(msg, "References")),
        text=text,
        display_text=display_text,
        html=_sanitise_html(body.html),
        attachments=tuple(body.attachments),
        auto_submitted=_raw_header(msg, "Auto-Submitted"),
        precedence=_raw_header(msg, "Precedence"),
        x_loop=_raw_header(msg, "X-Loop"),
        x_auto_response_suppress=_raw_header(msg, "X-Auto-Response-Suppress"),
        is_list_mail=_raw_header(msg, "List-Id") is not None or _raw_header(msg, "List-Unsubscribe") is not None,
        return_path=_return_path(_raw_header(msg, "Return-Path")),
        is_delivery_report=body.saw_report,
        tiketti_loop=_raw_header(msg, _LOOP_HEADER),
        thread_index=_raw_header(msg, "Thread-Index"),
        skipped_parts=body.skipped_parts,
        skipped_attachments=body.skipped_attachments,
        report=read_report(msg, raw, from_addr=from_addr, return_path=_return_path(_raw_header(msg, "Return-Path")),
                           subject=_header_str(msg, "Subject"), text=text, saw_report=body.saw_report),
    )


# --- headers ---------------------------------------------------------------


def _raw_header(msg: Message, name: str) -> str | None:
    """First value as sent, unfolded; raw because the structured parsers choke on junk ids and tokens."""
    wanted = name.lower()
    for key, value in msg.raw_items():
        if key.lower() == wanted:
            return clean_str(_WS.sub(" ", str(value)).strip())
    return None


def _header_str(msg: Message, name: str) -> str:
    """Decoded (RFC 2047) header text; falls back to our own decoding when the policy parser fails."""
    try:
        value = msg.get(name)
        return clean_str(str(value)) if value is not None else ""
    except Exception:
        return _decode_words(_raw_header(msg, name) or "")


def _decode_words(value: str) -> str:
    try:
        return clean_str(str(make_header(decode_header(value))))
    except Exception:
        return value


def _fold(value: str) -> str:
    return _WS.sub(" ", value).strip()


def _addresses(msg: Message, name: str) -> list[tuple[str, str]]:
    """(display name, lower-cased address) pairs; only entries that look like real addresses."""
    try:
        headers: list[object] = list(msg.get_all(name) or [])
    except Exception:
        headers = [value for value in [_raw_header(msg, name)] if value]
    pairs: list[tuple[str, str]] = []
    for header in headers:
        try:
            found = [(a.display_name, a.addr_spec) for a in header.addresses]  # type: ignore[attr-defined]
        except Exception:
            found = [(_decode_words(n), a) for n, a in getaddresses([str(header)])]
        for display, addr in found:
            addr = clean_str(addr).strip().strip("<>").lower()
            if "@" in addr and not addr.startswith("@") and not addr.endswith("@"):
                pairs.append((_fold(clean_str(display or "")), addr))
    return pairs


def _address_list(msg: Message, name: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(addr for _, addr in _addresses(msg, name)))


def _sender(msg: Message) -> tuple[str, str]:
    """Who to answer: From, else Sender, else the envelope sender in Return-Path."""
    for name in ("From", "Sender"):
        found = _addresses(msg, name)
        if found:
            return found[0]
    bounce_to = _return_path(_raw_header(msg, "Return-Path"))
    if bounce_to and "@" in bounce_to:
        return "", bounce_to
    raise UnparseableMail("no From address")


def _return_path(value: str | None) -> str | None:
    """None when absent, "" for the null sender <> (a bounce), else the lower-cased address."""
    if value is None:
        return None
    match = _MSG_ID.search(value)
    inner = match.group(1) if match else ("" if "<" in value else value)
    return _WS.sub("", inner).lower()


def _ids(value: str | None) -> tuple[str, ...]:
    """Every <id> in order, tolerating comments, quoted junk and ids broken by folding."""
    if not value:
        return ()
    found = [_WS.sub("", inner) for inner in _MSG_ID.findall(value)]
    if not found:  # some mailers drop the angle brackets
        found = [token.strip("<>,;") for token in value.split() if "@" in token]
    return tuple(dict.fromkeys(f"<{i}>" for i in found if i))


def _message_id(msg: Message, raw: bytes) -> str:
    """A stable id even without the header, so a re-delivered copy is recognised as a duplicate."""
    ids = _ids(_raw_header(msg, "Message-ID"))
    if ids:
        return ids[0]
    value = _WS.sub("", _raw_header(msg, "Message-ID") or "").strip("<>")
    if value:
        return f"<{value}>"
    return f"<sha256-{hashlib.sha256(raw).hexdigest()[:32]}@missing-message-id.tiketti>"


def _date(value: str | None) -> datetime | None:
    """Aware datetime or None; a bad Date is common and must not cost the mail."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# --- body and attachments --------------------------------------------------


class _Body:
    """One walk over the MIME tree: first text/plain, first text/html, attachments, report parts.

    Capped (Limits): past `parts` parts nothing more is read, past `attachments` files none is
    decoded or kept. A mail of 20,000 tiny parts is still a ticket, with a note of what was left
    (bot.handlers.intake), not 20,000 attachment rows and seconds of work.
    """

    def __init__(self, limits: Limits, payloads: Payloads) -> None:
        self.limits = limits
        self.max_attachment_bytes = limits.attachment_bytes
        self.payloads = payloads
        self.text: str | None = None
        self.html: str | None = None
        self.attachments: list[InboundAttachment] = []
        self.saw_report = False
        self.parts = 0
        self.skipped_parts = 0
        self.skipped_attachments = 0

    def collect(self, part: Message) -> None:
        if self.parts >= self.limits.parts:
            self.skipped_parts += count_parts(part)
            return
        self.parts += 1
        try:
            children = self._visit(part)
        except Exception:  # e.g. stdlib header-parser bugs on one part: keep its bytes, not lose the mail
            if self._room_for_attachment():
                self.attachments.append(self._file(part, "application/octet-stream", undecoded_payload(part)))
            return
        for child in children:
            self.collect(child)

    def _room_for_attachment(self) -> bool:
        """False (and counted) once the attachment cap is reached: the part is then not even decoded."""
        if len(self.attachments) < self.limits.attachments:
            return True
        self.skipped_attachments += 1
        return False

    def _visit(self, part: Message) -> list[Message]:
        """Handle one part; returns the children still to walk."""
        content_type = part.get_content_type()
        if content_type in _REPORT_TYPES or content_type == "multipart/report":
            self.saw_report = True
            if content_type != "multipart/report":
                return []
        if content_type.startswith("multipart/"):
            if part.is_multipart():
                return list(part.get_payload())  # type: ignore[arg-type]
            if self.text is None:  # no usable boundary: the best we can do is show it as text
                self.text = _part_text(part, self.payloads)
        elif _is_attachment(part):
            if not self._room_for_attachment():
                return []
            nested = content_type in _NESTED_MAIL_TYPES
            data = nested_bytes(part) if nested else self.payloads.decoded(part)
            self.attachments.append(self._file(part, content_type, data, "forwarded-message.eml" if nested else None))
        elif content_type == "text/plain" and not (self.text and self.text.strip()):  # a blank first one loses
            self.text = _part_text(part, self.payloads)
        elif content_type == "text/html" and self.html is None:
            self.html = _part_text(part, self.payloads)
        return []

    def _file(self, part: Message, content_type: str, data: bytes, default: str | None = None) -> InboundAttachment:
        default = default or f"attachment-{len(self.attachments) + 1}.bin"
        size = len(data)
        return InboundAttachment(
            filename=_filename(part) or default,
            content_type=content_type,
            size=size,
            content=data if size <= self.max_attachment_bytes else None,
        )


def _is_attachment(part: Message) -> bool:
    """Files, not body: declared attachments, anything named or non-text, and forwarded mails."""
    if part.get_content_type() in _NESTED_MAIL_TYPES or part.get_content_disposition() == "attachment":
        return True
    return part.get_content_type() not in ("text/plain", "text/html") or bool(_filename(part))


def _filename(part: Message) -> str:
    """Decoded name without any directory part or control characters; "" when there is none."""
    try:
        name = part.get_filename() or ""
    except Exception:
        name = ""
    if "=?" in name:
        name = _decode_words(name)
    name = _UNSAFE_FILENAME.sub("", clean_str(name)).replace("\\", "/").rsplit("/", 1)[-1].strip()
    return name if name.strip(".") else ""


def _part_text(part: Message, payloads: Payloads) -> str:
    return decode_bytes(payloads.decoded(part), part.get_content_charset()).replace("\r\n", "\n")


def _sanitise_html(html: str | None) -> str | None:
    """Sender HTML may carry scripts and trackers; only nh3's safe subset ever reaches a viewer."""
    if not html or not html.strip():
        return None
    return nh3.clean(html, clean_content_tags={"script", "style", "title", "head"})
