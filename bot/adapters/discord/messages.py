"""What people type: in a ticket's thread an internal note, in a DM to the bot a customer's message.

Nothing typed in a thread can mail anyone: every human message there is stored
as a note whose chat_ref names the Discord message (so the publisher never
echoes it, and an edit updates it). Mentioning a colleague adds them to the
ticket and posts a short summary for them. A direct message to the bot is a
customer writing in (`bot.handlers.chat_intake`).
"""

from __future__ import annotations

import logging

import discord

from bot.adapters.discord import answers, dm
from bot.adapters.discord.parts import SHOWN_AS_IS, DiscordParts, actor, mentioned
from bot.handlers import chat_intake, queries, tickets
from bot.handlers.chat_intake import ChatMessageIn
from bot.handlers.context import Actor

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
    data = payload.data
    if "content" not in data or (data.get("author") or {}).get("bot"):
        return
    author = data.get("author") or {}
    if author.get("id"):
        who = Actor(str(author["id"]), author.get("global_name") or author.get("username", ""))
        await tickets.edit_note(parts.ctx, who, parts.chat_ref(payload.channel_id, payload.message_id), data["content"])


async def _in_thread(parts: DiscordParts, message: discord.Message) -> None:
    """A thread under any tickets channel is a ticket's if chat_threads has it as a root (a thread not
    in discord.py's cache comes as a PartialMessageable without its parent: looked up in every channel)."""
    channel = message.channel
    number = await parts.ticket_in(channel.id, getattr(channel, "parent_id", None))
    if number is None:
        return  # not a ticket's thread
    agent = actor(message.author)
    try:
        await tickets.add_note(parts.ctx, agent, number, text_of(message) or "(empty)",
                               chat_ref=parts.chat_ref(channel.id, message.id))
    except SHOWN_AS_IS as exc:  # a redelivered message (already stored)
        log.debug("discord: message %s not stored as a note: %s", message.id, exc)
        return
    bot_id = parts.client.user.id if parts.client.user else 0
    experts = mentioned(message, exclude={bot_id, message.author.id})
    added = [e.id for e in experts if await tickets.add_collaborator(parts.ctx, agent, number, actor(e))]
    if added:
        summary = answers.pulled_in(await queries.show(parts.ctx, number), added)
        await channel.send(summary, allowed_mentions=discord.AllowedMentions(users=True))


async def _direct(parts: DiscordParts, message: discord.Message) -> None:
    text = text_of(message)
    if not text:
        return
    if await dm.answer_command(parts, message, text):
        return
    author = message.author
    outcome = await chat_intake.receive_chat_message(parts.ctx, ChatMessageIn(
        platform="discord", user_id=str(author.id), user_name=getattr(author, "global_name", None) or author.name,
        dm_channel=str(message.channel.id), message_id=str(message.id), text=text))
    log.info("discord: direct message %s: %s #%s", message.id, outcome.action, outcome.ticket_number)
