"""Notices for people, kept as rows in the transaction of the change that causes them.

An SLA warning, a task coming due, mail that was quarantined or could not be
delivered: each is something an agent must see, so none may be lost to a chat
platform's error or a crash between the commit and the post. `record` turns the
notice events of a unit of work into `notices` rows, keyed by their cause, in
that same transaction (`Context.transaction` calls it); each chat platform then
delivers each row once (`bot.chat.notices`), retried until it is shown.
The events are still published after the commit: they wake the deliverers at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.handlers import events
from bot.handlers.ports import NoticeRow, UnitOfWork
from bot.handlers.snapshots import ticket_view

if TYPE_CHECKING:  # the context records notices in every transaction: it imports this module
    from bot.handlers.context import Context

KEEP = timedelta(days=30)  # delivered or not, notices older than this are purged


@dataclass(frozen=True)
class _Kind:
    name: str
    key: Callable[[Any], str]  # the cause, once: a second recording of the same cause adds nothing
    data: Callable[[Any], dict[str, Any]]
    rebuild: Callable[[Mapping[str, Any], Any], object]  # (data, fresh TicketView or None) -> the event


def _ticket_number(event: Any) -> int | None:
    ticket = getattr(event, "ticket", None)
    return ticket.number if ticket is not None else None


def _sla(breached: bool) -> _Kind:
    name = "sla_breach" if breached else "sla_warning"
    cls = events.SlaBreached if breached else events.SlaWarning
    return _Kind(
        name,
        key=lambda e: f"{name}:{e.ticket.number}:{e.clock}:{e.due_at.isoformat()}",
        data=lambda e: {"clock": e.clock, "due_at": e.due_at.isoformat(), "assignee": e.assignee_chat_id},
        rebuild=lambda d, t: cls(ticket=t, clock=d["clock"], due_at=datetime.fromisoformat(d["due_at"]),
                                 assignee_chat_id=d["assignee"]),
    )


def _post_failed_key(e: events.ChatPostFailed) -> str:
    """One notice per refused thing; a channel the bot cannot post in is told of once, not per ticket."""
    if e.scope == "channel":
        return f"post_failed:{e.platform}:{e.channel}:{e.code}"
    if e.scope == "thread":  # everything after the first refusal in a gone thread fails the same way
        return f"post_failed:{e.platform}:{e.ticket.number}:{e.channel}:{e.code}"
    return f"post_failed:{e.platform}:{e.ticket.number}:{e.item}:{e.code}"


KINDS: dict[type, _Kind] = {
    events.SlaWarning: _sla(False),
    events.SlaBreached: _sla(True),
    events.TaskDue: _Kind(
        "task_due",
        key=lambda e: f"task_due:{e.task_id}",
        data=lambda e: {"task_id": e.task_id, "text": e.text, "assignee": e.assignee_chat_id},
        rebuild=lambda d, t: events.TaskDue(task_id=d["task_id"], ticket=t, text=d["text"],
                                            assignee_chat_id=d["assignee"]),
    ),
    events.ExpertAnswered: _Kind(
        "expert_answered",
        key=lambda e: f"expert_answered:{e.message_id}",
        data=lambda e: {"expert": e.expert, "message_id": e.message_id, "assignee": e.assignee_chat_id},
        rebuild=lambda d, t: events.ExpertAnswered(ticket=t, expert=d["expert"], message_id=d["message_id"],
                                                   assignee_chat_id=d["assignee"]),
    ),
    events.MailQuarantined: _Kind(
        "quarantine",
        key=lambda e: f"quarantine:{e.quarantine_id}",
        data=lambda e: {"id": e.quarantine_id, "sender": e.sender, "subject": e.subject, "reason": e.reason,
                        "source": e.source},
        rebuild=lambda d, t: events.MailQuarantined(d["id"], d["sender"], d["subject"], d["reason"], d["source"]),
    ),
    events.MailDeliveryFailed: _Kind(
        "delivery_failed",
        key=lambda e: f"delivery_failed:{e.outbox_id}",
        data=lambda e: {"outbox_id": e.outbox_id, "to": e.to_addr, "subject": e.subject, "error": e.error},
        rebuild=lambda d, t: events.MailDeliveryFailed(ticket=t, to_addr=d["to"], subject=d["subject"],
                                                       error=d["error"], outbox_id=d["outbox_id"]),
    ),
    events.ChatPostFailed: _Kind(
        "post_failed",
        key=lambda e: _post_failed_key(e),
        data=lambda e: {"platform": e.platform, "channel": e.channel, "what": e.what, "item": e.item,
                        "code": e.code, "reason": e.reason, "hint": e.hint, "scope": e.scope},
        rebuild=lambda d, t: events.ChatPostFailed(ticket=t, **d),
    ),
}
NOTICE_TYPES = tuple(KINDS)
_BY_NAME = {kind.name: kind for kind in KINDS.values()}


async def record(uow: UnitOfWork, now: datetime) -> None:
    """Keep a row for every notice event of this unit of work (called just before it commits)."""
    for event in uow.events:
        kind = KINDS.get(type(event))
        if kind is not None:
            await uow.notices.add(kind.key(event), kind.name, _ticket_number(event), kind.data(event), now)


async def claim(ctx: Context, platform: str, owner: str, *, since: datetime, lease: timedelta,
                limit: int = 50) -> list[tuple[NoticeRow, object]]:
    """Notices `platform` has yet to show, leased to `owner`, each with its event rebuilt from the store
    (the ticket as it is now: a notice shows the ticket's current subject and assignee's thread)."""
    async with ctx.uow() as uow:
        now = ctx.clock()
        claimed = []
        for notice_id in await uow.notices.due(platform, since, now, limit):
            row = await uow.notices.claim(notice_id, platform, owner, now, now + lease)
            if row is None:
                continue  # another worker or instance has it
            ticket = await uow.tickets.get(row.ticket_id) if row.ticket_id is not None else None
            view = await ticket_view(uow, ticket) if ticket is not None else None
            kind = _BY_NAME.get(row.kind)
            if kind is None or (row.ticket_id is not None and view is None):
                await uow.notices.give_up(row.id, platform, owner, now, "unknown kind or ticket")
                continue
            claimed.append((row, kind.rebuild(row.data, view)))
        await uow.commit()
    return claimed


async def delivered(ctx: Context, platform: str, owner: str, notice_id: int, ref: str) -> None:
    async with ctx.uow() as uow:
        await uow.notices.delivered(notice_id, platform, owner, ref, ctx.clock())
        await uow.commit()


async def retry_later(ctx: Context, platform: str, owner: str, notice_id: int, delay: timedelta, error: str) -> None:
    async with ctx.uow() as uow:
        await uow.notices.retry_at(notice_id, platform, owner, ctx.clock() + delay, error)
        await uow.commit()


async def give_up(ctx: Context, platform: str, owner: str, notice_id: int, error: str) -> None:
    async with ctx.uow() as uow:
        await uow.notices.give_up(notice_id, platform, owner, ctx.clock(), error)
        await uow.commit()


async def purge(ctx: Context) -> int:
    async with ctx.uow() as uow:
        gone = await uow.notices.purge(ctx.clock() - KEEP)
        await uow.commit()
    return gone
