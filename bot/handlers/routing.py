"""Where tickets go: routing rules for new mail, auto-assignment within a team, follow-up policy.

Called inside the intake transaction (and by the team handlers), so a ticket is
created already routed and assigned: there is never a moment where it sits in
the wrong team's channel.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain.inbound import InboundMail
from bot.domain.model import Agent, Ticket
from bot.domain.status import Status
from bot.handlers.audit import SYSTEM, audit
from bot.handlers.context import Context
from bot.handlers.ports import UnitOfWork


async def route_new(ctx: Context, uow: UnitOfWork, ticket: Ticket, mail: InboundMail, now: datetime) -> None:
    """Apply the first matching rule (team, priority, category, tags), then assign within the team."""
    wf = ctx.config.workflow
    decision = wf.route(to=(*mail.to, *mail.cc), sender=mail.from_addr, subject=mail.subject, body=mail.text)
    if decision.rule is not None:
        audit(uow, ticket, SYSTEM, "routed", now, detail=f"rule {decision.rule + 1} of the workflow file")
    if decision.team and (decision.rule is not None or ticket.team is None):
        ticket.team = decision.team
        audit(uow, ticket, SYSTEM, "team", now, field="team", before=None, after=decision.team)
    if decision.priority and decision.priority != ticket.priority:
        audit(uow, ticket, SYSTEM, "priority", now, field="priority", before=ticket.priority, after=decision.priority)
        ticket.priority = decision.priority
    if decision.category:
        ticket.category = decision.category
        audit(uow, ticket, SYSTEM, "category", now, field="category", before=None, after=decision.category)
    if decision.tags:
        ticket.tags = sorted(set(ticket.tags) | set(decision.tags))
        audit(uow, ticket, SYSTEM, "tags", now, field="tags", before=None, after=", ".join(ticket.tags))
    if ticket.team:
        await auto_assign(ctx, uow, ticket, now)


async def auto_assign(ctx: Context, uow: UnitOfWork, ticket: Ticket, now: datetime) -> Agent | None:
    """The team's rule: the member with the fewest active tickets, among those with a matching skill if asked."""
    wf = ctx.config.workflow
    team = wf.team(ticket.team)
    if team is None or team.assignment == "none" or not team.members:
        return None
    members = list(await uow.agents.matching(team.members))
    if not members:
        return None
    candidates = members
    if team.assignment == "skills":
        wanted = {s.lower() for s in (ticket.category, *ticket.tags) if s}
        skilled = [a for a in members if wf.skills_of(a.chat_user_id, a.email) & wanted]
        candidates = skilled or members
    counts = await uow.tickets.active_counts([a.id for a in candidates if a.id is not None])
    pick = min(candidates, key=lambda a: (counts.get(a.id or 0, 0), a.id or 0))
    ticket.assignee_id = pick.id
    how = "fewest open tickets" if team.assignment == "least_loaded" else "skill match, then fewest open tickets"
    audit(uow, ticket, SYSTEM, "assigned", now, field="assignee", before=None, after=pick.display, detail=how)
    if ticket.status == Status.NEW:
        before = ticket.move_to(Status.OPEN, now)
        audit(uow, ticket, SYSTEM, "status", now, field="status", before=before, after=Status.OPEN)
    return pick


def follow_up_reopens(ctx: Context, ticket: Ticket, now: datetime) -> bool:
    """A mail to a closed ticket: reopen it (True), or open a linked follow-up (False)? The team decides."""
    team = ctx.config.workflow.team(ticket.team)
    if team is None or team.follow_up == "new":
        return False
    if team.follow_up == "reopen":
        return True
    closed = ticket.closed_at or ticket.updated_at
    return now - closed < timedelta(days=team.follow_up_days)


def reopen_closed(uow: UnitOfWork, ticket: Ticket, actor: str, now: datetime) -> None:
    """Closed is final for agents; only a customer's mail, where the team allows it, brings a ticket back."""
    before = ticket.status
    ticket.status, ticket.status_label, ticket.updated_at = Status.OPEN, None, now
    ticket.solved_at = ticket.closed_at = None
    audit(uow, ticket, actor, "status", now, field="status", before=before, after=Status.OPEN,
          detail="reopened by the customer's mail (team follow-up policy)")
