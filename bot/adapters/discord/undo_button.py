"""Undo send on Discord: "Sending to mia@… in 10 s [Undo]" on the ephemeral answer to a held reply.

The answer to `/ticket reply` and to the Reply form carries an *Undo* button whose custom id names
the ticket and the reply's message (`tiketti:undo:12:345`). It is a DynamicItem registered at every
start (bot.adapters.discord.client), like the cards' controls, so it works after a restart with
nothing kept in memory. A click takes the reply back (bot.handlers.undo: its author, a manager or
an admin, within the window) and answers with the Reply form filled with its text: a form must be
an interaction's first answer, and the undo is one short transaction. After the window, or for
anyone else, the click is answered privately with why not.
"""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.adapters.discord.answers import Answer
from bot.adapters.discord.embeds import cut
from bot.adapters.discord.replying import answer, clicked_in_our_server
from bot.domain.errors import UserFacingError
from bot.handlers import undo
from bot.handlers.tickets import ActionResult

UNDO = "tiketti:undo:{number}:{message}"
_NUMBER = "[1-9][0-9]{0,17}"


class UndoSend(discord.ui.DynamicItem[discord.ui.Button[Any]],
               template=re.compile(f"tiketti:undo:(?P<number>{_NUMBER}):(?P<message>{_NUMBER})")):
    """The *Undo* button of a held reply: takes it back and opens the Reply form with its text."""

    def __init__(self, number: int, message_id: int) -> None:
        super().__init__(discord.ui.Button(label="Undo", style=discord.ButtonStyle.danger,
                                           custom_id=UNDO.format(number=number, message=message_id)))
        self.number, self.message_id = number, message_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str]) -> UndoSend:
        return cls(int(match["number"]), int(match["message"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        if (parts := await clicked_in_our_server(interaction)) is None:
            return
        from bot.adapters.discord.reply_form import reply_form  # it shows this button: imported when clicked

        who = parts.actor(interaction.user)
        try:
            undone = await undo.take_back(parts.ctx, who, self.number, self.message_id)
            form = await reply_form(parts, who, self.number, text=undone.text,
                                    warnings=[f"taken back, nothing was sent to {undone.to_addr}"])
        except UserFacingError as exc:
            await answer(interaction, Answer(cut(f"⚠️ {exc}", 1900)))
            return
        await interaction.response.send_modal(form)


def held_answer(result: ActionResult, link: str | None = None) -> Answer:
    """The private confirmation of a held reply: where it goes, in how long, and *Undo*."""
    message = result.message
    assert message is not None and result.held_until is not None
    seconds = max(0, round((result.held_until - message.created_at).total_seconds()))
    text = f"📤 Sending #{result.ticket.number}'s reply to {message.sent_to} in {seconds} s." + (f" · {link}" if link else "")
    view = discord.ui.View(timeout=None)
    view.add_item(UndoSend(result.ticket.number, message.id))
    return Answer(cut(text, 1900), view=view)
