"""Our Message-IDs, subject tags and Outlook thread headers.

A Message-ID we generate carries the ticket number and an HMAC, so a reply that
quotes it in In-Reply-To/References is threaded to its ticket with certainty,
and nobody can forge one to inject mail into another customer's ticket
(osTicket and FreeScout do the same).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import struct
from datetime import UTC, datetime

_OUR_ID = re.compile(r"^<tiketti\.(\d+)\.([0-9a-z]+)\.([0-9a-f]{16})@([^>]+)>$")


def make_message_id(ticket_number: int, key: bytes, domain: str) -> str:
    nonce = secrets.token_hex(6)
    return f"<tiketti.{ticket_number}.{nonce}.{_sign(key, ticket_number, nonce)}@{domain}>"


def ticket_from_message_id(message_id: str, key: bytes) -> int | None:
    """The ticket number an id of ours points at, or None if it is not ours or the signature is wrong."""
    m = _OUR_ID.match(message_id.strip())
    if not m:
        return None
    number, nonce, sig = int(m.group(1)), m.group(2), m.group(3)
    if not hmac.compare_digest(sig, _sign(key, number, nonce)):
        return None
    return number


def _sign(key: bytes, number: int, nonce: str) -> str:
    return hmac.new(key, f"{number}.{nonce}".encode(), hashlib.sha256).hexdigest()[:16]


def subject_tag(prefix: str, number: int) -> str:
    return f"[{prefix}{number}]"


def find_subject_tag(subject: str, prefix: str) -> int | None:
    m = re.search(r"\[" + re.escape(prefix) + r"\s*(\d+)\]", subject, re.IGNORECASE)
    return int(m.group(1)) if m else None


_RE_PREFIX = re.compile(r"^\s*((re|aw|sv|vs|antw|ref|fw|fwd|wg|tr)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)


def reply_subject(subject: str, prefix: str, number: int) -> str:
    """'Re: <subject> [#12]' with exactly one Re: and one tag, whatever the customer's client did."""
    tag = subject_tag(prefix, number)
    base = " ".join(_RE_PREFIX.sub("", subject.replace(tag, " ")).split()) or "(no subject)"
    return f"Re: {base} {tag}"


def ticket_subject(subject: str, prefix: str, number: int) -> str:
    """'<subject> [#12]' for mail that starts a conversation; one line, whatever was typed in chat."""
    tag = subject_tag(prefix, number)
    base = " ".join(subject.replace(tag, " ").split()) or "(no subject)"
    return f"{base} {tag}"


# --- Outlook's Thread-Index -------------------------------------------------
# 22 bytes for the conversation: a reserved byte, 5 bytes of FILETIME, a 16-byte GUID;
# each reply appends a 5-byte child block. Outlook groups mail with the same first
# 22 bytes, so we derive them from the ticket alone and stay consistent across mails.

_FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)


def _filetime(dt: datetime) -> int:
    return int((dt - _FILETIME_EPOCH).total_seconds() * 10_000_000)


def thread_index(key: bytes, ticket_number: int, ticket_created: datetime, now: datetime, depth: int) -> str:
    guid = hmac.new(key, f"thread.{ticket_number}".encode(), hashlib.sha256).digest()[:16]
    header = b"\x01" + struct.pack(">Q", _filetime(ticket_created))[:5] + guid
    delta = max(0, _filetime(now) - _filetime(ticket_created)) >> 18
    blocks = b"".join(struct.pack(">I", min(delta, 0x7FFFFFFF) << 1)[:4] + bytes([i & 0xFF]) for i in range(depth))
    return base64.b64encode(header + blocks).decode("ascii")
