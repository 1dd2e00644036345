"""A received mail, as the rest of Tiketti sees it: decoded, cleaned and classified.

`bot.mail.parse` builds it from raw bytes; handlers decide what it means.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.delivery_report import DeliveryReport


@dataclass(frozen=True)
class InboundAttachment:
    filename: str
    content_type: str
    size: int
    content: bytes | None  # None when over the size limit: listed, not stored


@dataclass(frozen=True)
class InboundMail:
    message_id: str  # always set: synthesised from a content hash when the mail has none
    subject: str
    from_addr: str  # lower-cased address
    from_name: str
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    date: datetime | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()  # oldest first, as in the header
    text: str = ""  # whole body as text (the HTML converted when the text part is missing, empty or a "view in HTML" stub)
    display_text: str = ""  # what chat shows: quoted history, signature and footers hidden (bot.mail.quotes)
    html: str | None = None  # sanitised HTML part, if any
    attachments: tuple[InboundAttachment, ...] = ()
    # Loop-protection facts, read from the headers (RFC 3834 and common practice).
    auto_submitted: str | None = None  # value of Auto-Submitted
    precedence: str | None = None
    x_loop: str | None = None
    x_auto_response_suppress: str | None = None
    is_list_mail: bool = False  # List-Id or List-Unsubscribe present
    return_path: str | None = None  # None: header absent; "": empty (<>), i.e. a bounce
    is_delivery_report: bool = False  # multipart/report (DSN/MDN)
    tiketti_loop: str | None = None  # our own loop header, if the mail came from us
    thread_index: str | None = None  # Outlook's Thread-Index, if any
    # What the MIME caps (TIKETTI_MAX_MIME_PARTS, TIKETTI_MAX_ATTACHMENTS) left out; intake notes it on the ticket.
    skipped_parts: int = 0  # parts never read (beyond the part cap)
    skipped_attachments: int = 0  # attachments read but not stored (beyond the attachment cap)
    report: DeliveryReport | None = None  # a bounce, read receipt or abuse report: not a person writing
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def thread_ids(self) -> list[str]:
        """Every Message-ID this mail says it answers, most specific last."""
        ids = list(self.references)
        if self.in_reply_to and self.in_reply_to not in ids:
            ids.append(self.in_reply_to)
        return ids
