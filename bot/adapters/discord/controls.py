"""The controls on every ticket's card: buttons Claim, Reply, Close, Reopen, Tags…, Move…; selects Assign,
Priority and Category.

Which controls a card shows is decided for every platform at once
(`bot.adapters.capabilities.controls_for`): `CONTROLS` says how each looks here, and the
card is drawn from that list. The view is persistent: custom ids are fixed, and a view
with every control is registered at each start, so controls on cards posted before a
restart keep working. Which ticket a click is about comes from the message clicked: a
thread's starter message has the thread's id, which is the ticket's recorded root.

Everyone in the channel sees the controls; what a click may do is the core's decision
(`bot.handlers.permissions`). A refusal is answered ephemerally, and a form (Reply, Tags,
Move) opens only after the core said yes, so a stranger never sees one. An internal
ticket (no customer) shows no Reply; a Reply click on an older card of one says so.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot.adapters.capabilities import Control, controls_in
from bot.adapters.discord import answers
from bot.adapters.discord.answers import Answer
from bot.adapters.discord.forms import open_ticket_form
from bot.adapters.discord.parts import DiscordParts
from bot.adapters.discord.reply_form import open_reply_form
from bot.adapters.discord.replying import deferred
from bot.domain.priority import Priority
from bot.handlers import classify, tickets
from bot.handlers.context import Actor
from bot.handlers.errors import NotFound
from bot.handlers.snapshots import TicketView
from bot.handlers.tickets import ActionResult

CLAIM, REPLY, CLOSE, REOPEN = "tiketti:claim", "tiketti:reply", "tiketti:close", "tiketti:reopen"
TAGS, MOVE = "tiketti:tags", "tiketti:move"
ASSIGN, PRIORITY, CATEGORY = "tiketti:assign", "tiketti:priority", "tiketti:category"
SELECT_OPTIONS = 25  # Discord's limit for a select's options

# Each control -> the custom id of its component (a button, or a select for Assign, Priority and Category).
CONTROLS: dict[Control, str] = {
    Control.CLAIM: CLAIM, Control.REPLY: REPLY, Control.CLOSE: CLOSE, Control.REOPEN: REOPEN,
    Control.ASSIGN: ASSIGN, Control.PRIORITY: PRIORITY, Control.CATEGORY: CATEGORY,
    Control.TAGS: TAGS, Control.MOVE: MOVE,
}
_BUTTONS = {
    Control.CLAIM: ("Claim", discord.ButtonStyle.success), Control.REPLY: ("Reply", discord.ButtonStyle.primary),
    Control.CLOSE: ("Close", discord.ButtonStyle.secondary), Control.REOPEN: ("Reopen", discord.ButtonStyle.secondary),
    Control.TAGS: ("Tags…", discord.ButtonStyle.secondary), Control.MOVE: ("Move…", discord.ButtonStyle.secondary),
}

Change = Callable[[Actor, int, list[Any]], Awaitable[ActionResult]]


class TicketControls(discord.ui.View):
    def __init__(self, parts: DiscordParts, ticket: TicketView | None = None) -> None:
        """The controls of `ticket`'s card as it stands; without a ticket, every control (the view registered
        at start, so a click on any card ever posted is handled)."""
        super().__init__(timeout=None)
        self.parts = parts
        shown = tuple(Control) if ticket is None else controls_in(parts.ctx.config.workflow, ticket)
        for control in sorted(shown, key=lambda c: c not in _BUTTONS):  # buttons first, in one row
            self.add_item(self._item(control, ticket))

    def _item(self, control: Control, ticket: TicketView | None) -> discord.ui.Item[TicketControls]:
        custom_id = CONTROLS[control]
        if control in _BUTTONS:
            label, style = _BUTTONS[control]
            if control is Control.CLAIM and ticket is not None and ticket.assignee is not None:
                style = discord.ButtonStyle.secondary  # taken: claiming is still possible, no longer the call
            button: discord.ui.Button[TicketControls] = discord.ui.Button(label=label, style=style, custom_id=custom_id)
            button.callback = lambda interaction: self._press(interaction, control)  # type: ignore[method-assign]
            return button
        select = _select(control, ticket, self.parts)
        select.callback = lambda interaction: self._choose(interaction, control, select.values)  # type: ignore[method-assign]
        return select

    async def _ticket(self, interaction: discord.Interaction) -> int | None:
        message, channel = interaction.message, interaction.channel
        if message is None:
            return None
        parent = getattr(channel, "parent_id", None) or interaction.channel_id
        return await self.parts.ticket_in(message.id, parent)

    async def _press(self, interaction: discord.Interaction, control: Control) -> None:
        if control is Control.REPLY:  # a form must be the first answer: no defer, a few short checks
            await open_reply_form(self.parts, interaction, await self._ticket(interaction))
        elif control in (Control.TAGS, Control.MOVE):
            await open_ticket_form(self.parts, interaction, await self._ticket(interaction), control.value)
        else:
            handler = {Control.CLAIM: tickets.claim, Control.CLOSE: tickets.close, Control.REOPEN: tickets.reopen}[control]
            await self._act(interaction, control, lambda who, n, _values: handler(self.parts.ctx, who, n), [])

    async def _choose(self, interaction: discord.Interaction, control: Control, values: list[Any]) -> None:
        ctx = self.parts.ctx
        changes: dict[Control, Change] = {
            Control.ASSIGN: lambda who, n, v: tickets.assign(ctx, who, n, self.parts.actor(v[0])),
            Control.PRIORITY: lambda who, n, v: tickets.set_priority(ctx, who, n, Priority.parse(str(v[0]))),
            Control.CATEGORY: lambda who, n, v: classify.set_category(ctx, who, n, str(v[0])),
        }
        await self._act(interaction, control, changes[control], values)

    async def _act(self, interaction: discord.Interaction, control: Control, change: Change, values: list[Any]) -> None:
        async def work() -> Answer:
            number = await self._ticket(interaction)
            if number is None:
                raise NotFound("this message is not a ticket Tiketti knows")
            if not values and control not in _BUTTONS:
                return answers.text("nothing chosen")
            result = await change(self.parts.actor(interaction.user), number, values)
            return answers.done(result.summary, None)

        await deferred(interaction, work, control.value)


def _select(control: Control, ticket: TicketView | None, parts: DiscordParts) -> discord.ui.Item[TicketControls]:
    """Assign (a member picker), Priority or Category, showing the ticket's current choice."""
    custom_id = CONTROLS[control]
    if control is Control.ASSIGN:
        chosen = ticket.assignee_chat_id if ticket is not None else None
        defaults = [discord.SelectDefaultValue(id=int(chosen), type=discord.SelectDefaultValueType.user)] \
            if chosen and chosen.isdigit() else []
        return discord.ui.UserSelect(custom_id=custom_id, placeholder="Assign…", default_values=defaults)
    if control is Control.PRIORITY:
        current = ticket.priority if ticket is not None else None
        options = [discord.SelectOption(label=p.value.capitalize(), value=p.value, default=p == current) for p in Priority]
        return discord.ui.Select(custom_id=custom_id, placeholder="Priority", options=options)
    names = parts.ctx.config.workflow.categories[:SELECT_OPTIONS] or ("other",)
    current_category = ticket.category if ticket is not None else None
    options = [discord.SelectOption(label=c.capitalize()[:100], value=c[:100], default=c == current_category)
               for c in names]
    return discord.ui.Select(custom_id=custom_id, placeholder="Category", options=options)
