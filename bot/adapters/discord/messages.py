"""What people type: in a ticket's thread an internal note, in a DM to the bot a customer's message.

Nothing typed in a thread can mail anyone: every human message there is stored
as a note whose chat_ref names the Discord message (so the publisher never
echoes it, and an edit updates it). Mentioning a colleague adds them to the
ticket and posts a short summary for them. A direct message to the bot is a
customer writing in (`bot.handlers.chat_intake`), or their `link` or `status`
command (`dm_commands`), and never anything else: no agent command is read from a DM.

Who may write notes is the core's decision. A message the core refuses (a
stranger's, or a light agent's mention) is not stored; as a thread has no
private answer, the author is told why in a DM, once per thread.
"""

from __future__ import annotations

import logging

import discord

from bot.adapters.discord import answers, dm_commands
from bot.adapters.discord.parts import DiscordParts, mentioned
from bot.domain.errors import UserFacingError
from bot.handlers import chat_intake, queries, tickets
from bot.handlers.chat_intake import ChatMessageIn
from bot.handlers.permissions import Denied

log = logging.getLogger(__name__)


def text_of(message: discord.Message) -> str:
    """The message as stored: its text (mentions made readable) and its attachments listed."""
    text = message.clean_content if message.mentions else message.content
    files = [f"📎 {a.filename} {a.url}" for a in message.attachments]
    return "\n".join([text, *files]).strip()


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
    ref = parts.chat_ref(payload.channel_id, payload.message_id)
    try:
        await tickets.edit_note(parts.ctx, parts.actor(author), ref, payload.data["content"])
    except Denied as exc:
        log.info("discord: edit of message %s not applied to its note: %s", payload.message_id, exc)


async def _in_thread(parts: DiscordParts, message: discord.Message) -> None:
    """A thread under any tickets channel is a ticket's if chat_threads has it as a root (a thread not
    in discord.py's cache comes as a PartialMessageable without its parent: looked up in every channel)."""
    channel = message.channel
    number = await parts.ticket_in(channel.id, getattr(channel, "parent_id", None))
    if number is None:
        return  # not a ticket's thread
    agent = parts.actor(message.author)
    try:
        await tickets.add_note(parts.ctx, agent, number, text_of(message) or "(empty)",
                               chat_ref=parts.chat_ref(channel.id, message.id))
    except Denied as exc:
        await _tell(parts, message.author, channel.id, f"Your message in the thread of #{number} was not saved: {exc}.")
        return
    except UserFacingError as exc:  # a redelivered message (already stored)
        log.debug("discord: message %s not stored as a note: %s", message.id, exc)
        return
    bot_id = parts.client.user.id if parts.client.user else 0
    added = []
    for expert in mentioned(message, exclude={bot_id, message.author.id}):
        try:
            if await tickets.add_collaborator(parts.ctx, agent, number, parts.actor(expert)):
                added.append(expert.id)
        except UserFacingError as exc:
            await _tell(parts, message.author, channel.id, f"{expert.display_name} was not added to #{number}: {exc}.")
    if added:
        summary = answers.pulled_in(await queries.show(parts.ctx, agent, number), added)
        await channel.send(summary, allowed_mentions=discord.AllowedMentions(users=True))


async def _direct(parts: DiscordParts, message: discord.Message) -> None:
    text = text_of(message)
    if not text:
        return
    if await dm_commands.answer_command(parts, message, text):
        return
    author = message.author
    outcome = await chat_intake.receive_chat_message(parts.ctx, ChatMessageIn(
        platform="discord", user_id=str(author.id), user_name=getattr(author, "global_name", None) or author.name,
        dm_channel=str(message.channel.id), message_id=str(message.id), text=text))
    log.info("discord: direct message %s: %s #%s", message.id, outcome.action, outcome.ticket_number)


async def _tell(parts: DiscordParts, user: discord.abc.User, thread_id: int, text: str) -> None:
    """A refusal for one person where Discord has no private answer: by DM, once per person and thread
    (the core audits every attempt); a member who takes no DMs from the server is only logged."""
    key = (user.id, thread_id)
    log.info("discord: %s (user %s)", text, user.id)
    if key in parts.told:
        return
    if len(parts.told) > 10_000:
        parts.told.clear()
    parts.told.add(key)
    try:
        await user.send(text[:2000])
    except discord.HTTPException as exc:
        log.info("discord: could not tell user %s privately (%s %s)", user.id, exc.status, exc.text)
