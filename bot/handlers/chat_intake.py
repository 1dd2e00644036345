"""A customer's direct message to the bot opens a ticket (or continues their open one), like mail does.

The customer becomes a contact with a chat address (`bot.domain.chat_contacts`);
once they prove a mail address (`bot.handlers.contact_link`) their DMs land on that
mail contact, so their history spans mail and chat. The ticket gets a ChatThread row of
platform "<platform>-dm" pointing at the DM channel: the adapter shows the
customer their side of the conversation there (an acknowledgement, and every
reply), with the same leases and posting records as a team thread. Replies to
such a ticket are not mailed (`bot.handlers.replies`); the adapter delivers them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.chat_contacts import chat_address, dm_platform
from bot.domain.model import Attachment, Contact, Message, MessageKind, Ticket
from bot.domain.status import Status
from bot.handlers import events, kb, sla
from bot.handlers.audit import audit
from bot.handlers.context import Context
from bot.handlers.ports import Conflict, UnitOfWork
from bot.handlers.snapshots import AttachmentView, message_view, ticket_view

# As with mail: a customer writing again brings the ticket back to the team's attention.
_ON_CUSTOMER_MESSAGE = {
    Status.WAITING_ON_CUSTOMER: Status.CUSTOMER_REPLIED,
    Status.WAITING_ON_THIRD_PARTY: Status.CUSTOMER_REPLIED,
    Status.SOLVED: Status.OPEN,
}
SUBJECT_CHARS = 80


@dataclass(frozen=True)
class ChatIntakeOutcome:
    action: str  # "created" | "appended" | "duplicate"
    ticket_number: int | None


@dataclass(frozen=True)
class ChatMessageIn:
    platform: str  # "discord"
    user_id: str
    user_name: str
    dm_channel: str  # where answers go back to
    message_id: str  # the platform's id: the natural key that makes redelivery harmless
    text: str
    # Files sent with it (name, content type, size, bytes; None: too large to keep), stored as the
    # message's attachments: a platform's links to them expire (Discord's CDN URLs are signed).
    files: tuple[tuple[str, str, int, bytes | None], ...] = ()

    @property
    def chat_ref(self) -> str:
        return f"{dm_platform(self.platform)}:{self.dm_channel}:{self.message_id}"


async def receive_chat_message(ctx: Context, msg: ChatMessageIn) -> ChatIntakeOutcome:
    """Store one direct message on the customer's open ticket, or open a new one; once per chat message,
    also when two instances take the same delivery at once (the store's unique chat_ref settles it)."""
    try:
        return await _receive(ctx, msg)
    except Conflict:
        async with ctx.uow() as uow:
            if await uow.messages.by_chat_ref(msg.chat_ref) is not None:
                return ChatIntakeOutcome("duplicate", None)
        raise


async def _receive(ctx: Context, msg: ChatMessageIn) -> ChatIntakeOutcome:
    async with ctx.transaction() as uow:
        if await uow.messages.by_chat_ref(msg.chat_ref) is not None:
            return ChatIntakeOutcome("duplicate", None)
        now = ctx.clock()
        contact, linked = await _contact(uow, msg, now)
        ticket = await _open_ticket_of(uow, contact, dm_platform(msg.platform) if linked else None)
        created = ticket is None
        if ticket is None:
            ticket = await uow.tickets.add(Ticket(subject=_subject(msg.text), requester_id=contact.id,  # type: ignore[arg-type]
                                                  created_at=now, updated_at=now))
        message = await uow.messages.add(Message(
            ticket_id=ticket.number, kind=MessageKind.INBOUND, created_at=now, body_text=msg.text,
            body_display=msg.text, author_contact_id=contact.id, author_label=f"{contact.name or msg.user_id} (DM)",
            chat_ref=msg.chat_ref))
        for name, content_type, size, content in msg.files:
            await uow.attachments.add(Attachment(message_id=message.id, filename=name,  # type: ignore[arg-type]
                                                 content_type=content_type, size=size, content=content))
        await uow.chat_threads.ensure(dm_platform(msg.platform), ticket.number, msg.dm_channel, now)
        actor = f"contact:{contact.email}"
        summary = f"{contact.name or contact.email} wrote by DM"
        if created:
            audit(uow, ticket, actor, "created", now, detail=f"from a {msg.platform} direct message")
        else:
            ticket.updated_at = now
            audit(uow, ticket, actor, "customer_message", now, detail=f"{msg.platform} direct message")
            if (target := _ON_CUSTOMER_MESSAGE.get(ticket.status)) is not None:
                before = ticket.move_to(target, now)
                audit(uow, ticket, actor, "status", now, field="status", before=before, after=target)
                summary += f": {before.label} → {target.label}"
        await (sla.start if created else sla.refresh)(ctx, uow, ticket, now)
        view = await ticket_view(uow, ticket)
        shown = message_view(ticket.number, message, [AttachmentView(n, t, size, content is not None)
                                                       for n, t, size, content in msg.files])
        if created:
            uow.events.append(events.TicketOpened(ticket=view, first_message=shown))
            await kb.suggest(ctx, uow, ticket, msg.text, now)  # articles that may help, if any fit
        else:
            uow.events.append(events.MessageAdded(ticket=view, message=shown))
            uow.events.append(events.TicketChanged(ticket=view, actor=actor, summary=summary))
    return ChatIntakeOutcome("created" if created else "appended", view.number)


async def _contact(uow: UnitOfWork, msg: ChatMessageIn, now: datetime) -> tuple[Contact, bool]:
    """The customer's contact, and whether it is the mail contact they linked to (`bot.handlers.contact_link`)."""
    address = chat_address(msg.platform, msg.user_id)
    linked_id = await uow.contact_links.contact_for(address)
    if linked_id is not None and (linked := await uow.contacts.get(linked_id)) is not None:
        if msg.user_name and not linked.name:
            linked.name = msg.user_name
        return linked, True
    contact = await uow.contacts.by_email(address)
    if contact is None:
        contact = await uow.contacts.add(Contact(email=address, name=msg.user_name, created_at=now))
    elif msg.user_name and contact.name != msg.user_name:
        contact.name = msg.user_name
    return contact, False


async def _open_ticket_of(uow: UnitOfWork, contact: Contact, dm: str | None = None) -> Ticket | None:
    """The customer's latest ticket unless it is closed for good (then a new one starts).

    `dm`: the contact is a linked mail contact; only their latest ticket shown in this DM ("discord-dm")
    continues, so a DM never lands on a ticket the customer is having by mail."""
    recent = await uow.tickets.recent_for_requester(contact.id, limit=1 if dm is None else 20)  # type: ignore[arg-type]
    if dm is not None:
        recent = [t for t in recent if await uow.chat_threads.get(dm, t.number) is not None][:1]
    [latest, *_] = [*recent, None]
    if latest is None or latest.status == Status.CLOSED:
        return None
    return await uow.tickets.get(latest.number, for_update=True)


def _subject(text: str) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "") or "Direct message"
    return line if len(line) <= SUBJECT_CHARS else line[: SUBJECT_CHARS - 1] + "…"
