"""Outside experts consulted by mail about a ticket: the exchange's mails, and what an expert's address may be.

An exchange is every mail between the helpdesk and one expert about one ticket: our questions and their
answers, in the order they went. It is kept apart from the customer's conversation on purpose: the expert
is not a participant of the ticket (their mail is never the customer's, and never reaches the customer),
and the customer's References never name the expert's mails.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.domain.errors import UserFacingError

# One plain address: an ASCII local part and a dotted domain (an IDN one too), nothing a header could be
# split at. Deliberately narrower than RFC 5322 (no quoted local parts,
# no comments, no display names): an agent types it.
_LABEL = r"[^\W_](?:(?:[^\W_]|-)*[^\W_])?"
_ADDRESS = re.compile(rf"[A-Za-z0-9!#$%&'*+/=?^_`{{|}}~.-]+@{_LABEL}(?:\.{_LABEL})+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class Direction(StrEnum):
    QUESTION = "question"  # ours, mailed to the expert
    ANSWER = "answer"  # theirs, stored on the ticket as an internal note


@dataclass(frozen=True)
class ExpertMail:
    """One mail of an exchange, by its Message-ID: what the next question threads under."""

    ticket_id: int
    expert: str  # the expert's address, lower case
    mail_message_id: str
    direction: Direction
    created_at: datetime
    asked_by: str | None = None  # the agent's audit name, for questions
    message_id: int | None = None  # the ticket message that shows it (the note)
    id: int | None = None


class BadExpertAddress(UserFacingError, ValueError):
    """The address cannot be mailed as an outside expert; the message says why."""


def expert_address(text: str) -> str:
    """The one address an agent typed, lower case; BadExpertAddress for anything else.

    Line breaks and control characters are refused rather than cleaned: an address with a CR/LF in it is
    an attempt to add headers (Bcc: …), and quietly mailing what is left could reach someone else.
    """
    if _CONTROL.search(text):
        raise BadExpertAddress("the expert's address contains a line break or control character; nothing was sent")
    address = text.strip().removeprefix("mailto:").removeprefix("<").removesuffix(">")
    if not address:
        raise BadExpertAddress("name the expert's address: /ticket ask N expert@example.com | question…")
    if any(sep in address for sep in (",", ";", " ")):
        raise BadExpertAddress(f"{address!r}: one expert at a time, one address")
    if len(address) > 254 or _ADDRESS.fullmatch(address) is None:  # RFC 5321's path limit, less the brackets
        raise BadExpertAddress(f"{address[:80]!r} is not a mail address")
    local, _, domain = address.lower().rpartition("@")
    try:  # an IDN domain in its ASCII form: what SMTP's envelope carries and the expert's answers come from
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        raise BadExpertAddress(f"{address!r} is not a mail address") from None
