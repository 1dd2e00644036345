"""Where mail goes once its ticket was merged: on to the target, unless that is another customer's ticket.

A merge of the same customer's tickets lets later mail follow the merge. A merge of two
customers' tickets (confirmed, bot.handlers.merge) must not: the source's customer, writing
again, would land in the other customer's ticket, and the agent's answer there would be
mailed to that other customer. So mail from a customer whose own ticket was merged into
another customer's ticket goes to a ticket of their own (a follow-up of the merged one),
whichever way it found the target: our Message-IDs, their own Message-IDs (their messages
moved with the merge), or a subject tag. Their next mails join that ticket while it is open.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.model import Contact, Ticket
from bot.domain.status import Status
from bot.handlers.ports import UnitOfWork

MAX_HOPS = 10  # a merged ticket's target may itself have been merged, a few times at most


@dataclass(frozen=True)
class Landing:
    ticket: Ticket  # where the conversation lives now: the merge target, or the ticket itself
    own: Ticket | None = None  # the sender's ticket merged into another customer's: follow it up instead


async def land(uow: UnitOfWork, found: Ticket, sender: Contact, *, new_sender: bool) -> Landing:
    """Where a mail threaded onto `found` belongs, from `sender` (`new_sender`: created just now)."""
    ticket = await merge_target(uow, found)
    if new_sender or ticket.requester_id == sender.id or sender.id is None:
        return Landing(ticket)
    for own in await uow.tickets.merged_of_requester(sender.id):
        if own.requester_id != ticket.requester_id and (await merge_target(uow, own)).number == ticket.number:
            earlier = await _open_follow_up(uow, own, sender.id)
            return Landing(earlier) if earlier is not None else Landing(ticket, own)
    return Landing(ticket)


async def _open_follow_up(uow: UnitOfWork, own: Ticket, sender_id: int) -> Ticket | None:
    """The follow-up an earlier mail of theirs opened, if it is still open: one ticket per customer, not one per mail."""
    for t in await uow.tickets.recent_for_requester(sender_id, limit=20):
        if t.follow_up_of == own.number and t.status != Status.CLOSED and t.merged_into is None:
            return await uow.tickets.get(t.number, for_update=True)
    return None


async def merge_target(uow: UnitOfWork, ticket: Ticket) -> Ticket:
    """The ticket a merged ticket's conversation went on in (following merges of merges)."""
    for _ in range(MAX_HOPS):
        if ticket.merged_into is None:
            return ticket
        target = await uow.tickets.get(ticket.merged_into, for_update=True)
        if target is None:
            return ticket
        ticket = target
    return ticket
