"""The outbox's bookkeeping: which mail is being sent, and what became of it.

Each step is its own short transaction, so no database lock is held while a
mail is on the wire. A row is sent at most once: once claimed it only ever
moves to SENT, FAILED, or back to PENDING by the worker that claimed it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.model import MailState, OutboundMail
from bot.handlers import events
from bot.handlers.audit import SYSTEM, audit
from bot.handlers.context import Context
from bot.handlers.ports import UnitOfWork
from bot.handlers.snapshots import ticket_view

UNCERTAIN = "delivery uncertain: the bot stopped while sending; check and resend by hand"
_MAX_ERROR = 1000


@dataclass(frozen=True)
class Claimed:
    """A row this worker now owns until `lease_until`; plain data, safe outside the transaction."""

    id: int
    kind: str
    ticket_id: int | None
    to_addr: str
    subject: str
    raw: bytes
    attempts: int
    lease_until: datetime


async def claim(ctx: Context, *, limit: int, lease: timedelta) -> list[Claimed]:
    """Move due rows to SENDING and commit before anything is sent, so no other worker takes them."""
    now = ctx.clock()
    async with ctx.uow() as uow:
        rows = await uow.outbox.claim_due(now, now + lease, limit)
        await uow.commit()
        return [
            Claimed(r.id, r.kind, r.ticket_id, r.to_addr, r.subject, r.raw, r.attempts, r.lease_until)  # type: ignore[arg-type]
            for r in rows
        ]


async def mark_sent(ctx: Context, outbox_id: int) -> None:
    async with ctx.uow() as uow:
        row = await uow.outbox.get(outbox_id)
        if row is None:
            return
        # Even if someone gave up on it meanwhile, the truth is that it went out.
        row.state, row.sent_at, row.lease_until, row.last_error = MailState.SENT, ctx.clock(), None, None
        await uow.commit()


async def retry_later(ctx: Context, outbox_id: int, error: str, delay: timedelta) -> None:
    async with ctx.uow() as uow:
        row = await _owned(uow, outbox_id)
        if row is None:
            return
        row.state, row.lease_until, row.last_error = MailState.PENDING, None, _short(error)
        row.next_attempt_at = ctx.clock() + delay
        await uow.commit()


async def release(ctx: Context, outbox_ids: list[int]) -> None:
    """Give back rows claimed but not tried (the pass ran out of lease): they keep their attempt."""
    async with ctx.uow() as uow:
        for outbox_id in outbox_ids:
            row = await _owned(uow, outbox_id)
            if row is not None:
                row.state, row.lease_until, row.attempts = MailState.PENDING, None, max(0, row.attempts - 1)
        await uow.commit()


async def mark_failed(ctx: Context, outbox_id: int, error: str) -> bool:
    """Give up on a mail, record why on its ticket, and tell whoever shows the ticket."""
    async with ctx.transaction() as uow:
        row = await _owned(uow, outbox_id)
        if row is None:
            return False
        uow.events.append(await _fail(uow, row, error, ctx.clock()))
    return True


async def fail_abandoned(ctx: Context) -> list[int]:
    """Rows left in SENDING past their lease: the sender stopped mid-send.

    They may or may not have reached the relay, so they are never resent
    automatically (a customer must not get the same reply twice); a person decides.
    """
    now = ctx.clock()
    async with ctx.transaction() as uow:
        rows = list(await uow.outbox.expired_leases(now))
        uow.events += [await _fail(uow, row, UNCERTAIN, now) for row in rows]
    return [r.id for r in rows if r.id is not None]


async def _owned(uow: UnitOfWork, outbox_id: int) -> OutboundMail | None:
    """The row, if it is still in SENDING (nobody else has decided its fate)."""
    row = await uow.outbox.get(outbox_id)
    return row if row is not None and row.state == MailState.SENDING else None


async def _fail(uow: UnitOfWork, row: OutboundMail, error: str, now: datetime) -> events.MailDeliveryFailed:
    row.state, row.lease_until, row.last_error = MailState.FAILED, None, _short(error)
    ticket = await uow.tickets.get(row.ticket_id) if row.ticket_id is not None else None
    audit(uow, ticket, SYSTEM, "mail_failed", now, detail=f"{row.kind} to {row.to_addr} ({row.mail_message_id}): {row.last_error}")
    if ticket is not None:
        ticket.updated_at = now  # its root lists undeliverable mail: shown again
    await uow.flush()
    view = await ticket_view(uow, ticket) if ticket is not None else None
    return events.MailDeliveryFailed(ticket=view, to_addr=row.to_addr, subject=row.subject, error=row.last_error or "",
                                     outbox_id=row.id)


def _short(error: str) -> str:
    error = " ".join(error.split())
    return error if len(error) <= _MAX_ERROR else error[: _MAX_ERROR - 1] + "…"


_ADDRESS = re.compile(r"[^\s<>@,;:\"']+@([A-Za-z0-9.-]+)")


def mask(text: str) -> str:
    """Addresses are personal data: info-level logs keep the domain only."""
    return _ADDRESS.sub(r"***@\1", text)
