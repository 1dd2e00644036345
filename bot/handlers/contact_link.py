"""A chat customer proves they own a mail address, and their DM history joins their mail history.

Someone who writes to the bot by DM is a contact of their own, with a chat address
(`bot.domain.chat_contacts`); their mail tickets belong to their mail contact. In
the DM they write `link you@example.com`: a 6-digit code goes to that address
(kept hashed, valid for 30 minutes, 5 tries, at most 3 codes an hour per chat user and
as many to one address, whoever asks). `link <code>`
then links the chat user to the mail contact for good (`contact_links`): their DM
tickets and the messages on them move to the mail contact, and later DMs land there
too. A DM ticket stays one: it keeps its "<platform>-dm" thread, and replies to it
go to the DM (`dm_customer`, asked by `bot.handlers.replies`).

These handlers answer with the text the adapter sends back to the DM; a command
message opens no ticket.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain import mail_ids
from bot.domain.chat_contacts import chat_address, chat_user, dm_platform
from bot.domain.model import Contact, OutboundMail
from bot.domain.outgoing import OutgoingMail
from bot.handlers import events
from bot.handlers.audit import audit
from bot.handlers.context import Context
from bot.handlers.ports import LinkCode, UnitOfWork
from bot.handlers.snapshots import ticket_view

CODE_VALID = timedelta(minutes=30)
MAX_TRIES = 5
CODES_PER_HOUR = 3

_COMMAND = re.compile(r"^\s*!?link[ \t]+(.+?)\s*$", re.IGNORECASE | re.DOTALL)
_CODE = re.compile(r"^[0-9][0-9 ]*$")
_LOCAL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+$")
_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$")


@dataclass(frozen=True)
class LinkRequest:
    platform: str  # "discord"
    user_id: str
    message_id: str  # the platform's id: a redelivered command is answered once
    argument: str  # what follows "link": an address, or a code


def command_argument(text: str) -> str | None:
    """What follows `link` / `!link` if the message is that command (an address or a code); else None."""
    m = _COMMAND.match(text)
    if m is None:
        return None
    argument = m.group(1)
    return argument if "@" in argument or _CODE.match(argument) else None


def valid_address(text: str) -> str | None:
    """One plain mail address, lower-cased; None for anything else (two addresses, CR/LF, no dot in the domain)."""
    if len(text) > 254 or any(c in text for c in "\r\n\t ,;<>\"()[]\\"):
        return None
    local, at, domain = text.partition("@")
    if not at or not local or len(local) > 64 or not _LOCAL.match(local) or ".." in local:
        return None
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        return None
    return text.lower()


def mask(address: str) -> str:
    """'y***@example.com': enough for the customer to recognise, little for anyone reading over their shoulder."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


async def handle(ctx: Context, req: LinkRequest) -> str | None:
    """Answer a `link` command; None if this very message was answered before (a redelivery)."""
    code = req.argument.replace(" ", "")
    if _CODE.match(req.argument):
        return await _confirm(ctx, req, code) if len(code) == 6 else _ask_for_six()
    return await _send_code(ctx, req)


async def dm_customer(uow: UnitOfWork, ticket_number: int, contact_id: int) -> tuple[str, str] | None:
    """(platform, user id) of the linked chat user to whose DM this ticket's replies go, if it is a DM ticket.

    A DM ticket is one with a "<platform>-dm" thread; once its chat user is linked, its requester is a
    mail contact, so the requester's address no longer says so."""
    addresses = await uow.contact_links.chat_addresses_of(contact_id)
    if not addresses:
        return None
    platforms = set(await uow.contact_links.dm_platforms(ticket_number))
    for address in addresses:
        chat = chat_user(address)
        if chat is not None and dm_platform(chat[0]) in platforms:
            return chat
    return None


async def reply_dm(uow: UnitOfWork, ticket_number: int, requester: Contact) -> tuple[str, str] | None:
    """(platform, user id) whose DM a reply to this ticket goes to; None: it is mailed to the requester."""
    return chat_user(requester.email) or await dm_customer(uow, ticket_number, requester.id)  # type: ignore[arg-type]


async def shown_in_dm(ctx: Context, platform: str, ticket_number: int) -> bool:
    """Whether the ticket has a thread in its customer's DM on `platform` ("discord-dm")."""
    async with ctx.uow() as uow:
        return platform in await uow.contact_links.dm_platforms(ticket_number)


def _ask_for_six() -> str:
    return "A code has 6 digits: reply `link 123456` with the code from the mail."


async def _first_time(uow: UnitOfWork, req: LinkRequest) -> bool:
    """Claims this command message; False if it was handled already."""
    mine = secrets.token_hex(8)
    return await uow.kv.put_if_absent(f"link-command:{req.platform}:{req.message_id}", mine) == mine


async def _already_linked(uow: UnitOfWork, chat: str) -> str | None:
    contact_id = await uow.contact_links.contact_for(chat)
    if contact_id is None:
        return None
    contact = await uow.contacts.get(contact_id)
    email = contact.email if contact else "?"
    return f"You are already linked to {mask(email)}; to change that, please write to support."


async def _send_code(ctx: Context, req: LinkRequest) -> str | None:
    email = valid_address(req.argument)
    if email is None:
        return "That is not one mail address. Write `link you@example.com`, with one address and nothing else."
    if chat_user(email) is not None or email in _ours(ctx):
        return "That address cannot be linked. Write `link you@example.com` with your own mail address."
    chat = chat_address(req.platform, req.user_id)
    async with ctx.uow() as uow:
        if not await _first_time(uow, req):
            return None
        now = ctx.clock()
        if (answer := await _already_linked(uow, chat)) is not None:
            await uow.commit()
            return answer
        if await uow.contact_links.codes_since(chat, now - timedelta(hours=1)) >= CODES_PER_HOUR:
            await uow.commit()
            return f"You asked for {CODES_PER_HOUR} codes in the last hour; please wait a while before asking again."
        if await uow.contact_links.codes_to_since(email, now - timedelta(hours=1)) >= CODES_PER_HOUR:
            # Whoever asks: several chat users must not make one address a target of code mail.
            await uow.commit()
            return "That address was sent several codes in the last hour; please wait a while before asking again."
        code = f"{secrets.randbelow(1_000_000):06d}"
        await uow.contact_links.add_code(LinkCode(chat_address=chat, email=email, code_hash=_hash(ctx, chat, email, code),
                                                  expires_at=now + CODE_VALID, tries=0, created_at=now))
        await _queue_code_mail(ctx, uow, req.platform, email, code, now)
        await uow.commit()
    return f"I sent a code to {mask(email)}; reply `link 123456` with the 6 digits from that mail."


async def _confirm(ctx: Context, req: LinkRequest, code: str) -> str | None:
    chat = chat_address(req.platform, req.user_id)
    async with ctx.transaction() as uow:
        if not await _first_time(uow, req):
            return None
        now = ctx.clock()
        if (answer := await _already_linked(uow, chat)) is not None:
            return answer
        sent = await uow.contact_links.latest_code(chat, for_update=True)
        if sent is None or sent.id is None or sent.expires_at <= now or sent.tries >= MAX_TRIES:
            return "That code is no longer valid (or there is none). Write `link you@example.com` for a new one."
        if not hmac.compare_digest(sent.code_hash, _hash(ctx, chat, sent.email, code)):
            tries = sent.tries + 1
            await uow.contact_links.update_code(sent.id, tries=tries, expires_at=sent.expires_at)  # counted: the block commits it
            if tries >= MAX_TRIES:
                return "That code is not right, and it cannot be used any more. Write `link you@example.com` for a new one."
            left = MAX_TRIES - tries
            return f"That code is not right; {left} {'try' if left == 1 else 'tries'} left."
        await uow.contact_links.update_code(sent.id, tries=sent.tries, expires_at=now)  # spent
        moved = await _link(uow, chat, sent.email, now)
    return "Linked: your tickets by mail and here are now one history." + (
        f" ({moved} ticket{'s' if moved != 1 else ''} moved.)" if moved else "")


async def _link(uow: UnitOfWork, chat: str, email: str, now: datetime) -> int:
    """Link the chat user to the mail contact; their chat contact's tickets and messages move to it."""
    old = await uow.contacts.by_email(chat)
    contact = await uow.contacts.by_email(email)
    if contact is None:
        contact = await uow.contacts.add(Contact(email=email, name=old.name if old else "", created_at=now))
    assert contact.id is not None
    await uow.contact_links.link(chat, contact.id, now)
    if old is None or old.id is None:
        return 0
    numbers = list(await uow.contact_links.tickets_of(old.id))
    actor = f"contact:{chat}"
    for number in numbers:
        ticket = await uow.tickets.get(number, for_update=True)
        if ticket is None:
            continue
        ticket.requester_id = contact.id
        ticket.updated_at = now
        audit(uow, ticket, actor, "requester_linked", now, field="requester", before=old.email, after=contact.email,
              detail="the chat user proved this mail address; their DM tickets joined its history")
    await uow.contact_links.move_messages(numbers, old.id, contact.id)
    await uow.flush()
    for number in numbers:
        ticket = await uow.tickets.get(number)
        if ticket is not None:
            uow.events.append(events.TicketChanged(ticket=await ticket_view(uow, ticket), actor=actor,
                                                   summary=f"requester linked to {contact.email}"))
    return len(numbers)


async def _queue_code_mail(ctx: Context, uow: UnitOfWork, platform: str, email: str, code: str, now: datetime) -> None:
    cfg = ctx.config
    subject = f"Your code to link {platform.capitalize()} with {cfg.support_name}"
    mid = f"<tiketti-link.{secrets.token_hex(8)}@{cfg.mail_domain}>"
    spec = OutgoingMail(
        template="link_code", to_addr=email, to_name="", subject=subject, message_id=mid,
        thread_index=mail_ids.thread_index(ctx.key, 0, now, now, 0), thread_topic=subject, automatic=True,
        context={"code": code, "support_name": cfg.support_name, "platform": platform.capitalize(),
                 "minutes": int(CODE_VALID.total_seconds() // 60)},
    )
    await uow.outbox.add(OutboundMail(kind="link_code", to_addr=email, subject=subject, mail_message_id=mid,
                                      raw=ctx.composer.compose(spec), created_at=now, next_attempt_at=now))


def _hash(ctx: Context, chat: str, email: str, code: str) -> str:
    return hmac.new(ctx.key, f"link.{chat}.{email}.{code}".encode(), hashlib.sha256).hexdigest()


def _ours(ctx: Context) -> set[str]:
    return {a.lower() for a in (ctx.config.support_address, *ctx.config.own_addresses)}
