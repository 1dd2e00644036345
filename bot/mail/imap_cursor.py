"""How far IMAP intake has got in one folder: the server's UIDVALIDITY and the last UID whose ticket committed.

The cursor only ever moves inside the transaction that stores the mail (see
`advance_to`), so "processed" means "its ticket or quarantine entry is committed".
"""

from __future__ import annotations

import logging

from bot.domain.model import MailboxCursor
from bot.handlers.context import Context
from bot.handlers.intake import InTransaction
from bot.handlers.ports import UnitOfWork

log = logging.getLogger(__name__)


def mailbox_key(user: str, host: str, folder: str) -> str:
    """One cursor per account and folder, so pointing the bot at another folder starts that one afresh."""
    return f"{user}@{host}/{folder}"


def masked(mailbox: str) -> str:
    """The key as logs show it: a login that is an address keeps its first letter and domain only."""
    user, at, rest = mailbox.partition("@")
    return f"{user[:1]}***@{rest}" if at and "@" in rest else mailbox


async def start_uid(ctx: Context, mailbox: str, uidvalidity: int) -> int:
    """The last processed UID, or 0 for a new folder or one the server renumbered (UIDVALIDITY changed).

    After a renumbering every mail is read again; intake's Message-ID dedupe keeps
    that from creating a single extra ticket.
    """
    async with ctx.uow() as uow:
        cursor = await uow.cursors.get(mailbox)
        if cursor is None:
            return 0
        if cursor.uidvalidity == uidvalidity:
            return cursor.last_uid
        log.warning("IMAP %s: UIDVALIDITY changed (%d -> %d); reading the folder again from the start",
                    masked(mailbox), cursor.uidvalidity, uidvalidity)
        cursor.uidvalidity, cursor.last_uid = uidvalidity, 0
        await uow.commit()
        return 0


def advance_to(mailbox: str, uidvalidity: int, uid: int) -> InTransaction:
    """A step for the mail's own transaction: the cursor and the ticket commit together or not at all."""

    async def advance(uow: UnitOfWork) -> None:
        cursor = await uow.cursors.get(mailbox)
        if cursor is None:
            await uow.cursors.add(MailboxCursor(mailbox=mailbox, uidvalidity=uidvalidity, last_uid=uid))
        elif cursor.uidvalidity != uidvalidity:
            cursor.uidvalidity, cursor.last_uid = uidvalidity, uid
        else:
            # Never backwards: another instance may have read further meanwhile.
            cursor.last_uid = max(cursor.last_uid, uid)

    return advance
