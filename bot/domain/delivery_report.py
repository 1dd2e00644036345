"""What a machine said about a mail we sent: bounced, delayed, read, or reported as spam.

Mail servers and mail clients answer our outgoing mail with reports (RFC 3464
delivery status notifications, RFC 8098 read receipts, RFC 5965 abuse reports,
and many home-made bounces). None of them is a customer writing: they belong on
the ticket whose mail they are about, never in a ticket of their own.
`bot.mail.delivery_reports` reads them; `bot.handlers.bounces` applies them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ReportKind(StrEnum):
    FAILED = "failed"  # the mail could not be delivered (a bounce)
    DELAYED = "delayed"  # still trying: not a failure yet
    DELIVERED = "delivered"  # a success report someone asked for (or a relay sent anyway)
    DISPOSITION = "disposition"  # a read receipt (MDN): displayed, deleted, ...
    COMPLAINT = "complaint"  # the recipient reported the mail (ARF: abuse, fraud, ...)


@dataclass(frozen=True)
class DeliveryReport:
    kind: ReportKind
    # Message-IDs that may name the mail this report is about, most certain first: the returned
    # mail's own Message-ID, the envelope id, the MDN's Original-Message-ID, then In-Reply-To/References.
    original_ids: tuple[str, ...]
    # Why, in the words a person needs: "550 5.1.1 <mia@example.com>: user unknown", "displayed", "abuse".
    reason: str = ""
    recipient: str = ""  # the address the report is about (Final-Recipient, Original-Rcpt-To), if given
    reporter: str = ""  # who reports it (Reporting-MTA, Reporting-UA, the provider's address)
    standard: bool = True  # a multipart/report; False for a bounce recognised by its looks
    raw: bytes = b""  # the report itself, kept when it cannot be matched

    @property
    def label(self) -> str:
        """A short name for logs and lists: "delivery failure", "read receipt", ..."""
        return _LABELS[self.kind]


_LABELS = {
    ReportKind.FAILED: "delivery failure",
    ReportKind.DELAYED: "delivery delay",
    ReportKind.DELIVERED: "delivery confirmation",
    ReportKind.DISPOSITION: "read receipt",
    ReportKind.COMPLAINT: "abuse report",
}
