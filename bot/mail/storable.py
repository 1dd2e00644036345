"""A parsed mail made storable: no value in it can make the database refuse the row.

PostgreSQL refuses NUL in text and strings longer than their column; SQLite takes both. A mail
that one database stores and the other quarantines is a bug, and one whose values fail the
quarantine insert too stalls intake. So every string is cleaned and bounded here, once, the same
way for both databases, before any handler sees the mail:

- control characters go (NUL, escapes that would drive a terminal, C1 controls, lone surrogates);
  headers keep no line breaks or tabs, bodies keep line breaks and tabs;
- lengths stay inside the columns they end up in (bot.store.orm), with room for what we add
  ("Re: … [#123]" on a subject, the reused-id mark on a Message-ID); a cut is marked with "…",
  a cut file name keeps its extension, a long Message-ID keeps a digest of the whole so two
  different long ids stay different.

Only a sender address too long to be an address (RFC 5321: 254 characters) cannot be made
storable without making it wrong; `UnparseableMail` then quarantines the mail, on both databases.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re

from bot.domain.inbound import InboundAttachment, InboundMail

SUBJECT_MAX = 900  # tickets.subject is 998: room for "Re: " and the [#N] tag on replies
NAME_MAX = 140  # contacts.name is 200; messages.author_label (name <address>) is 400
ADDRESS_MAX = 254  # RFC 5321's limit; contacts.email is 320
MESSAGE_ID_MAX = 900  # messages.mail_message_id is 998: room for the reused-id mark (intake)
FILENAME_MAX = 400  # attachments.filename
CONTENT_TYPE_MAX = 200  # attachments.content_type
HEADER_MAX = 998  # other header values kept on the mail (loop and list facts); RFC 5322's line limit

# C0 except tab/line feed/carriage return, DEL, C1, and lone surrogates (bytes of unknown charsets).
_BODY_JUNK = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_HEADER_JUNK = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_HEADER_SPACE = re.compile("[\t\n\x0b\x0c\r]+")
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,16}$")


class UnstorableMail(ValueError):
    """A value that cannot be made storable without becoming wrong (bot.mail.parse quarantines it)."""


def body(text: str) -> str:
    """Text as a person reads it: line breaks and tabs kept, every other control character gone."""
    return _BODY_JUNK.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def header(value: str, limit: int = HEADER_MAX) -> str:
    """One line of text: line breaks become spaces, control characters go, at most `limit` characters."""
    return cut(_HEADER_JUNK.sub("", _HEADER_SPACE.sub(" ", value)).strip(), limit)


def cut(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[:limit - 1].rstrip() + "…"


def message_id(value: str) -> str:
    """A Message-ID within MESSAGE_ID_MAX; a longer one keeps its start and a digest of the whole."""
    value = header(value, len(value) + 1)
    if len(value) <= MESSAGE_ID_MAX:
        return value
    digest = hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()[:32]
    return f"{value[:MESSAGE_ID_MAX - 36].rstrip('>')}.{digest}>"


def filename(value: str) -> str:
    """At most FILENAME_MAX characters; a cut name keeps its extension so it still opens."""
    value = header(value, len(value) + 1)
    if len(value) <= FILENAME_MAX:
        return value
    ext = match.group(0) if (match := _EXTENSION.search(value)) else ""
    return value[:FILENAME_MAX - len(ext) - 1].rstrip() + "…" + ext


def address(value: str) -> str:
    value = header(value, len(value) + 1)
    if len(value) > ADDRESS_MAX:
        raise UnstorableMail(f"sender address is {len(value)} characters long (at most {ADDRESS_MAX} can receive mail)")
    return value


def _optional(value: str | None) -> str | None:
    return None if value is None else header(value)


def _attachment(a: InboundAttachment) -> InboundAttachment:
    content_type = header(a.content_type, len(a.content_type) + 1)
    if len(content_type) > CONTENT_TYPE_MAX:
        content_type = "application/octet-stream"
    return dataclasses.replace(a, filename=filename(a.filename), content_type=content_type)


def storable_mail(mail: InboundMail) -> InboundMail:
    """The same mail with every string cleaned and bounded (see the module docstring)."""
    return dataclasses.replace(
        mail,
        message_id=message_id(mail.message_id),
        subject=header(mail.subject, SUBJECT_MAX) or "(no subject)",
        from_addr=address(mail.from_addr),
        from_name=header(mail.from_name, NAME_MAX),
        to=tuple(address_like(a) for a in mail.to),
        cc=tuple(address_like(a) for a in mail.cc),
        in_reply_to=None if mail.in_reply_to is None else message_id(mail.in_reply_to),
        references=tuple(dict.fromkeys(message_id(r) for r in mail.references)),
        text=body(mail.text),
        display_text=body(mail.display_text),
        html=None if mail.html is None else body(mail.html),
        attachments=tuple(_attachment(a) for a in mail.attachments),
        auto_submitted=_optional(mail.auto_submitted),
        precedence=_optional(mail.precedence),
        x_loop=_optional(mail.x_loop),
        x_auto_response_suppress=_optional(mail.x_auto_response_suppress),
        return_path=_optional(mail.return_path),
        tiketti_loop=_optional(mail.tiketti_loop),
        thread_index=_optional(mail.thread_index),
        extra={header(k, 200): header(v) for k, v in mail.extra.items()},
    )


def address_like(value: str) -> str:
    """A recipient: cleaned, and cut rather than refused (only the sender must be usable)."""
    return header(value, ADDRESS_MAX)
