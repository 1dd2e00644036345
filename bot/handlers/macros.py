"""Macros: several changes to a ticket, and optionally a canned reply, in one named step (`[[macros]]`).

A macro is refused as a whole before anything changes: the actor must be allowed to apply macros to
the ticket (Action.MACRO), be of a role the macro names, and be allowed each of its steps, as if they
had made them one by one; a reply step on an internal ticket, or one naming a canned reply that does
not exist, is refused up front too.

Order, and why: the field changes (team, assignee, status, priority, category, tags) and the note are
made in ONE transaction, so the ticket never shows half a macro and one TicketChanged re-renders the
root. The reply comes last, through `replies.reply` (the only path by which text leaves as mail), in a
transaction of its own: it is rendered for the ticket as the changes left it, and if it fails after
all, the changes stand and the answer says plainly that nothing was mailed. Every change is audited
as the handlers for single changes audit it, with "macro <name>" in the detail.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.access import Action, Role, Standing, TicketScope, decide
from bot.domain.macro import Macro
from bot.domain.model import Agent, Message, MessageKind, Ticket
from bot.domain.status import Status
from bot.handlers import events, replies, reply_text
from bot.handlers.audit import audit
from bot.handlers.context import Actor, Context, agent_for, load_ticket
from bot.handlers.errors import NotFound, Refused
from bot.handlers.permissions import may, may_work, permit, refuse, standing, ticket_scope
from bot.handlers.ports import UnitOfWork
from bot.handlers.routing import auto_assign
from bot.handlers.snapshots import message_view, ticket_view
from bot.handlers.tickets import ActionResult, _move, act

ROLE_OF = {"agents": Role.AGENT, "managers": Role.MANAGER, "admins": Role.ADMIN}


class _Unchanged(Exception):
    """Every step was in place already: raised inside the transaction, so it rolls back with nothing written."""


@dataclass(frozen=True)
class MacroView:
    """A macro as lists and selects show it."""

    name: str
    title: str
    does: str  # its steps in one line


def view(macro: Macro) -> MacroView:
    teams = f" (only {', '.join(macro.teams)} tickets)" if macro.teams else ""
    return MacroView(macro.name, macro.title, ", ".join(macro.steps) + teams)


def may_apply(who: Standing, macro: Macro) -> bool:
    """The macro's `roles`: the least role that may apply it (admins always may)."""
    return who.role >= min(ROLE_OF[r] for r in macro.roles)


async def list_macros(ctx: Context, actor: Actor, number: int | None = None) -> list[MacroView]:
    """The macros `actor` may apply (to ticket `number`: those for its team)."""
    who = await permit(ctx, actor, Action.MACRO, number)
    team = None
    if number is not None:
        async with ctx.uow() as uow:
            team = (await load_ticket(uow, number, for_update=False)).team
    return [view(m) for m in ctx.config.workflow.macros
            if may_apply(who, m) and (number is None or m.applies_to(team))]


async def offered(ctx: Context, actor: Actor) -> list[MacroView]:
    """The macros `actor` may apply, asked quietly (nothing audited): for what a door offers as they type,
    never for acting (`apply_macro` checks through `permit`)."""
    if not await may(ctx, actor, Action.MACRO):
        return []
    who = standing(ctx, actor)
    return [view(m) for m in ctx.config.workflow.macros if may_apply(who, m)]


def find_macro(ctx: Context, name: str) -> Macro:
    """By name or title, any case; an unknown one is refused with the names there are."""
    macro = ctx.config.workflow.macro(name)
    if macro is None:
        known = ", ".join(m.name for m in ctx.config.workflow.macros) or "none are configured"
        said = f"no macro named {name.strip()!r}" if name.strip() else "which macro?"
        raise Refused(f"{said} (/ticket macro N name); macros: {known}")
    return macro


async def apply_macro(ctx: Context, actor: Actor, number: int, name: str) -> ActionResult:
    """Apply macro `name` to ticket `number`: its changes in one transaction, then its reply."""
    who = await permit(ctx, actor, Action.MACRO, number)
    macro = find_macro(ctx, name)
    detail = f"macro {macro.name}"
    async with ctx.uow() as uow:
        ticket = await load_ticket(uow, number, for_update=False)
        scope = await ticket_scope(ctx, uow, actor, number)
    assert scope is not None
    if reason := _refusal(who, macro, scope):
        await refuse(ctx, actor, Action.MACRO, number, reason)
    if not macro.applies_to(ticket.team):
        raise Refused(f"the macro {macro.name} is for {', '.join(macro.teams)} tickets; #{number} is "
                      f"{'with ' + ticket.team if ticket.team else 'in no team'}")
    assignee = await _assignee(ctx, macro, number)
    if macro.reply is not None:
        if ticket.requester_id is None:
            raise Refused(f"the macro {macro.name} replies to the customer: {replies.internal_refusal(ticket)}")
        if ticket.status == Status.CLOSED:
            raise Refused(f"#{number} is closed; the macro {macro.name} would reply, and the customer's next mail "
                          "opens a follow-up ticket")
        await reply_text.expand(ctx, actor, number, f":{macro.reply}")  # an unknown canned reply: refused now

    async def change(uow: UnitOfWork, ticket: Ticket) -> str:
        done = await _steps(ctx, uow, ticket, actor, macro, assignee, detail)
        if not done:
            raise _Unchanged
        return f"macro {macro.title}: " + ", ".join(done)

    changed: ActionResult | None = None
    if macro.steps != _reply_only(macro):
        try:
            changed = await act(ctx, actor, number, change)
        except _Unchanged:
            if macro.reply is None:
                raise Refused(f"#{number} needs none of the macro {macro.name}'s changes: they are in place "
                              "already") from None
    if macro.reply is None:
        assert changed is not None
        return changed
    try:
        sent = await replies.reply(ctx, actor, number, f":{macro.reply}")
    except Refused as exc:
        if changed is None:
            raise
        raise Refused(f"{changed.summary}; but the reply :{macro.reply} was NOT sent: {exc}") from None
    if changed is None:
        return ActionResult(sent.ticket, f"#{number} macro {macro.title}: {sent.summary.removeprefix(f'#{number} ')}",
                            sent.message)
    return ActionResult(sent.ticket, f"{changed.summary}, {sent.summary.removeprefix(f'#{number} ')}", sent.message)


def _reply_only(macro: Macro) -> tuple[str, ...]:
    return (f"reply :{macro.reply}",) if macro.reply else ()


def _refusal(who: Standing, macro: Macro, scope: TicketScope) -> str | None:
    """Why `who` may not apply `macro` to this ticket, worded for them; None if they may."""
    if not may_apply(who, macro):
        roles = " and ".join(macro.roles)
        return f"only {roles} can apply the macro {macro.name}"
    wanted = [(macro.team, Action.MOVE), (macro.assign, Action.CLAIM if (macro.assign or "").lower() == "me" else Action.ASSIGN),
              (macro.status, Action.STATUS), (macro.priority, Action.PRIORITY),
              (macro.category or macro.add_tags or macro.remove_tags, Action.CLASSIFY), (macro.note, Action.NOTE),
              (macro.reply, Action.REPLY)]
    for step, action in wanted:
        if step and (reason := decide(who, action, scope)):
            return f"the macro {macro.name} would {action.phrase} #{scope.number}: {reason}"
    return None


async def _assignee(ctx: Context, macro: Macro, number: int) -> Agent | None:
    """The agent an `assign = "<id or email>"` step names, who must be able to work the ticket."""
    key = macro.assign
    if key is None or key.lower() in ("me", "none"):
        return None
    async with ctx.uow() as uow:
        agent = await uow.agents.by_chat_user_id(key) or await uow.agents.by_email(key)
    if agent is None:
        raise NotFound(f"the macro {macro.name} assigns to {key!r}, who has not used Tiketti yet")
    person = Actor(agent.chat_user_id, agent.name, agent.email)
    if reason := await may_work(ctx, person, Action.CLAIM, number):
        raise Refused(f"the macro {macro.name} assigns to {agent.display}, who cannot work #{number}: {reason}")
    return agent


async def _steps(ctx: Context, uow: UnitOfWork, ticket: Ticket, actor: Actor, macro: Macro, assignee: Agent | None,
                 detail: str) -> list[str]:
    """Make the macro's changes that are not in place yet, audited; what was done, in words."""
    now = ctx.clock()
    me = await agent_for(uow, actor, now)
    name, done = actor.audit_name, []
    if macro.team is not None and ticket.team != macro.team:
        before, ticket.team, ticket.updated_at = ticket.team, macro.team, now
        audit(uow, ticket, name, "moved", now, field="team", before=before, after=macro.team, detail=detail)
        team = ctx.config.workflow.team(macro.team)
        holder = await uow.agents.get(ticket.assignee_id) if ticket.assignee_id else None
        if holder is not None and not (team and team.has_member(holder.chat_user_id, holder.email)):
            ticket.assignee_id = None
            audit(uow, ticket, name, "assigned", now, field="assignee", detail=f"unassigned on the move, {detail}")
        if ticket.assignee_id is None and ticket.status.is_active and macro.assign is None:
            await auto_assign(ctx, uow, ticket, now)
        uow.events.append(events.TicketMoved(ticket.number, before, macro.team))
        done.append(f"moved to {macro.team}")
    if macro.assign is not None:
        done += await _assign(ctx, uow, ticket, actor, macro, None if macro.assign.lower() == "none"
                              else assignee or me, detail)
    if macro.status is not None:
        done += await _status(ctx, uow, ticket, actor, macro.status, detail)
    if macro.priority is not None and ticket.priority != macro.priority:
        before_p, ticket.priority, ticket.updated_at = ticket.priority, macro.priority, now
        audit(uow, ticket, name, "priority", now, field="priority", before=before_p, after=macro.priority, detail=detail)
        done.append(f"priority {macro.priority}")
    if macro.category is not None and ticket.category != macro.category:
        before_c, ticket.category, ticket.updated_at = ticket.category, macro.category, now
        audit(uow, ticket, name, "category", now, field="category", before=before_c, after=macro.category, detail=detail)
        done.append(f"category {macro.category}")
    tags = sorted((set(ticket.tags) | set(macro.add_tags)) - set(macro.remove_tags))
    if tags != sorted(ticket.tags):
        before_t, ticket.tags, ticket.updated_at = list(ticket.tags), tags, now
        audit(uow, ticket, name, "tags", now, field="tags", before=", ".join(before_t) or None,
              after=", ".join(tags) or None, detail=detail)
        done.append(f"tags {', '.join(tags) or 'none'}")
    if macro.note is not None:
        note = await uow.messages.add(Message(ticket_id=ticket.number, kind=MessageKind.NOTE, created_at=now,
                                              body_text=macro.note, body_display=macro.note, author_agent_id=me.id,
                                              author_label=me.display))
        ticket.updated_at = now
        audit(uow, ticket, name, "note", now, detail=f"note {note.id}, {detail}")
        await uow.flush()
        uow.events.append(events.MessageAdded(ticket=await ticket_view(uow, ticket),
                                              message=message_view(ticket.number, note)))
        done.append("note added")
    return done


async def _assign(ctx: Context, uow: UnitOfWork, ticket: Ticket, actor: Actor, macro: Macro, agent: Agent | None,
                  detail: str) -> list[str]:
    now = ctx.clock()
    if (agent.id if agent else None) == ticket.assignee_id:
        return []
    if agent is not None and not ticket.status.is_active:
        raise Refused(f"#{ticket.number} is {ticket.status.label}; reopen it before the macro {macro.name} assigns it")
    before = await uow.agents.get(ticket.assignee_id) if ticket.assignee_id else None
    ticket.assignee_id, ticket.updated_at = (agent.id if agent else None), now
    audit(uow, ticket, actor.audit_name, "assigned", now, field="assignee", before=before.display if before else None,
          after=agent.display if agent else None, detail=detail)
    if agent is not None and ticket.status == Status.NEW and macro.status is None:  # as a claim does
        await _move(ctx, uow, ticket, actor, Status.OPEN, detail)
    return [f"assigned to {agent.display}" if agent else "unassigned"]


async def _status(ctx: Context, uow: UnitOfWork, ticket: Ticket, actor: Actor, text: str, detail: str) -> list[str]:
    """One of ours, or the team's own name for one (as `/ticket status` takes it)."""
    custom = ctx.config.workflow.custom_status(ticket.team, text)
    target = custom.category if custom is not None else Status.parse(text)
    label = custom.name if custom is not None else None
    if ticket.status == target and ticket.status_label == label:
        return []
    before_text = ticket.status_label or ticket.status.label
    if ticket.status != target:
        await _move(ctx, uow, ticket, actor, target, detail)
    if custom is not None:
        ticket.status_label, ticket.updated_at = custom.name, ctx.clock()
        audit(uow, ticket, actor.audit_name, "status", ctx.clock(), field="status_label", before=before_text,
              after=custom.name, detail=detail)
    return [f"status {label or target.label}"]
