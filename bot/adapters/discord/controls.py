"""The buttons on every ticket's starter message (Claim, Reply, Close) and the Reply modal.

The view is persistent: its custom ids are fixed and it is registered at every
start, so buttons on messages posted before a restart keep working. Which
ticket a click is about comes from the message clicked: a thread's starter
message has the thread's id, which is the ticket's recorded root.

Everyone in the channel sees the buttons; what a click may do is the core's
decision (`bot.handlers.permissions`). A refusal is answered ephemerally, and
Reply asks the core before the form opens, so a stranger never sees a form.

An internal ticket (no customer, `TicketView.internal`) has no Reply button:
there is nobody to mail. A Reply click on an older card of one says so, after
the same permission check (a stranger learns nothing), and opens no form.
"""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.adapters.discord import answers
from bot.adapters.discord.answers import Answer
from bot.adapters.discord.parts import SHOWN_AS_IS, DiscordParts
from bot.adapters.discord.replying import answer, deferred
from bot.domain.access import Action
from bot.domain.mail_ids import reply_subject
from bot.handlers import collision, queries, replies, tickets
from bot.handlers.permissions import permit

CLAIM, REPLY, CLOSE = "tiketti:claim", "tiketti:reply", "tiketti:close"
REPLY_CHARS = 4000  # Discord's limit for a text input
INTERNAL_REPLY = "internal ticket: nothing to mail; write a note in the thread"


class TicketControls(discord.ui.View):
    def __init__(self, parts: DiscordParts, *, internal: bool = False) -> None:
        """`internal`: the card of a ticket without a customer, offered without Reply. The view registered
        at start has every button, so a click on any card ever posted is handled."""
        super().__init__(timeout=None)
        self.parts = parts
        if internal:
            self.remove_item(self.reply)

    async def _ticket(self, interaction: discord.Interaction) -> int | None:
        message, channel = interaction.message, interaction.channel
        if message is None:
            return None
        parent = getattr(channel, "parent_id", None) or interaction.channel_id
        return await self.parts.ticket_in(message.id, parent)

    async def _act(self, interaction: discord.Interaction, fn: str) -> None:
        async def work() -> Answer:
            number = await self._ticket(interaction)
            if number is None:
                return Answer("⚠️ this message is not a ticket Tiketti knows")
            handler = tickets.claim if fn == "claim" else tickets.close
            result = await handler(self.parts.ctx, self.parts.actor(interaction.user), number)
            return answers.done(result.summary, None)

        await deferred(interaction, work, fn)

    @discord.ui.button(label="Claim", style=discord.ButtonStyle.success, custom_id=CLAIM)
    async def claim(self, interaction: discord.Interaction, _button: discord.ui.Button[TicketControls]) -> None:
        await self._act(interaction, "claim")

    @discord.ui.button(label="Reply", style=discord.ButtonStyle.primary, custom_id=REPLY)
    async def reply(self, interaction: discord.Interaction, _button: discord.ui.Button[TicketControls]) -> None:
        # A modal must be the first answer, so no defer here; the checks are a few short queries.
        number = await self._ticket(interaction)
        who = self.parts.actor(interaction.user)
        try:
            if number is None:
                raise LookupError("this message is not a ticket Tiketti knows")
            await permit(self.parts.ctx, who, Action.REPLY, number)  # may they reply? (Denied, audited, if not)
            details = await queries.show(self.parts.ctx, who, number)
            if details.ticket.internal:  # before a draft is recorded: nobody is writing to anyone
                raise LookupError(INTERNAL_REPLY)
            crowd = await collision.reply_opened(self.parts.ctx, who, number)
        except (LookupError, *SHOWN_AS_IS) as exc:
            await answer(interaction, Answer(f"⚠️ {exc}"))
            return
        ticket = details.ticket
        subject = reply_subject(ticket.subject, self.parts.ctx.config.subject_tag, ticket.number)
        to = f"their {details.reply_by_dm.capitalize()} DM" if details.reply_by_dm else ticket.requester_email
        await interaction.response.send_modal(ReplyModal(self.parts, number, to, subject, crowd.lines))

    @discord.ui.button(label="Close", style=discord.ButtonStyle.secondary, custom_id=CLOSE)
    async def close(self, interaction: discord.Interaction, _button: discord.ui.Button[TicketControls]) -> None:
        await self._act(interaction, "close")


class ReplyModal(discord.ui.Modal):
    """Write the answer; submitting it mails the customer (or writes to their DM) through the outbox."""

    def __init__(self, parts: DiscordParts, number: int, to: str, subject: str, warnings: Sequence[str] = ()) -> None:
        """`to` as the agent should read it: the customer's address, or "their Discord DM"; `warnings`:
        who else is answering (`bot.handlers.collision`), shown first in the empty field."""
        super().__init__(title=f"Reply to #{number}"[:45], custom_id=f"tiketti:reply-modal:{number}")
        self.parts, self.number = parts, number
        hint = " · ".join([*(f"⚠️ {w}" for w in warnings), f"To {to} · {subject}"])
        self.text: discord.ui.TextInput[ReplyModal] = discord.ui.TextInput(
            label="Sent to the customer"[:45], style=discord.TextStyle.paragraph, max_length=REPLY_CHARS,
            placeholder=hint[:100], custom_id="tiketti:reply-text")
        self.add_item(self.text)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        async def work() -> Answer:
            who = self.parts.actor(interaction.user)  # checked again: the form may outlive their role
            result = await replies.reply(self.parts.ctx, who, self.number, self.text.value)
            await collision.reply_closed(self.parts.ctx, who, self.number)
            return answers.done(f"✉️ {result.summary}", None)

        await deferred(interaction, work, "reply")
