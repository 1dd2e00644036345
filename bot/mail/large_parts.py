"""Big base64 parts decoded straight from the raw mail, not through the stdlib parser.

The stdlib feedparser keeps a body as a list of line strings, then joins and slices
it: about 3.7 copies of a 25 MB attachment at peak (bench/ingest.py). Here the MIME
structure is walked once with byte searches, each big base64 leaf body is swapped
for a one-line placeholder before the stdlib parses the (now small) rest, and the
file is decoded from a memoryview of the raw mail: one copy, which is the result.

Only a helper: `bot.mail.parse` checks that the stdlib saw the same structure (every
placeholder came back as the payload of a base64 part) and otherwise parses the
original bytes the ordinary way, so an odd mail costs memory, never correctness.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesHeaderParser

# Bodies above this are cut out; smaller ones go through the stdlib, where they are cheap enough.
THRESHOLD = 1 << 20
_MAX_DEPTH = 20
# A mail of thousands of small parts is no case for this shortcut (each part's headers parsed twice
# would double the work): past this many parts the stdlib parses it alone (bot.mail.parse caps what is read).
_MAX_PARTS = 1000
_MAX_HEADER_BLOCK = 256 * 1024
_BLANK_LINE = re.compile(rb"\r?\n\r?\n")
_HEADER_LINE = re.compile(rb"[\x21-\x39\x3b-\x7e]+:|[ \t]")  # the feedparser's own test, minus "From "
# A body is cut out only if it is nothing but base64 text: no delimiter ("--") or header can hide in it.
_NOT_BASE64 = re.compile(rb"[^A-Za-z0-9+/=\r\n \t]")


class _Unsure(Exception):
    """Structure we would rather leave to the stdlib."""


@dataclass
class LargeParts:
    stripped: bytes  # the raw mail with each big body replaced by its placeholder line
    spans: dict[str, tuple[int, int]]  # placeholder -> (start, end) of the body in the raw mail
    used: set[str] = field(default_factory=set)  # placeholders the parser resolved

    @property
    def all_used(self) -> bool:
        return self.used == set(self.spans)


def extract(raw: bytes) -> LargeParts | None:
    """Placeholders for every big base64 leaf, or None when there is none (or the structure is odd)."""
    if len(raw) <= THRESHOLD or raw.startswith(b"From "):
        return None
    spans: list[tuple[int, int]] = []
    try:
        _walk(raw, 0, len(raw), spans, 0, [0])
    except _Unsure:
        return None
    if not spans:
        return None
    nonce = secrets.token_hex(8)  # a mail cannot forge a placeholder it cannot know
    pieces: list[bytes] = []
    found: dict[str, tuple[int, int]] = {}
    pos = 0
    for i, (start, end) in enumerate(spans):
        token = f"TIKETTI-LARGE-PART-{nonce}-{i}"
        eol = b"\r\n" if raw[end - 2:end] == b"\r\n" else b"\n"
        pieces += [raw[pos:start], token.encode("ascii"), eol]
        found[token] = (start, end)
        pos = end
    pieces.append(raw[pos:])
    return LargeParts(b"".join(pieces), found)


def _walk(raw: bytes, start: int, end: int, spans: list[tuple[int, int]], depth: int, seen: list[int]) -> None:
    if depth > _MAX_DEPTH:
        raise _Unsure("nested too deep")
    seen[0] += 1
    if seen[0] > _MAX_PARTS:
        raise _Unsure("too many parts")
    headers, body_start = _header_block(raw, start, end)
    msg = BytesHeaderParser(policy=policy.compat32).parsebytes(headers)
    content_type = msg.get_content_type()
    if content_type.startswith("message/"):
        return  # forwarded mails are rebuilt whole by the parser; leave them alone
    boundary = msg.get_boundary() if msg.get_content_maintype() == "multipart" else None
    if boundary:
        for child_start, child_end in _children(raw, body_start, end, boundary):
            _walk(raw, child_start, child_end, spans, depth + 1, seen)
        return
    cte = str(msg.get("Content-Transfer-Encoding", "")).strip().lower()
    if cte == "base64" and end - body_start > THRESHOLD and not _NOT_BASE64.search(raw, body_start, end):
        spans.append((body_start, end))


def _header_block(raw: bytes, start: int, end: int) -> tuple[bytes, int]:
    """Header bytes (with their final line break) and where the body starts."""
    for eol in (b"\r\n", b"\n"):
        if raw.startswith(eol, start):  # no headers at all: a part may start with the blank line
            return b"", start + len(eol)
    blank = _BLANK_LINE.search(raw, start, min(end, start + _MAX_HEADER_BLOCK))
    if blank is None:
        raise _Unsure("no end of headers")
    block = raw[start:blank.start()]
    for line in block.splitlines():
        if not _HEADER_LINE.match(line):
            raise _Unsure("not a header line")
    line_end = b"\r\n" if blank.group(0).startswith(b"\r\n") else b"\n"
    return block + line_end, blank.end()


def _children(raw: bytes, start: int, end: int, boundary: str) -> list[tuple[int, int]]:
    """Byte ranges of the parts between delimiter lines; each ends where the next delimiter begins."""
    try:
        token = boundary.encode("ascii")
    except UnicodeEncodeError as exc:
        raise _Unsure("non-ASCII boundary") from exc
    delimiter = re.compile(rb"^--" + re.escape(token) + rb"(--)?[ \t]*(?:\r\n|\r|\n|\Z)", re.MULTILINE)
    parts: list[tuple[int, int]] = []
    open_at: int | None = None
    for match in delimiter.finditer(raw, start, end):
        if open_at is not None:
            parts.append((open_at, match.start()))
        if match.group(1):  # the close delimiter: the rest is epilogue
            return parts
        open_at = match.end()
    if open_at is not None:
        parts.append((open_at, end))  # no close delimiter: the stdlib runs the last part to the end too
    return parts
