"""MIME part bodies as bytes: decoded once, cheaply, whatever the part claims to be.

Split from bot.mail.parse, which decides what the parts mean; this module only gets their bytes
(a big base64 body straight from the raw mail, see bot.mail.large_parts) and counts them.
"""

from __future__ import annotations

import binascii
from email import policy
from email.message import Message

from bot.mail import large_parts


class Payloads:
    """Decoded part bodies; a big base64 body cut out by `large_parts` is decoded from the raw mail."""

    def __init__(self, raw: bytes, large: large_parts.LargeParts | None) -> None:
        self.raw, self.large = raw, large

    def decoded(self, part: Message) -> bytes:
        payload = part.get_payload()
        if self.large is not None and isinstance(payload, str) and len(payload) < 100 and is_base64(part):
            token = payload.strip()
            span = self.large.spans.get(token)
            if span is not None:
                # Bad padding raises here; `token` then stays unused and the mail is parsed the ordinary way.
                data = binascii.a2b_base64(memoryview(self.raw)[span[0]:span[1]])
                self.large.used.add(token)
                return data
        return decoded_payload(part)


def is_base64(part: Message) -> bool:
    return str(part.get("Content-Transfer-Encoding", "")).strip().lower() == "base64"


def decoded_payload(part: Message) -> bytes:
    """Base64 decoded straight from the parsed string: get_payload(decode=True) splits it into lines
    and joins them again first, several transient copies of a large attachment."""
    payload = part.get_payload()
    if isinstance(payload, str) and is_base64(part):
        try:
            return binascii.a2b_base64(payload)
        except (binascii.Error, ValueError):
            pass  # bad padding or raw 8-bit junk: the stdlib decoder is more forgiving
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def undecoded_payload(part: Message) -> bytes:
    """Last resort for a part whose headers cannot be read: its body exactly as sent."""
    payload = part._payload  # noqa: SLF001 - the public accessors parse the broken headers again
    return payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else b""


def nested_bytes(part: Message) -> bytes:
    """Bytes of a forwarded mail, rebuilt from its own subtree only (not the whole message)."""
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else payload
    if not isinstance(inner, Message):
        return decoded_payload(part)
    try:
        return inner.as_bytes(policy=policy.default.clone(linesep="\r\n"))
    except Exception:  # regenerating can trip over the defects the parser tolerated
        return inner.as_string(policy=policy.compat32).encode("utf-8", "surrogateescape")


def count_parts(part: Message) -> int:
    """How many parts the walk would visit in this subtree (iterative: nesting can be deep)."""
    count, stack = 0, [part]
    while stack:
        node = stack.pop()
        count += 1
        if node.is_multipart():  # a forwarded mail's parts count too: none of them was read
            stack.extend(node.get_payload())  # type: ignore[arg-type]
    return count
