"""The audit trail: one row per change or refusal, written in the transaction that makes it.

Writing it through the unit of work (never on its own) means a rolled-back action leaves no
audit row claiming it happened; a refusal, which has no action to roll back, commits its row
in a transaction of its own (bot.handlers.permissions).
"""

from __future__ import annotations

from datetime import datetime

from bot.domain.model import AuditEvent, Ticket
from bot.handlers.ports import UnitOfWork

SYSTEM = "system"  # the actor of what nobody did by hand: timers, mail rules, automatic closes


def audit(
    uow: UnitOfWork,
    ticket: Ticket | None,
    actor: str,
    action: str,
    now: datetime,
    *,
    field: str | None = None,
    before: object = None,
    after: object = None,
    detail: str | None = None,
) -> None:
    uow.audit.add(
        AuditEvent(
            ticket_id=ticket.id if ticket else None,
            action=action,
            actor=actor,
            created_at=now,
            field=field,
            before=None if before is None else str(before),
            after=None if after is None else str(after),
            detail=detail,
        )
    )
