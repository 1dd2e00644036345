"""Two things intake checks around storing a mail: is it really one we stored before, and did the
MIME caps leave part of it out.

A Message-ID is the mail's natural key (a re-delivery is stored once), but nothing stops another
sender from reusing one, by bug or on purpose. Treating every mail with a known id as a re-delivery
would drop such a mail without a trace; so a known id only means "duplicate" when the sender and
the text are the same too. A different mail is stored under an id of its own (`reused_id`, derived
from its content, so its own re-delivery is still recognised) and flagged in the ticket's history.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

from bot.domain.chat_contacts import mail_contact_address
from bot.domain.inbound import InboundMail
from bot.domain.model import Message, MessageKind
from bot.handlers import events
from bot.handlers.audit import SYSTEM, audit
from bot.handlers.ports import UnitOfWork
from bot.handlers.snapshots import message_view, ticket_view

_WS = re.compile(r"\s+")


@dataclass(frozen=True)
class Seen:
    """What a mail's Message-ID says: `duplicate` (drop it), or the mail to store, with the
    stored message it was told apart from when another mail had claimed its id."""

    duplicate: bool
    mail: InboundMail
    reused_from: Message | None = None


async def seen_before(uow: UnitOfWork, mail: InboundMail) -> Seen:
    if not await uow.messages.has_mail_message_id(mail.message_id):  # the common case: one cheap query
        return Seen(False, mail)
    stored = await uow.messages.by_mail_message_id(mail.message_id)
    if stored is None or await _same_mail(uow, stored, mail):
        return Seen(True, mail)
    own = reused_id(mail)
    if await uow.messages.has_mail_message_id(own):  # this very mail came again
        return Seen(True, mail)
    return Seen(False, dataclasses.replace(mail, message_id=own), stored)


def reused_id(mail: InboundMail) -> str:
    """The id a mail is stored under when its Message-ID belongs to a different stored mail."""
    return f"<reused.{_fingerprint(mail.from_addr, mail.text)[:20]}.{mail.message_id.strip('<>')}>"


async def _same_mail(uow: UnitOfWork, stored: Message, mail: InboundMail) -> bool:
    """Same sender and same text (whitespace aside): a re-delivery, whatever headers relays added."""
    if stored.author_contact_id is None:
        return False
    author = await uow.contacts.get(stored.author_contact_id)
    sender = mail_contact_address(mail.from_addr)
    return author is not None and author.email == sender and _norm(stored.body_text) == _norm(mail.text)


def _fingerprint(sender: str, text: str) -> str:
    return hashlib.sha256(f"{sender.lower()}\0{_norm(text)}".encode("utf-8", "replace")).hexdigest()


def _norm(text: str) -> str:
    return _WS.sub(" ", text).strip()


async def after_stored(uow: UnitOfWork, mail: InboundMail, seen: Seen, ticket_number: int | None,
                       now: datetime) -> None:
    """Flag a reused Message-ID and note what the caps left out, on the ticket the mail went to."""
    if ticket_number is None or (seen.reused_from is None and not (mail.skipped_parts or mail.skipped_attachments)):
        return
    ticket = await uow.tickets.get(ticket_number)
    if ticket is None:
        return
    if seen.reused_from is not None:
        where = f"#{seen.reused_from.ticket_id}"
        audit(uow, ticket, SYSTEM, "message_id_reused", now,
              detail=f"this mail's Message-ID was already used by a different mail (other sender or text) on {where}; "
                     f"stored as {mail.message_id}")
    skipped = skipped_note(mail)
    if skipped:
        audit(uow, ticket, SYSTEM, "mail_capped", now, detail=skipped)
        note = await uow.messages.add(Message(ticket_id=ticket.number, kind=MessageKind.SYSTEM, created_at=now,
                                              body_text=skipped, body_display=skipped, author_label="Tiketti"))
        view = await ticket_view(uow, ticket)
        uow.events.append(events.MessageAdded(ticket=view, message=message_view(ticket.number, note)))


def skipped_note(mail: InboundMail) -> str:
    """What an agent needs to know about a mail the MIME caps cut short; "" when nothing was left out."""
    left = []
    if mail.skipped_parts:
        left.append(f"{mail.skipped_parts:,} MIME part(s) were not read (more parts than TIKETTI_MAX_MIME_PARTS)")
    if mail.skipped_attachments:
        left.append(f"{mail.skipped_attachments:,} attachment(s) were not stored "
                    "(more attachments than TIKETTI_MAX_ATTACHMENTS)")
    if not left:
        return ""
    return (f"Part of this mail was left out: {'; '.join(left)}. {len(mail.attachments):,} attachment(s) were stored. "
            "If the rest matters, ask the customer to send it again in fewer files.")
