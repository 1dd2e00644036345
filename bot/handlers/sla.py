"""Service levels on tickets: set due times, keep them right as the ticket changes, warn and record breaches.

The arithmetic lives in `bot.domain.sla`; this module decides when to apply it.
`start` runs inside the transaction that creates a ticket, `refresh` inside every
transaction that may change priority, team or status (a small hook in each
handler), and `check_sla` is run periodically by the scheduler. Without an
`[sla]` section in the workflow file every function here does nothing.

A ticket's `sla_policy` stores "policy/priority", so when either changes the
targets in use before the change are still known: the business time already
paused is kept and only the target is swapped.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.domain.model import Ticket
from bot.domain.sla import CLOCKS, FIRST_RESPONSE, SlaConfig, answer_by_words, policy_key
from bot.domain.status import Status
from bot.handlers import events
from bot.handlers.audit import SYSTEM, audit
from bot.handlers.context import Context, requester_of
from bot.handlers.ports import UnitOfWork
from bot.handlers.snapshots import ticket_views

log = logging.getLogger(__name__)

PAUSED = frozenset({Status.WAITING_ON_CUSTOMER})  # the ball is in the customer's court
_DUE = {FIRST_RESPONSE: "first_response_due_at", "resolution": "resolution_due_at"}
_BREACHED = {FIRST_RESPONSE: "first_response_breached_at", "resolution": "resolution_breached_at"}
_WORDS = {FIRST_RESPONSE: "first reply", "resolution": "resolution"}
BATCH = 500


def _sla(ctx: Context) -> SlaConfig | None:
    return ctx.config.workflow.sla


async def _requester_email(uow: UnitOfWork, ticket: Ticket) -> str:
    contact = await requester_of(uow, ticket)
    return contact.email if contact else ""


async def start(ctx: Context, uow: UnitOfWork, ticket: Ticket, now: datetime) -> None:
    """Give a new ticket its policy and due times, counted from its creation. Call after routing."""
    cfg = _sla(ctx)
    if cfg is None:
        return
    policy = cfg.policy_for(await _requester_email(uow, ticket), ticket.team)
    targets = policy.targets.get(ticket.priority)
    ticket.sla_policy = policy_key(policy, ticket.priority)
    for clock in CLOCKS:
        target = targets.of(clock) if targets else None
        setattr(ticket, _DUE[clock], cfg.calendar.add_business_time(ticket.created_at, target) if target else None)
    audit(uow, ticket, SYSTEM, "sla", now, field="sla_policy", after=ticket.sla_policy,
          detail=_due_detail(ticket))
    await refresh(ctx, uow, ticket, now)


async def refresh(ctx: Context, uow: UnitOfWork, ticket: Ticket, now: datetime) -> None:
    """Keep the due times in step with the ticket: pause and resume with its status, follow priority and team."""
    cfg = _sla(ctx)
    if cfg is None or ticket.sla_policy is None:  # tickets from before SLAs were configured keep none
        return
    waiting = ticket.status in PAUSED
    if waiting and ticket.sla_paused_since is None:
        ticket.sla_paused_since = now
        audit(uow, ticket, SYSTEM, "sla_paused", now, detail="waiting on the customer")
    elif not waiting and ticket.sla_paused_since is not None:
        paused = cfg.calendar.business_time_between(ticket.sla_paused_since, now)
        ticket.sla_paused_since = None
        for clock in CLOCKS:
            due = getattr(ticket, _DUE[clock])
            if due is not None and getattr(ticket, _BREACHED[clock]) is None:
                setattr(ticket, _DUE[clock], cfg.calendar.add_business_time(due, paused))
        _forget_warnings(ticket, cfg, now)
        audit(uow, ticket, SYSTEM, "sla_resumed", now, detail=f"paused {paused} business time; {_due_detail(ticket)}")
    policy = cfg.policy_for(await _requester_email(uow, ticket), ticket.team)
    key = policy_key(policy, ticket.priority)
    if key != ticket.sla_policy:
        _retarget(ticket, cfg, key)
        _forget_warnings(ticket, cfg, now)
        audit(uow, ticket, SYSTEM, "sla", now, field="sla_policy", before=ticket.sla_policy, after=key,
              detail=_due_detail(ticket))
        ticket.sla_policy = key


def _retarget(ticket: Ticket, cfg: SlaConfig, key: str) -> None:
    """New targets, same history: business time paused so far (due minus old target) carries over."""
    old, new = cfg.targets(ticket.sla_policy), cfg.targets(key)
    for clock in CLOCKS:
        if getattr(ticket, _BREACHED[clock]) is not None:
            continue  # a breach is history; a new target does not undo it
        target = new.of(clock) if new else None
        if target is None:
            setattr(ticket, _DUE[clock], None)
            continue
        due, before = getattr(ticket, _DUE[clock]), old.of(clock) if old else None
        carried = timedelta(0)
        if due is not None and before is not None:
            carried = max(timedelta(0), cfg.calendar.business_time_between(ticket.created_at, due) - before)
        setattr(ticket, _DUE[clock], cfg.calendar.add_business_time(ticket.created_at, target + carried))


def _forget_warnings(ticket: Ticket, cfg: SlaConfig, now: datetime) -> None:
    """A due time that moved far enough away deserves a fresh warning when it comes near again."""
    keep = []
    for key in ticket.sla_events:
        clock, _, kind = key.partition(":")
        due = getattr(ticket, _DUE.get(clock, ""), None) if clock in _DUE else None
        if kind == "warning" and due is not None and due - cfg.warn_before > now:
            continue
        keep.append(key)
    if keep != ticket.sla_events:
        ticket.sla_events = keep


def _due_detail(ticket: Ticket) -> str:
    parts = [f"{_WORDS[c]} due {getattr(ticket, _DUE[c]):%Y-%m-%d %H:%M} UTC" for c in CLOCKS
             if getattr(ticket, _DUE[c]) is not None]
    return "; ".join(parts) or "no targets for this priority"


def promise(ctx: Context, ticket: Ticket, now: datetime) -> str | None:
    """What the acknowledgement promises ("by Tuesday 10:00 (Europe/Helsinki time)"); None: no SLA applies."""
    cfg = _sla(ctx)
    if cfg is None or ticket.first_response_due_at is None:
        return None
    return answer_by_words(ticket.first_response_due_at, cfg.calendar, now)


async def check_sla(ctx: Context) -> int:
    """Post each warning and each breach once; returns how many were published.

    Safe to run from several instances at once: candidate tickets are claimed with
    SKIP LOCKED on PostgreSQL and the keys in `sla_events` are written in the same
    transaction, so a warning is posted by whichever instance looks first.
    """
    cfg = _sla(ctx)
    if cfg is None:
        return 0
    async with ctx.transaction() as uow:
        now = ctx.clock()
        tickets = await uow.tickets.sla_due(now + cfg.warn_before, limit=BATCH)
        fired: list[tuple[Ticket, str, datetime, bool]] = []  # ticket, clock, due, breached
        for ticket in tickets:
            if ticket.sla_paused_since is not None or not ticket.status.is_active:
                continue
            seen = list(ticket.sla_events)
            for clock in CLOCKS:
                due = getattr(ticket, _DUE[clock])
                if due is None or getattr(ticket, _BREACHED[clock]) is not None:
                    continue
                if clock == FIRST_RESPONSE and ticket.first_response_at is not None:
                    continue
                if now >= due:
                    setattr(ticket, _BREACHED[clock], due)
                    seen += [k for k in (f"{clock}:warning", f"{clock}:breach") if k not in seen]
                    audit(uow, ticket, SYSTEM, "sla_breached", now, field=_BREACHED[clock], after=due.isoformat(),
                          detail=f"{_WORDS[clock]} was due {due:%Y-%m-%d %H:%M} UTC")
                    fired.append((ticket, clock, due, True))
                elif now >= due - cfg.warn_before and f"{clock}:warning" not in seen:
                    seen.append(f"{clock}:warning")
                    audit(uow, ticket, SYSTEM, "sla_warning", now, detail=f"{_WORDS[clock]} due {due:%Y-%m-%d %H:%M} UTC")
                    fired.append((ticket, clock, due, False))
            if seen != ticket.sla_events:
                ticket.sla_events = seen
                ticket.updated_at = now  # the root message shows the new state
        changed = list({id(t): t for t, *_ in fired}.values())
        views = {t.number: v for t, v in zip(changed, await ticket_views(uow, changed), strict=True)}
        for ticket, clock, due, breached in fired:
            view = views[ticket.number]
            kind = events.SlaBreached if breached else events.SlaWarning
            uow.events.append(kind(ticket=view, clock=clock, due_at=due, assignee_chat_id=view.assignee_chat_id))
    if fired:
        log.info("sla: %d warnings and breaches", len(fired))
    return len(fired)
