"""One case, several tickets: merging duplicates into one, splitting a ticket into child tickets.

Merging moves the source's conversation into the target (so the target's
thread shows it), leaves a notice on the source and closes it; later mail to
the source is threaded into the target by intake, and the customer is answered
from the target only. Two customers' tickets are merged only when the person
says so (`different_customer`): one customer's words then show in the other's
ticket, so it must never happen by a slip. Even then each customer hears only
their own replies: the target's replies go to its requester alone, and the
source's customer writing again gets a ticket of their own (bot.handlers.merged_mail).

A child ticket belongs to a parent that cannot be solved while a child is still
open. It is internal (no requester: a reply on it is refused, nothing is mailed)
unless it is opened as an outbound ticket to a named address (a supplier).
"""

from __future__ import annotations

from datetime import datetime

from bot.domain.access import Action
from bot.domain.chat_contacts import chat_user, is_reserved
from bot.domain.model import Agent, Contact, Message, MessageKind, Ticket
from bot.domain.status import Status
from bot.handlers import events
from bot.handlers.audit import audit
from bot.handlers.contact_link import mask, valid_address
from bot.handlers.context import Actor, Context, agent_for, load_ticket, requester_of
from bot.handlers.errors import Refused
from bot.handlers.permissions import permit
from bot.handlers.ports import UnitOfWork
from bot.handlers.routing import auto_assign
from bot.handlers.snapshots import message_view, ticket_view
from bot.handlers.tickets import ActionResult

CONFIRM_FLAG = "--different-customer"
NO_CUSTOMER = "no customer"  # how an internal ticket's customer is named in a refusal


class NeedsConfirmation(Refused):
    """The merge would show one customer's conversation in another customer's ticket. Refused until
    the person confirms: a door offers a confirm dialog from these facts, text says the flag."""

    def __init__(self, source: int, target: int, source_customer: str, target_customer: str) -> None:
        self.source, self.target = source, target
        self.source_customer, self.target_customer = source_customer, target_customer
        where = (f"where replies go to {target_customer} only" if target_customer != NO_CUSTOMER
                 else "an internal ticket that mails nobody")
        super().__init__(
            f"#{source} ({source_customer}) and #{target} ({target_customer}) belong to different customers: "
            f"merging shows {source_customer}'s conversation in #{target}, {where}. "
            f"To merge anyway: /ticket merge {source} into {target} {CONFIRM_FLAG}")


async def merge(ctx: Context, actor: Actor, source_number: int, target_number: int, *,
                different_customer: bool = False) -> ActionResult:
    """Merge `source` into `target`; `different_customer` confirms a merge of two customers' tickets."""
    if source_number == target_number:
        raise Refused("a ticket cannot be merged into itself")
    await permit(ctx, actor, Action.MERGE, source_number)
    await permit(ctx, actor, Action.MERGE, target_number)
    async with ctx.transaction() as uow:
        # Lock in a fixed order so two opposite merges cannot deadlock.
        first, second = sorted((source_number, target_number))
        locked = {first: await load_ticket(uow, first), second: await load_ticket(uow, second)}
        source, target = locked[source_number], locked[target_number]
        await _check_mergeable(uow, source, target)
        across = source.requester_id is not None and source.requester_id != target.requester_id
        if across and not different_customer:
            raise NeedsConfirmation(source.number, target.number, await _customer(uow, source),
                                    await _customer(uow, target))
        now = ctx.clock()
        agent = await agent_for(uow, actor, now)
        moved = await uow.messages.move(source.number, target.number)
        await uow.chat_posts.forget_messages(moved)  # so the target's thread shows them
        if not across:  # another customer's Message-IDs would show in the target's mail headers
            for ref in source.references:
                target.remember_reference(ref)
        source.merged_into, source.status, source.status_label = target.number, Status.CLOSED, None
        # Closed, not solved: reports count it as merged (the case goes on in the target).
        source.closed_at = source.updated_at = target.updated_at = now
        text = f"Merged into #{target.number} by {agent.display}: the conversation continues there."
        notice = await _system_note(uow, source, text, now)
        detail = f"{len(moved)} messages moved" + (", different customers (confirmed)" if across else "")
        audit(uow, source, actor.audit_name, "merged", now, field="merged_into", after=f"#{target.number}",
              detail=detail)
        audit(uow, target, actor.audit_name, "merged", now, detail=f"#{source.number} merged in ({detail})")
        target_notice = await _system_note(uow, target, await _across_text(uow, source, target), now) if across else None
        source_view, target_view = await ticket_view(uow, source), await ticket_view(uow, target)
        summary = f"#{source.number} merged into #{target.number}"
        uow.events += [
            events.MessageAdded(ticket=source_view, message=message_view(source.number, notice)),
            events.TicketChanged(ticket=source_view, actor=actor.audit_name, summary=summary),
            events.TicketChanged(ticket=target_view, actor=actor.audit_name, summary=summary),
        ]
        if target_notice is not None:
            uow.events.append(events.MessageAdded(ticket=target_view, message=message_view(target.number, target_notice)))
    return ActionResult(ticket=target_view, summary=summary)


async def _check_mergeable(uow: UnitOfWork, source: Ticket, target: Ticket) -> None:
    for t in (source, target):
        if t.merged_into is not None:
            raise Refused(f"#{t.number} was already merged into #{t.merged_into}")
    if target.status == Status.CLOSED:
        raise Refused(f"#{target.number} is closed; merge into an open ticket")
    open_children = [c for _, c, s in await uow.tickets.child_states([source.number]) if s.is_active]
    if open_children:
        listed = ", ".join(f"#{n}" for n in open_children)
        raise Refused(f"#{source.number} has open child tickets ({listed}); close or merge them first")


async def _customer(uow: UnitOfWork, ticket: Ticket) -> str:
    """The ticket's customer as a refusal may name them: masked, so the words can be shown in a channel."""
    contact = await requester_of(uow, ticket)
    if contact is None:
        return NO_CUSTOMER
    chat = chat_user(contact.email)
    return f"a {chat[0].capitalize()} DM customer" if chat else mask(contact.email)


async def _across_text(uow: UnitOfWork, source: Ticket, target: Ticket) -> str:
    theirs, ours = await _customer(uow, source), await _customer(uow, target)
    return (f"#{source.number} of another customer ({theirs}) was merged in. Replies here go to {ours} only; "
            f"when {theirs} writes again, their mail opens a ticket of their own.")


async def _system_note(uow: UnitOfWork, ticket: Ticket, text: str, now: datetime) -> Message:
    return await uow.messages.add(Message(ticket_id=ticket.number, kind=MessageKind.SYSTEM, created_at=now,
                                          body_text=text, body_display=text, author_label="Tiketti"))


async def split_child(ctx: Context, actor: Actor, parent_number: int, subject: str, team: str | None = None,
                      text: str = "", *, to: str | None = None) -> ActionResult:
    """A child ticket for part of the work (another team's), linked to its parent.

    Internal unless `to` names an address (a supplier): then it is an outbound ticket whose
    replies go to that address, never to the parent's customer."""
    if not subject.strip():
        raise Refused("a child ticket needs a subject")
    await permit(ctx, actor, Action.CHILD, parent_number)
    address = _outbound_address(ctx, to) if to is not None else None
    async with ctx.transaction() as uow:
        parent = await load_ticket(uow, parent_number)
        if not parent.status.is_active:
            raise Refused(f"#{parent_number} is {parent.status.label}; reopen it first")
        now = ctx.clock()
        agent = await agent_for(uow, actor, now)
        requester = None
        if address is not None:
            requester = await uow.contacts.by_email(address) or await uow.contacts.add(
                Contact(email=address, created_at=now))
        note = text.strip() or f"Split from #{parent.number} by {agent.display}."
        child, first = await create_child(ctx, uow, parent, subject, team, now, agent, note, requester=requester)
        parent.updated_at = now
        child_view, parent_view = await ticket_view(uow, child), await ticket_view(uow, parent)
        summary = f"child ticket #{child.number} opened" + (f" for {child.team}" if child.team else "")
        summary += f", replies go to {address}" if address else " (internal)"
        uow.events += [
            events.TicketOpened(ticket=child_view, first_message=message_view(child.number, first)),
            events.TicketChanged(ticket=parent_view, actor=actor.audit_name, summary=summary),
        ]
    return ActionResult(ticket=child_view, summary=f"#{parent_number} {summary}")


def _outbound_address(ctx: Context, to: str) -> str:
    address = valid_address(to.strip())
    if address is None:
        raise Refused(f"{to.strip()!r} is not one mail address; write e.g. `| to sales@supplier.example`")
    ours = {a.lower() for a in (ctx.config.support_address, *ctx.config.own_addresses)}
    if is_reserved(address) or address in ours:
        raise Refused(f"{address} cannot be mailed; name the supplier's own address")
    return address


async def create_child(ctx: Context, uow: UnitOfWork, parent: Ticket, subject: str, team: str | None,
                       now: datetime, agent: Agent, note: str, *, requester: Contact | None = None
                       ) -> tuple[Ticket, Message]:
    """The child ticket and its first (internal) message; shared by splitting and by templates.

    Without `requester` the child is internal: it does not inherit the parent's customer, who
    must never be mailed about another team's internal order."""
    team_name = parent.team
    if team is not None:
        found = ctx.config.workflow.team(team)
        if found is None:
            raise Refused(f"no team called {team!r}")
        team_name = found.name
    child = await uow.tickets.add(Ticket(subject=subject.strip(), requester_id=requester.id if requester else None,
                                         created_at=now, updated_at=now, priority=parent.priority, team=team_name,
                                         category=parent.category, parent_id=parent.number))
    actor = f"agent:{agent.chat_user_id}"
    kind = f"outbound to {requester.email}" if requester else "internal: no customer mail"
    audit(uow, child, actor, "created", now, detail=f"child of #{parent.number} ({kind})")
    audit(uow, parent, actor, "child_opened", now, detail=f"#{child.number}: {subject.strip()}")
    first = await uow.messages.add(Message(ticket_id=child.number, kind=MessageKind.NOTE, created_at=now,
                                           body_text=note, body_display=note, author_agent_id=agent.id,
                                           author_label=agent.display))
    await auto_assign(ctx, uow, child, now)
    return child, first
