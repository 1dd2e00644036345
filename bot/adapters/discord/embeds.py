"""What a ticket looks like on Discord: pure functions from the handlers' snapshots to embeds and text.

Discord's limits are kept here, once: 2,000 characters a message, 6,000 an
embed (256 a title, 1,024 a field, 4,096 a description), 100 a thread name.
A message longer than a few posts is shown by its head and attached whole as
a text file, never refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import discord

from bot.adapters.formatting import clock_words, human_size, sla_time_left
from bot.domain.chat_contacts import chat_user
from bot.domain.model import MessageKind
from bot.domain.priority import Priority
from bot.domain.sla import time_left_words
from bot.domain.status import Status
from bot.domain.time_spent import spent_text
from bot.handlers.events import MailQuarantined, SlaBreached, SlaWarning
from bot.handlers.snapshots import MessageView, TicketView

MESSAGE_CHARS = 2000
EMBED_CHARS = 6000  # title, description, field names and values, footer and author together
THREAD_NAME_CHARS = 100
MAX_PARTS = 3  # a longer message: its first part, and the whole text as a file
STATUS_EMOJI = {
    Status.NEW: "🆕", Status.OPEN: "🔵", Status.WAITING_ON_CUSTOMER: "⏳", Status.CUSTOMER_REPLIED: "💬",
    Status.WAITING_ON_THIRD_PARTY: "⌛", Status.SOLVED: "✅", Status.CLOSED: "🔒",
}
PRIORITY_EMOJI = {Priority.LOW: "⚪", Priority.NORMAL: "🟢", Priority.HIGH: "🟠", Priority.URGENT: "🔴"}
STATUS_COLOUR = {
    Status.NEW: 0x5865F2, Status.OPEN: 0x3498DB, Status.WAITING_ON_CUSTOMER: 0xF1C40F,
    Status.CUSTOMER_REPLIED: 0xE67E22, Status.WAITING_ON_THIRD_PARTY: 0x95A5A6, Status.SOLVED: 0x2ECC71,
    Status.CLOSED: 0x2C2F33,
}


@dataclass(frozen=True)
class Post:
    """One message to send: its text, and maybe the whole text as a file beside it."""

    content: str
    file_name: str | None = None
    file_text: str | None = None


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def person(address_or_label: str) -> str:
    """A requester as Discord shows them: a DM customer as a mention, anyone else as their address."""
    chat = chat_user(address_or_label)
    if chat and chat[0] == "discord":
        return f"<@{chat[1]}> (Discord DM)"
    return address_or_label


INTERNAL = "🔒 internal (no customer: nothing is mailed)"


def requester(t: TicketView) -> str:
    """Who the ticket is for; an internal ticket (a child split off for a team) says so rather than show a blank."""
    if t.internal:
        return INTERNAL
    return person(t.requester_email) if chat_user(t.requester_email) else t.requester


def assignee(t: TicketView) -> str:
    if t.assignee_chat_id and t.assignee_chat_id.isdecimal():
        return f"<@{t.assignee_chat_id}>"
    return t.assignee or "unassigned"


def thread_name(t: TicketView) -> str:
    return cut(f"#{t.number} {t.subject}", THREAD_NAME_CHARS)


def sla_notice(event: SlaWarning | SlaBreached, mention: str, now: datetime, *, link: str | None = None) -> str:
    """A warning or breach; `mention` our own `<@id> ` (or empty). With nobody assigned it says so, and
    `link` (the ticket's thread, when the notice is posted outside it) shows where to look."""
    what = clock_words(event.clock)
    if isinstance(event, SlaBreached):
        text = (f"🚨 {mention}SLA breached on #{event.ticket.number}: {what} was due "
                f"<t:{int(event.due_at.timestamp())}:f>")
    else:
        text = f"⏳ {mention}#{event.ticket.number}: {time_left_words(what, event.due_at, now)}"
    if event.assignee_chat_id is None:
        text += " · nobody is assigned" + (f": {link}" if link else "")
    return cut(text, MESSAGE_CHARS)


def ticket_embed(t: TicketView, now: datetime | None = None, *, moved: str | None = None) -> discord.Embed:
    """The starter message of a ticket's thread; edited in place whenever the ticket changes.

    `moved` marks a starter left behind when the ticket changed teams: where it went (our own text)."""
    embed = discord.Embed(title=cut(f"#{t.number} {t.subject}", 256), colour=STATUS_COLOUR[t.status])
    embed.add_field(name="Requester", value=cut(requester(t), 1024), inline=False)
    embed.add_field(name="Status", value=f"{STATUS_EMOJI[t.status]} {t.status.label}")
    embed.add_field(name="Priority", value=f"{PRIORITY_EMOJI[t.priority]} {t.priority.value}")
    embed.add_field(name="Assignee", value=cut(assignee(t), 1024))
    for name, value in (("Team", t.team), ("Category", t.category), ("Tags", ", ".join(t.tags))):
        if value:  # what the card's Category select, Tags… and Move… change, as on Slack's root
            embed.add_field(name=name, value=cut(value, 1024))
    if t.time_spent_minutes > 0:
        embed.add_field(name="Time spent", value=f"⏱ {spent_text(t.time_spent_minutes)}")
    if now is not None and (left := sla_time_left(t, now)):
        embed.add_field(name="Service level", value=cut("⏱ " + left, 1024), inline=False)
    if t.failed_mail:
        embed.add_field(name="Undeliverable mail", value=cut("\n".join(t.failed_mail), 1024), inline=False)
    if moved is not None:
        embed.add_field(name="Moved", value=cut(f"➡️ {moved}", 1024), inline=False)
        embed.set_footer(text="This thread is no longer updated.")
    elif t.internal:
        embed.set_footer(text="Internal ticket: type in this thread to write notes; nothing is mailed.")
    else:
        embed.set_footer(text="Type in this thread: internal note, never mailed. Reply: mails the customer.")
    return fit(embed)


def fit(embed: discord.Embed) -> discord.Embed:
    """Keep the embed within Discord's 6,000 characters in all (each part is already within its own limit):
    the longest field is shortened until it fits. What it cut stays reachable: `/ticket show`."""
    while len(embed) > EMBED_CHARS and embed.fields:
        i, longest = max(enumerate(embed.fields), key=lambda f: len(f[1].value or ""))
        over = len(embed) - EMBED_CHARS
        value = longest.value or ""
        embed.set_field_at(i, name=longest.name, value=cut(value, max(len(value) - over, 40)),
                           inline=longest.inline)
        if len(value) <= 40:
            break
    return embed


def _head(m: MessageView) -> str:
    if m.kind == MessageKind.INBOUND:
        return f"📨 **{cut(person(m.author), 200)}** wrote:"
    if m.kind == MessageKind.REPLY:
        to = person(m.sent_to) if m.sent_to else "the customer"
        return f"↩️ **{cut(m.author, 100)}** replied to {cut(to, 200)} (sent to the customer):"
    if m.kind == MessageKind.NOTE:
        return f"📝 Internal note by **{cut(m.author, 100)}**:"
    return f"ℹ️ {cut(m.author, 100) or 'Tiketti'}:"


def split_text(text: str, limit: int) -> list[str]:
    """Cut `text` into pieces of at most `limit` characters, at line breaks where there are any."""
    pieces, rest = [], text
    while len(rest) > limit:
        at = rest.rfind("\n", limit // 2, limit)
        at = at if at > 0 else limit
        pieces.append(rest[:at])
        rest = rest[at:].lstrip("\n")
    if rest.strip() or not pieces:
        pieces.append(rest)
    return pieces


def thread_posts(m: MessageView) -> list[Post]:
    """One ticket message as thread posts within 2,000 characters each; very long text goes as a file."""
    extras = [f"📎 {a.filename} ({human_size(a.size)}{'' if a.stored else ', not stored: too large'})"
              for a in m.attachments[:20]]
    body = m.text.strip() or "(no text)"
    if extras:
        body += "\n" + "\n".join(extras)
    head = _head(m) + "\n"
    pieces = split_text(body, MESSAGE_CHARS - len(head) - 10)
    if len(pieces) <= MAX_PARTS:
        return [Post(head + pieces[0]), *[Post(p) for p in pieces[1:]]]
    whole = m.full_text if len(m.full_text) >= len(m.text) else m.text
    note = "\n📄 Too long for Discord: the whole text is attached."
    first = split_text(body, MESSAGE_CHARS - len(head) - len(note) - 10)[0]
    return [Post(head + first + note, f"ticket-{m.ticket_number}-message-{m.id}.txt", whole)]


def dm_posts(m: MessageView) -> list[Post]:
    """An agent's reply as the customer sees it in their DM (no internal labels)."""
    head = f"**{cut(m.author, 100)}** (support, ticket #{m.ticket_number}):\n"
    pieces = split_text(m.text.strip() or "(no text)", MESSAGE_CHARS - len(head) - 10)
    if len(pieces) <= MAX_PARTS:
        return [Post(head + pieces[0]), *[Post(p) for p in pieces[1:]]]
    return [Post(head + pieces[0] + "\n📄 The whole answer is attached.", f"ticket-{m.ticket_number}-reply-{m.id}.txt",
                 m.text)]


def dm_ack(t: TicketView) -> str:
    return (f"Thanks, we got your message: it is ticket **#{t.number}** ({cut(t.subject, 100)}). "
            "Our team answers here; write in this conversation to add to it.")


def customer_history(others: Sequence[TicketView], links: dict[int, str]) -> str:
    """The requester's other recent tickets, first in a new thread: `links` maps a number to its thread id."""
    lines = ["🗂️ **This customer's other recent tickets**"]
    for t in others[:10]:
        number = f"<#{links[t.number]}>" if t.number in links else f"#{t.number}"
        answered = "answered" if t.first_response_at else "not answered yet"
        lines.append(f"• {number} {cut(t.subject, 80)} — {cut(t.status_text, 40)}, {answered}, "
                     f"<t:{int(t.created_at.timestamp())}:d>")
    return cut("\n".join(lines), MESSAGE_CHARS)


TAG_NAME_CHARS = 20  # Discord: a forum tag's name is 0-20 characters (resources/channel#forum-tag-object)
FORUM_TAGS = 20  # Discord: a forum has at most 20 tags
# Status labels too long for a tag, said shorter (still readable, and still unlike each other).
SHORT_TAG_NAMES = {Status.WAITING_ON_THIRD_PARTY.label: "waiting on 3rd party"}


def tag_name(label: str) -> str:
    """The forum tag showing `label`: Discord refuses a tag of more than 20 characters."""
    return SHORT_TAG_NAMES.get(label, label)[:TAG_NAME_CHARS]


def forum_tag_names() -> list[str]:
    """Forum tags kept in step with a ticket: one per status, one per priority (11 of Discord's 20)."""
    return [tag_name(s.label) for s in Status] + [tag_name(f"{p.value} priority") for p in Priority]


def tags_for(t: TicketView) -> tuple[str, str]:
    return tag_name(t.status.label), tag_name(f"{t.priority.value} priority")


def quarantine_notice(event: MailQuarantined) -> str:
    sender = cut(event.sender, 200) or "unknown sender"
    subject = cut(event.subject, 200) or "(no subject)"
    return cut(f"⚠️ **Mail quarantined as #{event.quarantine_id}**\nFrom: {sender}\nSubject: {subject}\n"
               f"Reason: {cut(event.reason, 600)}\nInspect: `tiketti quarantine show {event.quarantine_id}`", MESSAGE_CHARS)
