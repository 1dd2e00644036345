"""Recognise and read reports about mail we sent: bounces (DSN), read receipts (MDN), abuse reports (ARF).

Pure: a parsed MIME tree in, a `DeliveryReport` (or None for an ordinary mail) out.
Standard reports are `multipart/report` (RFC 6522) with a machine-readable part:
`message/delivery-status` (RFC 3464), `message/disposition-notification` (RFC 8098)
or `message/feedback-report` (RFC 5965). Many servers still send home-made bounces
(old Exim, qmail, Exchange 2003): those are recognised by their sender and subject,
and only with some evidence besides (a returned mail, an SMTP status code), so a
person who happens to write from postmaster@ still gets a ticket.

Nothing here decides which ticket a report belongs to: it only lists the Message-IDs
that may name the mail returned, most certain first (`bot.handlers.bounces` trusts
only the ones we signed).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from email import policy
from email.message import Message
from email.parser import HeaderParser

from bot.domain.delivery_report import DeliveryReport, ReportKind

_DSN_TYPES = {"message/delivery-status", "message/global-delivery-status"}
_MDN_TYPES = {"message/disposition-notification", "message/global-disposition-notification"}
_ARF_TYPES = {"message/feedback-report"}
_RETURNED_MAIL = {"message/rfc822", "message/global"}
_RETURNED_HEADERS = {"text/rfc822-headers", "message/global-headers"}
_REPORT_TYPES = {"delivery-status": _DSN_TYPES, "disposition-notification": _MDN_TYPES, "feedback-report": _ARF_TYPES}

_MAX_PARTS = 50  # a report has three or four parts; a bigger tree is looked at no further
_MAX_TEXT = 64 * 1024  # reasons and copied headers are near the top of a bounce's text
_MAX_REASON = 300

_MSG_ID = re.compile(r"<([^<>\s]+@[^<>\s]+)>")
_WS = re.compile(r"\s+")
# Anchored: a customer forwarding a bounce ("Fwd: Undelivered Mail…") is a person asking for help.
_BOUNCE_SUBJECT = re.compile(
    r"^\s*(?:undelivered mail returned to sender|undeliver(?:able|ed)\b|delivery status notification"
    r"|mail delivery failed|delivery failure|failure notice|returned mail\b|non-?delivery|delivery has failed"
    r"|message not delivered|delivery notification|mail system error|warning: could not send"
    r"|delayed mail|mail delivery (?:system|subsystem))",
    re.IGNORECASE,
)
_DELAY_SUBJECT = re.compile(r"\bdelay|\bstill being retried|\bwarning: could not send", re.IGNORECASE)
_DAEMONS = ("mailer-daemon", "mail-daemon", "mailerdaemon", "microsoftexchange")
# "550 5.1.1 <x>: user unknown", "(#5.1.1)", "550-5.1.1 …": an SMTP reply or enhanced status code.
_SMTP_REPLY = re.compile(r"\b[45]\d\d[ -]#?[245]\.\d{1,3}\.\d{1,3}\b")
_ENHANCED = re.compile(r"(?<![\w.])#?([245])\.\d{1,3}\.\d{1,3}(?!\w|\.\d)")  # not part of an IP or a version
_COPIED_ID = re.compile(r"^\s*message-id:\s*(<[^<>\s]+@[^<>\s]+>)", re.IGNORECASE | re.MULTILINE)
_ADDRESS = re.compile(r"<?([^\s<>@;:,\"']+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})>?")

# What an enhanced status code means when the server gave nothing else (RFC 3463, the common ones).
_STATUS_TEXT = {
    "5.1.1": "user unknown", "5.1.2": "domain unknown", "5.1.10": "recipient address has a null MX",
    "5.2.1": "mailbox disabled", "5.2.2": "mailbox full", "5.2.3": "message too big",
    "5.4.1": "no answer from host", "5.4.4": "unable to route", "5.4.7": "delivery time expired",
    "5.7.1": "delivery not authorised", "5.7.26": "failed sender authentication (DMARC)",
    "4.2.2": "mailbox full", "4.4.1": "no answer from host", "4.4.7": "delivery time expired",
}
_ACTIONS = {"failed": ReportKind.FAILED, "delayed": ReportKind.DELAYED, "delivered": ReportKind.DELIVERED,
            "relayed": ReportKind.DELIVERED, "expanded": ReportKind.DELIVERED}
_WORST = [ReportKind.FAILED, ReportKind.DELAYED, ReportKind.DELIVERED]


def read_report(msg: Message, raw: bytes, *, from_addr: str, return_path: str | None, subject: str,
                text: str, saw_report: bool) -> DeliveryReport | None:
    """The report this mail is, or None when it is an ordinary mail (a person writing).

    `saw_report`: the parser met a multipart/report or a report part. Without it, and without
    a daemon's address or a bounce's subject, the mail is ordinary and nothing else is looked at.
    A mail that says it is a report but cannot be read is still a report (with no ids, so it
    lands in the agents' list): turning it into a ticket is what this module exists to stop.
    """
    if not saw_report and not _may_be_bounce(from_addr, return_path, subject):
        return None
    report_type, parts = _report_type(msg)
    if report_type is None and not _looks_like_bounce(parts, from_addr, return_path, subject, text):
        return None
    try:
        if report_type == "delivery-status":
            return _read_dsn(msg, parts, raw)
        if report_type == "disposition-notification":
            return _read_mdn(msg, parts, raw)
        if report_type == "feedback-report":
            return _read_arf(msg, parts, raw, from_addr)
        return _read_plain_bounce(msg, parts, raw, subject, text)
    except Exception as exc:  # a broken report is still not a ticket
        kind = {"disposition-notification": ReportKind.DISPOSITION,
                "feedback-report": ReportKind.COMPLAINT}.get(report_type or "", ReportKind.FAILED)
        return DeliveryReport(kind, (), reason=f"unreadable report ({type(exc).__name__})",
                              standard=report_type is not None, raw=raw)


# --- which kind ---------------------------------------------------------------


def _report_type(msg: Message) -> tuple[str | None, list[Message]]:
    """The RFC report type this mail carries (by its machine-readable part), and its parts."""
    parts = list(_parts(msg))
    types = {p.get_content_type() for p in parts}
    for name, content_types in _REPORT_TYPES.items():
        if types & content_types:
            return name, parts
    declared = next((str(p.get_param("report-type") or "").lower() for p in parts
                     if p.get_content_type() == "multipart/report"), "")
    return (declared if declared in _REPORT_TYPES else None), parts


def _parts(msg: Message) -> Iterator[Message]:
    """The mail's parts, not descending into a returned mail (which may itself be a report)."""
    todo, seen = [msg], 0
    while todo and seen < _MAX_PARTS:
        part = todo.pop(0)
        seen += 1
        yield part
        if part.get_content_maintype() == "multipart" and part.is_multipart():
            todo.extend(p for p in part.get_payload() if isinstance(p, Message))  # type: ignore[union-attr]


def _may_be_bounce(from_addr: str, return_path: str | None, subject: str) -> bool:
    local = from_addr.split("@", 1)[0].lower()
    return return_path == "" or local.startswith(_DAEMONS) or local == "postmaster" or bool(_BOUNCE_SUBJECT.match(subject))


def _looks_like_bounce(parts: list[Message], from_addr: str, return_path: str | None, subject: str,
                       text: str) -> bool:
    """A home-made bounce: a daemon's sender or a bounce's subject, each with evidence in the body."""
    local = from_addr.split("@", 1)[0].lower()
    daemon = return_path == "" or local.startswith(_DAEMONS)
    bounce_subject = bool(_BOUNCE_SUBJECT.match(subject))
    returned = any(p.get_content_type() in _RETURNED_MAIL | _RETURNED_HEADERS for p in parts)
    head = text[:_MAX_TEXT]
    code = bool(_ENHANCED.search(head))
    if bounce_subject and (daemon or local == "postmaster"):
        return True
    if bounce_subject:  # anyone may type such a subject: it takes a returned mail and a status code too
        return returned and code
    evidence = returned or code or bool(_COPIED_ID.search(head))
    return daemon and evidence


# --- the three standard reports and the rest ------------------------------------


def _read_dsn(msg: Message, parts: list[Message], raw: bytes) -> DeliveryReport:
    blocks = _fields(next(p for p in parts if p.get_content_type() in _DSN_TYPES))
    per_message, recipients = (blocks[0], blocks[1:]) if blocks else ({}, [])
    recipients = recipients or [per_message]  # some servers put everything in one block
    worst = min(recipients, key=lambda r: _WORST.index(_action(r)))
    envelope_id = per_message.get("original-envelope-id", "")
    ids = [*_returned_ids(parts), *_ids(envelope_id if "<" in envelope_id else f"<{envelope_id}>"), *_own_ids(msg)]
    return DeliveryReport(
        _action(worst), _unique(ids), reason=_dsn_reason(worst), recipient=_address(worst.get("final-recipient")
                                                                                      or worst.get("original-recipient", "")),
        reporter=_after_type(per_message.get("reporting-mta", "")), raw=raw,
    )


def _action(fields: dict[str, str]) -> ReportKind:
    action = fields.get("action", "").strip().lower()
    if action in _ACTIONS:
        return _ACTIONS[action]
    status = fields.get("status", "").strip()
    return {"2": ReportKind.DELIVERED, "4": ReportKind.DELAYED}.get(status[:1], ReportKind.FAILED)


def _dsn_reason(fields: dict[str, str]) -> str:
    diagnostic = _after_type(fields.get("diagnostic-code", ""))
    status = fields.get("status", "").split()[0] if fields.get("status", "").split() else ""
    if not diagnostic:
        return _short(f"{status} {_STATUS_TEXT.get(status, '')}") or "no reason given"
    return _short(diagnostic if not status or status in diagnostic else f"{diagnostic} ({status})")


def _read_mdn(msg: Message, parts: list[Message], raw: bytes) -> DeliveryReport:
    fields = _merged(_fields(next(p for p in parts if p.get_content_type() in _MDN_TYPES)))
    disposition = fields.get("disposition", "")
    kind_of = disposition.rsplit(";", 1)[-1].split("/", 1)[0].strip().lower() or "displayed"
    ids = [*_ids(fields.get("original-message-id", "")), *_returned_ids(parts), *_own_ids(msg)]
    return DeliveryReport(
        ReportKind.DISPOSITION, _unique(ids), reason=kind_of,
        recipient=_address(fields.get("final-recipient") or fields.get("original-recipient", "")),
        reporter=_after_type(fields.get("reporting-ua", "")), raw=raw,
    )


def _read_arf(msg: Message, parts: list[Message], raw: bytes, from_addr: str) -> DeliveryReport:
    fields = _merged(_fields(next(p for p in parts if p.get_content_type() in _ARF_TYPES)))
    returned = _returned_headers(parts)
    recipient = _address(fields.get("original-rcpt-to", "")) or _address(returned.get("to", ""))
    return DeliveryReport(
        ReportKind.COMPLAINT, _unique([*_returned_ids(parts), *_own_ids(msg)]),
        reason=fields.get("feedback-type", "").strip().lower() or "abuse", recipient=recipient,
        reporter=fields.get("user-agent", "").strip() or from_addr, raw=raw,
    )


def _read_plain_bounce(msg: Message, parts: list[Message], raw: bytes, subject: str, text: str) -> DeliveryReport:
    """A bounce without the machine-readable part: the reason is the line with the SMTP code."""
    head = text[:_MAX_TEXT]
    line = _line_with(_SMTP_REPLY, head) or _line_with(_ENHANCED, head)
    code = _ENHANCED.search(line or "")
    delayed = bool(_DELAY_SUBJECT.search(subject)) and (code is None or code.group(1) == "4")
    returned = _returned_headers(parts)
    recipient = _address(line or "") or _address(returned.get("to", ""))
    ids = [*_returned_ids(parts), *_COPIED_ID.findall(head), *_own_ids(msg)]
    return DeliveryReport(ReportKind.DELAYED if delayed else ReportKind.FAILED, _unique(ids),
                          reason=_short(line or subject), recipient=recipient, standard=False, raw=raw)


# --- small readers ---------------------------------------------------------------


def _fields(part: Message) -> list[dict[str, str]]:
    """The blocks of `name: value` fields of a report part (lower-case names, unfolded values).

    The stdlib parses message/delivery-status into one Message per block, and the other
    report types as one nested message whose headers are the first block.
    """
    blocks: list[dict[str, str]] = []
    payload = part.get_payload()
    for block in payload if isinstance(payload, list) else []:
        if isinstance(block, Message):
            blocks.append({k.lower(): _unfold(v) for k, v in block.raw_items()})
            rest = block.get_payload()
            if isinstance(rest, str) and rest.strip():  # blocks the nested-message reading left as body
                blocks += [_header_dict(chunk) for chunk in re.split(r"\n\s*\n", rest.strip()) if chunk.strip()]
    if not blocks and isinstance(payload, str):
        blocks = [_header_dict(chunk) for chunk in re.split(r"\n\s*\n", payload.strip()) if chunk.strip()]
    return blocks


def _merged(blocks: list[dict[str, str]]) -> dict[str, str]:
    merged: dict[str, str] = {}
    for block in blocks:
        for key, value in block.items():
            merged.setdefault(key, value)
    return merged


def _header_dict(text: str) -> dict[str, str]:
    headers = HeaderParser(policy=policy.compat32).parsestr(text.lstrip(), headersonly=True)
    return {k.lower(): _unfold(v) for k, v in headers.items()}


def _returned_headers(parts: list[Message]) -> dict[str, str]:
    """Headers of the mail this report returns (attached whole or as headers only); {} if none."""
    for part in parts:
        content_type = part.get_content_type()
        if content_type in _RETURNED_MAIL:
            inner = part.get_payload()
            inner = inner[0] if isinstance(inner, list) and inner else inner
            if isinstance(inner, Message):
                return {k.lower(): _unfold(v) for k, v in reversed(list(inner.raw_items()))}
        if content_type in _RETURNED_HEADERS:
            body = part.get_payload(decode=True)
            text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(part.get_payload())
            return _header_dict(text)
    return {}


def _returned_ids(parts: list[Message]) -> list[str]:
    return list(_ids(_returned_headers(parts).get("message-id", "")))


def _own_ids(msg: Message) -> list[str]:
    """The report's own In-Reply-To, then its References newest first (Gmail sets them to the original)."""
    in_reply_to = _ids(_unfold(str(msg.get("In-Reply-To", "") or "")))
    references = _ids(_unfold(str(msg.get("References", "") or "")))
    return [*in_reply_to, *reversed(references)]


def _ids(value: str) -> tuple[str, ...]:
    return tuple(f"<{inner}>" for inner in _MSG_ID.findall(value))


def _unique(ids: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(ids))


def _unfold(value: object) -> str:
    return _WS.sub(" ", str(value)).strip()


def _after_type(value: str) -> str:
    """`smtp; 550 5.1.1 …` → `550 5.1.1 …` (the address or diagnostic type comes first)."""
    return value.split(";", 1)[1].strip() if ";" in value else value.strip()


def _address(value: str) -> str:
    found = _ADDRESS.search(_after_type(value) if ";" in value[:20] else value)
    return found.group(1).lower() if found else ""


def _line_with(pattern: re.Pattern[str], text: str) -> str | None:
    for line in text.splitlines():
        if pattern.search(line):
            return line.strip()
    return None


def _short(text: str) -> str:
    text = _unfold(text)
    return text if len(text) <= _MAX_REASON else text[: _MAX_REASON - 1] + "…"
