"""Mail with big attachments: every byte arrives, whatever the MIME shape, without the parser's copies.

Big base64 bodies skip the stdlib parser's line buffers (bot/mail/large_parts.py).
These tests hold that path to what the stdlib itself would decode, on the shapes
real mail has, and check the memory it was written for.
"""

from __future__ import annotations

import base64
import random
import tracemalloc
from email import message_from_bytes, policy

from bot.mail.parse import parse_mail

MB = 1024 * 1024
HEAD = b"From: Anna <anna@example.com>\r\nTo: support@helpdesk.test\r\nSubject: Logs\r\nMessage-ID: <big@example.com>\r\n"
TEXT = b"Content-Type: text/plain; charset=utf-8\r\n\r\nLogs attached.\r\n"


def blob(size: int, seed: int = 1) -> bytes:
    return random.Random(seed).randbytes(size)


def b64(data: bytes, eol: bytes = b"\r\n") -> bytes:
    return base64.encodebytes(data).replace(b"\n", eol)


def attachment(name: str, body: bytes, ctype: str = "application/octet-stream", eol: bytes = b"\r\n") -> bytes:
    head = f'Content-Type: {ctype}; name="{name}"\nContent-Transfer-Encoding: base64\nContent-Disposition: attachment; filename="{name}"\n\n'
    return head.replace("\n", eol.decode()).encode() + body


def multipart(parts: list[bytes], boundary: str = "outer", kind: str = "mixed", eol: bytes = b"\r\n", head: bytes = HEAD) -> bytes:
    out = head.replace(b"\r\n", eol) + f'MIME-Version: 1.0\nContent-Type: multipart/{kind}; boundary="{boundary}"\n\n'.replace("\n", eol.decode()).encode()
    for part in parts:
        out += b"--" + boundary.encode() + eol + part + eol
    return out + b"--" + boundary.encode() + b"--" + eol


def files(raw: bytes) -> dict[str, bytes | None]:
    return {a.filename: a.content for a in parse_mail(raw, max_attachment_bytes=50 * MB).attachments}


def stdlib_decoded(raw: bytes, filename: str) -> bytes:
    for part in message_from_bytes(raw, policy=policy.default).walk():
        if part.get_filename() == filename:
            return part.get_payload(decode=True)  # type: ignore[no-any-return]
    raise AssertionError(f"{filename} not found by the stdlib")


def test_big_attachment_arrives_intact_with_its_text() -> None:
    data = blob(3 * MB)
    raw = multipart([TEXT, attachment("disk.img", b64(data))])
    mail = parse_mail(raw, max_attachment_bytes=50 * MB)
    assert mail.text.strip() == "Logs attached."
    assert [(a.filename, a.size, a.content == data) for a in mail.attachments] == [("disk.img", len(data), True)]


def test_parsing_a_big_attachment_holds_about_one_copy_of_it() -> None:
    data = blob(4 * MB)
    raw = multipart([TEXT, attachment("disk.img", b64(data))])
    del data
    tracemalloc.start()
    try:
        mail = parse_mail(raw, max_attachment_bytes=50 * MB)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert mail.attachments[0].size == 4 * MB
    assert peak < 2 * 4 * MB  # the stdlib's line buffers alone took about 3.7 copies


def test_nested_parts_several_big_files_and_unix_line_endings() -> None:
    first, second = blob(2 * MB, 1), blob(int(1.5 * MB), 2)
    eol = b"\n"
    alternative = multipart([TEXT.replace(b"\r\n", eol), b"Content-Type: text/html\n\n<p>Logs attached.</p>"],
                            boundary="(alt+1)?", kind="alternative", eol=eol, head=b"")
    raw = multipart([alternative, attachment("a.bin", b64(first, eol), eol=eol), attachment("b.pdf", b64(second, eol), "application/pdf", eol),
                     attachment("small.txt", b64(b"tiny", eol), "text/plain", eol)], boundary="=_x.y*z", eol=eol)
    assert files(raw) == {"a.bin": first, "b.pdf": second, "small.txt": b"tiny"}
    assert parse_mail(raw).text.strip() == "Logs attached."


def test_broken_base64_is_decoded_as_forgivingly_as_the_stdlib_does() -> None:
    data = blob(2 * MB)
    encoded = b64(data)
    raws = {
        "bad padding": multipart([TEXT, attachment("x.bin", encoded[:-5] + b"\r\n")]),
        "8-bit junk": multipart([TEXT, attachment("x.bin", encoded[:5000] + b"\xff\xfe" + encoded[5000:])]),
    }
    for name, raw in raws.items():
        assert files(raw)["x.bin"] == stdlib_decoded(raw, "x.bin"), name


def test_forwarded_mail_with_a_big_attachment_is_kept_whole() -> None:
    data = blob(2 * MB)
    inner = multipart([TEXT, attachment("inner.bin", b64(data))], boundary="inner", head=b"From: b@example.com\r\nSubject: fwd\r\n")
    raw = multipart([TEXT, b"Content-Type: message/rfc822\r\n\r\n" + inner])
    forwarded = files(raw)["forwarded-message.eml"]
    assert forwarded is not None
    assert stdlib_decoded(forwarded, "inner.bin") == data


def test_big_base64_text_body_in_a_legacy_charset() -> None:
    text = "Hälö wörld, täällä lokit. " * 60_000
    raw = multipart([b"Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64(text.encode("latin-1"))])
    assert parse_mail(raw).text == text


def test_text_that_looks_like_our_placeholder_is_just_text() -> None:
    data = blob(2 * MB)
    fake = b"Content-Type: text/plain\r\n\r\nTIKETTI-LARGE-PART-0000000000000000-0\r\n"
    raw = multipart([fake, attachment("disk.img", b64(data))])
    mail = parse_mail(raw, max_attachment_bytes=50 * MB)
    assert mail.text.strip() == "TIKETTI-LARGE-PART-0000000000000000-0"
    assert mail.attachments[0].content == data


def test_attachment_over_the_limit_is_listed_not_stored() -> None:
    raw = multipart([TEXT, attachment("huge.iso", b64(blob(3 * MB)))])
    [listed] = parse_mail(raw, max_attachment_bytes=1 * MB).attachments
    assert (listed.filename, listed.size, listed.content) == ("huge.iso", 3 * MB, None)
