"""Discord's side of what people type: in a ticket's thread a note, in a DM to the bot a customer's message.

What a line or an edit in a ticket's thread means is decided once for every
platform in `bot.chat.notes` (stored as a note under a chat_ref naming the
Discord message, colleagues mentioned pulled in, refusals told to the author
alone); this module reads discord.py's messages into it and answers with
Discord's calls. A thread has no private answer, so a refusal comes by DM (at
most once per person and thread). A direct message to the bot is a customer
writing in (`bot.handlers.chat_intake`), or their `link` or `status` command
(`dm_commands`), and never anything else: no agent command is read from a DM.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import discord

from bot.adapters.discord import answers, dm_commands
from bot.adapters.discord.parts import PLATFORM, DiscordParts, mentioned
from bot.adapters.formatting import human_size
from bot.chat import notes
from bot.chat.notes import Edit, Line, Reaction, Tone
from bot.handlers import chat_intake
from bot.handlers.chat_intake import ChatMessageIn
from bot.handlers.context import Actor
from bot.handlers.snapshots import TicketDetails

log = logging.getLogger(__name__)

MARK = {Tone.DENIED: "⛔", Tone.WARNING: "⚠️"}
MAX_FILES = 10  # Discord sends at most 10 attachments a message


class DiscordThread:
    """`notes.ThreadPort` for one Discord thread: the people a message names, DMs, posts in the thread."""

    private_in_thread = False

    def __init__(self, parts: DiscordParts, people: Sequence[discord.abc.User],
                 thread: discord.abc.Messageable | None = None) -> None:
        self.parts, self.thread = parts, thread
        self.people = {str(p.id): p for p in people}

    async def actor_of(self, user: str) -> Actor:
        return self.parts.actor(self.people[user])

    async def tell(self, user: str, text: str, tone: Tone) -> None:
        """By DM; a member who takes no DMs from the server is only logged (bot.chat.notes logged the words)."""
        try:
            await self.people[user].send(f"{MARK[tone]} {text}"[:2000])
        except discord.HTTPException as exc:
            log.info("discord: could not tell user %s privately (%s %s)", user, exc.status, exc.text)

    async def post_pulled_in(self, details: TicketDetails, users: Sequence[str]) -> None:
        assert self.thread is not None, "colleagues are pulled in from a message in a thread"
        """The summary quotes customer text, which may hold `<@id>` or `@everyone`: only the colleagues
        pulled in are pinged, never whoever the quoted text names."""
        ids = [int(u) for u in users]
        await self.thread.send(answers.pulled_in(details, ids), allowed_mentions=discord.AllowedMentions(
            everyone=False, roles=False, replied_user=False, users=[discord.Object(u) for u in ids]))


def text_of(message: discord.Message) -> str:
    """The message as stored: its text (mentions made readable) and its attachments listed, each with a
    link to the message that holds it. Never the file's CDN URL alone: Discord signs those and they
    expire within a day; the message link does not, and opening it shows the file afresh."""
    text = message.clean_content if message.mentions else message.content
    files = [f"📎 {a.filename} ({human_size(a.size)}) in {message.jump_url}" for a in message.attachments]
    return "\n".join([text, *files]).strip()


async def files_of(parts: DiscordParts, message: discord.Message) -> tuple[tuple[str, str, int, bytes | None], ...]:
    """A DM's attachments to store with it (agents cannot open a customer's DM): each read now, while its
    signed URL works, when it is within the configured size; a larger one, or one Discord will not
    give, is listed without content."""
    limit = parts.ctx.config.max_attachment_bytes
    kept = []
    for a in message.attachments[:MAX_FILES]:
        content = None
        if a.size <= limit:
            try:
                content = await a.read()
            except (discord.HTTPException, discord.NotFound) as exc:
                log.warning("discord: could not read attachment %s of message %s (%s)", a.filename, message.id, exc)
        kept.append((a.filename, a.content_type or "application/octet-stream", a.size, content))
    return tuple(kept)


async def on_message(parts: DiscordParts, message: discord.Message) -> None:
    if message.author.bot or message.type not in (discord.MessageType.default, discord.MessageType.reply):
        return
    if message.guild is None:
        await _direct(parts, message)
    elif isinstance(message.channel, discord.Thread | discord.PartialMessageable):  # maybe a ticket's thread
        await _in_thread(parts, message)


async def on_edit(parts: DiscordParts, payload: discord.RawMessageUpdateEvent) -> None:
    """An edited note follows its message, if its author may still write notes (the edit carries their roles)."""
    author = payload.message.author
    if "content" not in payload.data or author.bot:
        return
    edit = Edit(str(author.id), parts.chat_ref(payload.channel_id, payload.message_id), payload.data["content"],
                root=str(payload.channel_id))
    await notes.note_edited(parts.ctx, edit, DiscordThread(parts, [author]), parts.told)


async def on_reaction(parts: DiscordParts, payload: discord.RawReactionActionEvent) -> None:
    """A reaction on a ticket's card means what it means on Slack (`notes.REACTIONS`). A card is its
    thread's starter, whose id is the thread's: in a text channel or a forum, the ticket's root."""
    member = payload.member
    if payload.guild_id is None or member is None or member.bot:
        return
    reaction = Reaction(PLATFORM, None, str(payload.message_id), str(member.id), str(payload.emoji))
    await notes.reacted(parts.ctx, reaction, DiscordThread(parts, [member]), parts.told)


async def _in_thread(parts: DiscordParts, message: discord.Message) -> None:
    """A thread under any tickets channel is a ticket's if chat_threads has it as a root (a thread not
    in discord.py's cache comes as a PartialMessageable without its parent: looked up in every channel)."""
    channel = message.channel
    parent = getattr(channel, "parent_id", None)
    experts = mentioned(message, exclude=set())  # bots left out, ours included
    line = Line(PLATFORM, str(parent) if parent else None, str(channel.id), str(message.author.id),
                text_of(message) or "(empty)", parts.chat_ref(channel.id, message.id),
                mentions=[str(e.id) for e in experts])
    await notes.note_typed(parts.ctx, line, DiscordThread(parts, [message.author, *experts], channel), parts.told)


async def _direct(parts: DiscordParts, message: discord.Message) -> None:
    text = text_of(message)
    if not text:
        return
    if await dm_commands.answer_command(parts, message, text):
        return
    author = message.author
    outcome = await chat_intake.receive_chat_message(parts.ctx, ChatMessageIn(
        platform="discord", user_id=str(author.id), user_name=getattr(author, "global_name", None) or author.name,
        dm_channel=str(message.channel.id), message_id=str(message.id), text=text,
        files=await files_of(parts, message)))
    log.info("discord: direct message %s: %s #%s", message.id, outcome.action, outcome.ticket_number)
