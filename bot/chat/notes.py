"""What people do in a ticket's thread, on every platform: a line is a note, a mention pulls a colleague in.

Nothing typed in a ticket's thread can mail anyone: every person's line there is
stored as an internal note whose chat_ref names the platform's message, so the
thread sync never echoes it back, a redelivered message is stored once, and an
edit of the message follows it. Mentioning colleagues pulls them into the ticket,
with a summary of it posted in the thread for them. A reaction on a ticket's root
claims or solves it. Whether the person may do any of it is the core's decision
(`bot.handlers.permissions`); a refusal is said to that person alone.

A platform reads its payload into plain data (`Line`, `Edit`, `Reaction`) and
hands over a `ThreadPort` for the few things these flows ask of it: who a user
id is, telling one person privately, posting the pulled-in summary. Where the
platform has no private answer inside a thread (Discord: it is a DM), a person
hears at most once per thread: the core audits every attempt, a DM per line
would be noise. A refused edit is told once per message everywhere: people edit
a message many times, and the platform redelivers the same edit.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from bot.domain.errors import UserFacingError
from bot.handlers import queries, threads, tickets
from bot.handlers.context import Actor, Context
from bot.handlers.permissions import Denied
from bot.handlers.snapshots import TicketDetails

log = logging.getLogger(__name__)


class Tone(StrEnum):
    """How a private answer reads, for the platform to mark (an emoji on Slack and Discord)."""

    DENIED = "denied"  # not theirs to do: nothing was stored or changed
    WARNING = "warning"  # part of it was not done (the note stands; pulling a colleague in was refused)


class ThreadPort(Protocol):
    """What the flows ask of the platform, for the one thread (or message) a payload came from."""

    private_in_thread: bool  # `tell` answers inside the thread (Slack's ephemeral), not in a DM

    async def actor_of(self, user: str) -> Actor:
        """The person behind a chat user id, with the facts the policy decides on."""
        ...

    async def tell(self, user: str, text: str, tone: Tone) -> None:
        """Say `text` to `user` alone, about this thread. Never raises: it is how refusals are shown."""
        ...

    async def post_pulled_in(self, details: TicketDetails, users: Sequence[str]) -> None:
        """Post in the thread, for everyone: `users` were pulled into the ticket, and what it is about."""
        ...


@dataclass(frozen=True)
class Line:
    """A message someone typed in a thread, as the platform read it."""

    platform: str
    channel: str | None  # the channel holding the thread; None: not known (looked for in every channel)
    root: str  # the thread's root, as chat_threads keeps it
    user: str  # the author's chat user id
    text: str  # the message as stored (markup made plain, attachments named)
    chat_ref: str  # names the platform's message: the key that stores it once and that its edits follow
    mentions: Sequence[str] = ()  # chat user ids mentioned in it, in order (bots left out by the platform)
    bot_mention: str | None = None  # the bot's mention markup, where a line starting with it is a command


@dataclass(frozen=True)
class Edit:
    """A message changed in chat; if it is a note, the note follows."""

    user: str
    chat_ref: str
    text: str
    root: str | None = None  # the thread it is in, where the platform says


@dataclass(frozen=True)
class Reaction:
    """Someone reacted to a message with an emoji (its name as the platform gives it)."""

    platform: str
    channel: str | None
    message: str  # the message reacted to: a ticket's root is the one that means anything
    user: str
    name: str


Act = Callable[[Context, Actor, int], Awaitable[object]]
# What a reaction on a ticket's root does, by the emoji's name on Slack (`eyes`) or Discord (the character).
REACTIONS: dict[str, Act] = {
    **dict.fromkeys(("eyes", "👀"), tickets.claim),
    **dict.fromkeys(("white_check_mark", "heavy_check_mark", "ballot_box_with_check", "✅", "✔️", "☑️"),
                    tickets.close),
}


class Once:
    """Remembers what was said, so a person hears of a thing once, not at every edit or redelivery.
    Bounded: the oldest are forgotten first (the worst that brings is one more word for someone)."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._seen: OrderedDict[tuple[Hashable, ...], None] = OrderedDict()

    def first(self, *key: Hashable) -> bool:
        """True the first time `key` is seen (and remembers it), False after."""
        if key in self._seen:
            return False
        self._seen[key] = None
        if len(self._seen) > self.size:
            self._seen.popitem(last=False)
        return True


def command_in(text: str, bot_mention: str | None) -> str | None:
    """A line that starts by mentioning the bot is a command to it, not a note: its words after the mention.
    None for a note (a mention mid-sentence is part of the note), and on platforms that take no such commands."""
    stripped = (text or "").strip()
    if not bot_mention or not stripped.startswith(bot_mention):
        return None
    return stripped.removeprefix(bot_mention).strip()


async def ticket_of(ctx: Context, platform: str, channel: str | None, root: str | None) -> int | None:
    """The ticket whose thread has this root, if any: talk anywhere else is about no ticket."""
    return await threads.ticket_for_thread(ctx, platform, channel, root) if root else None


async def note_typed(ctx: Context, line: Line, port: ThreadPort, told: Once) -> int | None:
    """Store `line` as a note of its thread's ticket, then pull in whom it mentions.

    The ticket's number; None when the line is no note: not in a ticket's thread, a command to
    the bot, refused (the author is told why; nothing is stored) or stored already (a redelivery).
    """
    if command_in(line.text, line.bot_mention) is not None:
        return None
    number = await ticket_of(ctx, line.platform, line.channel, line.root)
    if number is None:
        return None
    author = await port.actor_of(line.user)
    try:
        await tickets.add_note(ctx, author, number, line.text, chat_ref=line.chat_ref)
    except Denied as exc:  # not theirs to write on: not stored, and they alone are told why
        await _tell(port, told, line.user, line.root, f"Your message in the thread of #{number} was not saved: {exc}.",
                    Tone.DENIED)
        return None
    except UserFacingError as exc:  # a redelivered message (already stored), or an empty one
        log.debug("%s: message %s not stored as a note: %s", line.platform, line.chat_ref, exc)
        return None
    await pull_in(ctx, author, number, line.mentions, port, told, root=line.root)
    return number


async def pull_in(ctx: Context, author: Actor, number: int, users: Sequence[str], port: ThreadPort, told: Once, *,
                  root: str) -> list[str]:
    """`author` pulls the people `users` names into ticket `number` (the author themself and repeats left out).

    Who was newly added, for whom a summary of the ticket is posted in the thread. A refusal (may the
    author pull people in? a light agent may not) leaves any note standing and is told to the author alone.
    """
    added: list[str] = []
    refused: dict[str, list[str]] = {}  # the core's reason -> who it kept out
    for user in dict.fromkeys(u for u in users if u and u != author.chat_user_id):
        expert = await port.actor_of(user)
        try:
            if await tickets.add_collaborator(ctx, author, number, expert):
                added.append(user)
        except UserFacingError as exc:
            refused.setdefault(str(exc), []).append(expert.name or user)
    if refused:
        await _tell(port, told, author.chat_user_id, root, "; ".join(
            f"{', '.join(names)} {'was' if len(names) == 1 else 'were'} not pulled into #{number}: {reason}"
            for reason, names in refused.items()), Tone.WARNING)
    if added:
        await port.post_pulled_in(await queries.show(ctx, author, number), added)
    return added


async def note_edited(ctx: Context, edit: Edit, port: ThreadPort, told: Once) -> bool:
    """Keep a note in step with its edited message. True if a note changed.

    An author who may no longer write notes (they left the helpdesk's channel) keeps the note as it
    was; they are told once per message, since later edits are refused the same way.
    """
    author = await port.actor_of(edit.user)
    try:
        return await tickets.edit_note(ctx, author, edit.chat_ref, edit.text)
    except Denied as exc:
        log.info("edit of %s by %s not applied to its note: %s", edit.chat_ref, edit.user, exc)
        await _tell(port, told, edit.user, edit.root, f"Your edit was not applied: {exc}. The ticket keeps the note as "
                    "it was, and later edits of this message will not be applied either.", Tone.DENIED,
                    once=("edit", edit.chat_ref))
    except UserFacingError as exc:  # an empty text, or a note that is gone
        log.debug("edit of %s not applied: %s", edit.chat_ref, exc)
    return False


def reaction_means(name: str) -> Act | None:
    """What a reaction with this emoji does on a ticket's root (claim, solve); None: nothing."""
    return REACTIONS.get(name)


async def reacted(ctx: Context, reaction: Reaction, port: ThreadPort, told: Once) -> None:
    """A reaction on a ticket's root: 👀 claims it, ✅ solves it; a refusal is told to the person alone."""
    act = reaction_means(reaction.name)
    number = await ticket_of(ctx, reaction.platform, reaction.channel, reaction.message) if act else None
    if act is None or number is None:
        return
    try:
        await act(ctx, await port.actor_of(reaction.user), number)
    except UserFacingError as exc:
        await _tell(port, told, reaction.user, reaction.message, str(exc), Tone.WARNING)


async def _tell(port: ThreadPort, told: Once, user: str, root: str | None, text: str, tone: Tone, *,
                once: tuple[str, ...] | None = None) -> None:
    """Tell `user` privately, unless `once` names something they were told already; by DM (no private
    answer in the thread), at most once per person and thread."""
    log.info("told %s privately: %s", user, text)
    if once is not None and not told.first(*once, user):
        return
    if not port.private_in_thread and not told.first("thread", root or "", user):
        return
    await port.tell(user, text, tone)
