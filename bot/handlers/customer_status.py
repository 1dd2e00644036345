"""What a chat customer may ask about their own tickets from a DM: number, subject, where it stands.

Customers are not agents: they never reach `/ticket`, notes, assignees or other
people's tickets. This is the one question they may ask, answered from their own
contact (the chat contact, or the mail contact they linked), in their words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.chat_contacts import chat_address
from bot.domain.status import Status
from bot.handlers.context import Context

_FOR_CUSTOMER = {
    Status.NEW: "received",
    Status.OPEN: "being worked on",
    Status.WAITING_ON_CUSTOMER: "waiting for your answer",
    Status.CUSTOMER_REPLIED: "being worked on",
    Status.WAITING_ON_THIRD_PARTY: "being worked on",
    Status.SOLVED: "solved",
    Status.CLOSED: "closed",
}


@dataclass(frozen=True)
class CustomerTicket:
    number: int
    subject: str
    state: str  # in the customer's words, not the team's (no "waiting on third party")
    updated_at: datetime


async def customer_tickets(ctx: Context, platform: str, user_id: str, limit: int = 5) -> list[CustomerTicket]:
    """The chat customer's latest tickets, their DM ones and (once linked) their mail ones."""
    address = chat_address(platform, user_id)
    async with ctx.uow() as uow:
        contact_id = await uow.contact_links.contact_for(address)
        if contact_id is None:
            contact = await uow.contacts.by_email(address)
            contact_id = contact.id if contact else None
        if contact_id is None:
            return []
        tickets = await uow.tickets.recent_for_requester(contact_id, limit=limit)
        return [CustomerTicket(t.number, t.subject, _FOR_CUSTOMER.get(t.status, t.status.label), t.updated_at)
                for t in tickets if t.merged_into is None]
