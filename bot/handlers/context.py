"""What every handler is given (the store, the clock, the bus, the helpdesk's facts), who acts, and
the lookups every handler starts from. The facts are in bot.handlers.config, the errors handlers
refuse with in bot.handlers.errors, the audit trail in bot.handlers.audit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.domain.access import Identity, keys_of
from bot.domain.model import Agent, Contact, Ticket
from bot.handlers import notices
from bot.handlers.bus import EventBus
from bot.handlers.config import HelpdeskConfig
from bot.handlers.errors import NotFound
from bot.handlers.ports import Clock, Conflict, MailComposer, UnitOfWork, UnitOfWorkFactory


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Context:
    uow: UnitOfWorkFactory
    config: HelpdeskConfig
    composer: MailComposer
    key: bytes  # signs our Message-IDs
    bus: EventBus = field(default_factory=EventBus)
    clock: Clock = utcnow

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[UnitOfWork]:
        """One action's unit of work: committed when the block ends, then its `uow.events` published.

        Publishing only after the commit means nobody is shown a change that was rolled back; a block
        that raises rolls back and publishes nothing. Every event appended inside the block, up to its
        end, goes out, in order. (A `return` inside the block ends it normally: that commits too.)
        """
        async with self.uow() as uow:
            yield uow
            await notices.record(uow, self.clock())  # what people must be told, kept with its cause
            await uow.commit()
            pending = list(uow.events)
        await self.bus.publish(pending)


@dataclass(frozen=True)
class Actor:
    """Someone acting from chat, with what their door knows of them; the policy
    (bot.handlers.permissions) makes a role of it. Agents' records are created on first use."""

    chat_user_id: str
    name: str = ""
    email: str | None = None  # the chat profile's verified email (Slack); None where the platform gives none
    groups: frozenset[str] = frozenset()  # Slack user group ids or Discord role ids they hold
    in_tickets_channel: bool = False  # the platform lets them see and write in the tickets channel
    operator: bool = False  # the person running Tiketti (the local console, the command line): admin

    @property
    def identity(self) -> Identity:
        return Identity(keys_of(self.chat_user_id, self.email, groups=self.groups),
                        in_tickets_channel=self.in_tickets_channel, operator=self.operator)

    @property
    def audit_name(self) -> str:
        return f"agent:{self.chat_user_id}"


async def agent_for(uow: UnitOfWork, actor: Actor, now: datetime) -> Agent:
    """The agent record for a chat user: by chat id, else the record that has their email (an agent
    set up before they first used chat takes on their chat id), else a new one."""
    agent = await uow.agents.by_chat_user_id(actor.chat_user_id)
    if agent is None and actor.email:
        agent = await uow.agents.by_email(actor.email)
        if agent is not None:
            agent.chat_user_id = actor.chat_user_id
    if agent is None:
        agent = await uow.agents.add(Agent(chat_user_id=actor.chat_user_id, name=actor.name, email=actor.email, created_at=now))
    elif (actor.name and actor.name != agent.name) or (actor.email and actor.email != agent.email):
        agent.name = actor.name or agent.name
        agent.email = actor.email or agent.email
    return agent


async def ensure_agent(ctx: Context, actor: Actor) -> None:
    """The person's agent record, made in a short transaction of its own before the action's. Someone's
    first actions on several tickets at once race to create it; losing that race here is harmless (the
    winner made it: look again), where inside the action it would roll back a note already acknowledged.
    The permission check does it for whoever acts; an action that names another person (pulling a
    colleague in) does it for them too."""
    for attempt in range(3):
        try:
            async with ctx.uow() as uow:
                await agent_for(uow, actor, ctx.clock())
                await uow.commit()
            return
        except Conflict:
            if attempt == 2:
                raise


async def load_ticket(uow: UnitOfWork, number: int, *, for_update: bool = True) -> Ticket:
    ticket = await uow.tickets.get(number, for_update=for_update)
    if ticket is None:
        raise NotFound(f"ticket #{number} does not exist")
    return ticket


async def requester_of(uow: UnitOfWork, ticket: Ticket) -> Contact | None:
    """The ticket's customer; None for an internal ticket (which has none)."""
    return await uow.contacts.get(ticket.requester_id) if ticket.requester_id is not None else None


async def others_of_requester(uow: UnitOfWork, ticket: Ticket) -> list[Ticket]:
    """The customer's other recent tickets (shown first in a new thread); none for an internal ticket."""
    if ticket.requester_id is None:
        return []
    return list(await uow.tickets.recent_for_requester(ticket.requester_id, exclude=ticket.number))

