"""The controls on every ticket's card: buttons Claim, Reply, Close, Reopen, Tags…, Move…; selects Assign,
Priority and Category.

Which controls a card shows is decided for every platform at once
(`bot.adapters.capabilities.controls_for`): `CONTROLS` says how each looks here, and the
card is drawn from that list. Each control is a `discord.ui.DynamicItem` whose custom id
carries what it does and the ticket's number (`tiketti:claim:123`): registered at every
start (`CardButton`, `CardSelect`), so a click on a card posted before a restart is
understood from the click alone, with nothing kept in memory (discord.py's advice for
state-carrying components). Cards drawn before the number was in the id (`tiketti:claim`)
still work: a view of every control under those ids is registered too, and such a click
finds its ticket from the message clicked (a starter's id is its thread's, the ticket's root).

Everyone in the channel sees the controls; what a click may do is the core's decision
(`bot.handlers.permissions`). A refusal is answered ephemerally, and a form (Reply, Tags,
Move) opens only after the core said yes, so a stranger never sees one. An internal
ticket (no customer) shows no Reply; a Reply click on an older card of one says so.
"""

from __future__ import annotations

import re
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
from bot.handlers import classify, macros, tickets
from bot.handlers.context import Actor
from bot.handlers.errors import NotFound
from bot.handlers.snapshots import TicketView
from bot.handlers.tickets import ActionResult

CLAIM, REPLY, CLOSE, REOPEN = "tiketti:claim", "tiketti:reply", "tiketti:close", "tiketti:reopen"
TAGS, MOVE = "tiketti:tags", "tiketti:move"
ASSIGN, PRIORITY, CATEGORY = "tiketti:assign", "tiketti:priority", "tiketti:category"
MACRO = "tiketti:macro"  # a select of the workflow's macros for the ticket's team; the value is a macro's name
SELECT_OPTIONS = 25  # Discord's limit for a select's options

# Each control -> the custom id of its component (a button, or a select for Assign, Priority and Category).
CONTROLS: dict[Control, str] = {
    Control.CLAIM: CLAIM, Control.REPLY: REPLY, Control.CLOSE: CLOSE, Control.REOPEN: REOPEN,
    Control.ASSIGN: ASSIGN, Control.PRIORITY: PRIORITY, Control.CATEGORY: CATEGORY,
    Control.TAGS: TAGS, Control.MOVE: MOVE, Control.MACRO: MACRO,
}
_BUTTONS = {
    Control.CLAIM: ("Claim", discord.ButtonStyle.success), Control.REPLY: ("Reply", discord.ButtonStyle.primary),
    Control.CLOSE: ("Close", discord.ButtonStyle.secondary), Control.REOPEN: ("Reopen", discord.ButtonStyle.secondary),
    Control.TAGS: ("Tags…", discord.ButtonStyle.secondary), Control.MOVE: ("Move…", discord.ButtonStyle.secondary),
}

Change = Callable[[Actor, int, list[Any]], Awaitable[ActionResult]]
_NUMBER = "[1-9][0-9]{0,17}"
_BY_NAME = {c.value: c for c in Control}


def card_id(control: Control, number: int) -> str:
    """The custom id of `control` on ticket `number`'s card: what it does and on which ticket."""
    return f"{CONTROLS[control]}:{number}"


class CardButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                 template=re.compile(f"tiketti:(?P<control>claim|reply|close|reopen|tags|move):(?P<number>{_NUMBER})")):
    """A button of a ticket's card, whatever process drew it."""

    def __init__(self, control: Control, number: int, style: discord.ButtonStyle | None = None) -> None:
        label, default = _BUTTONS[control]
        super().__init__(discord.ui.Button(label=label, style=style or default, custom_id=card_id(control, number)))
        self.control, self.number = control, number

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str]) -> CardButton:
        return cls(_BY_NAME[match["control"]], int(match["number"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await press(_parts(interaction), interaction, self.control, self.number)


class CardSelect(discord.ui.DynamicItem[discord.ui.Item[Any]],
                 template=re.compile(f"tiketti:(?P<control>assign|priority|category|macro):(?P<number>{_NUMBER})")):
    """A select of a ticket's card (Assign, Priority, Category, Macro); the chosen values come with the click."""

    def __init__(self, item: discord.ui.Item[Any], control: Control, number: int) -> None:
        super().__init__(item)
        self.control, self.number = control, number

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str]) -> CardSelect:
        return cls(item, _BY_NAME[match["control"]], int(match["number"]))  # `item` as Discord sent it

    async def callback(self, interaction: discord.Interaction) -> None:
        await choose(_parts(interaction), interaction, self.control, self.number, list(getattr(self.item, "values", [])))


def legacy_views(parts: DiscordParts) -> tuple[TicketControls, ...]:
    """Every control under its fixed id, for cards drawn before custom ids named their ticket. Two views:
    a message (and discord.py's view) holds at most 5 rows, and six buttons and four selects need six."""
    return (TicketControls(parts, fixed=tuple(c for c in Control if c is not Control.MACRO)),
            TicketControls(parts, fixed=(Control.MACRO,)))


def _parts(interaction: discord.Interaction) -> DiscordParts:
    parts = getattr(interaction.client, "parts", None)
    assert isinstance(parts, DiscordParts), "the Tiketti client carries its parts"
    return parts


class TicketControls(discord.ui.View):
    def __init__(self, parts: DiscordParts, ticket: TicketView | None = None,
                 fixed: tuple[Control, ...] = ()) -> None:
        """The controls of `ticket`'s card as it stands (each naming the ticket in its custom id); without
        a ticket, the `fixed` controls under their old fixed ids (registered at start: `legacy_views`)."""
        super().__init__(timeout=None)
        self.parts = parts
        shown = fixed if ticket is None else controls_in(parts.ctx.config.workflow, ticket)
        for control in sorted(shown, key=lambda c: c not in _BUTTONS):  # buttons first, in one row
            self.add_item(self._item(control, ticket))

    def _item(self, control: Control, ticket: TicketView | None) -> discord.ui.Item[TicketControls]:
        if control in _BUTTONS:
            label, style = _BUTTONS[control]
            if control is Control.CLAIM and ticket is not None and ticket.assignee is not None:
                style = discord.ButtonStyle.secondary  # taken: claiming is still possible, no longer the call
            if ticket is not None:
                return CardButton(control, ticket.number, style)
            button: discord.ui.Button[TicketControls] = discord.ui.Button(label=label, style=style,
                                                                          custom_id=CONTROLS[control])
            button.callback = lambda interaction: self._legacy(interaction, control, [])  # type: ignore[method-assign]
            return button
        select = _select(control, ticket, self.parts)
        if ticket is not None:
            return CardSelect(select, control, ticket.number)
        select.callback = lambda interaction: self._legacy(interaction, control, select.values)  # type: ignore[method-assign]
        return select

    async def _legacy(self, interaction: discord.Interaction, control: Control, values: list[Any]) -> None:
        """A click on a card drawn before custom ids named the ticket: the ticket is the message's."""
        message, channel = interaction.message, interaction.channel
        parent = getattr(channel, "parent_id", None) or interaction.channel_id
        number = None if message is None else await self.parts.ticket_in(message.id, parent)
        if control in _BUTTONS:
            await press(self.parts, interaction, control, number)
        else:
            await choose(self.parts, interaction, control, number, values)


async def press(parts: DiscordParts, interaction: discord.Interaction, control: Control, number: int | None) -> None:
    """A button of ticket `number`'s card (None: not a ticket Tiketti knows)."""
    if control is Control.REPLY:  # a form must be the first answer: no defer, a few short checks
        await open_reply_form(parts, interaction, number)
    elif control in (Control.TAGS, Control.MOVE):
        await open_ticket_form(parts, interaction, number, control.value)
    else:
        handler = {Control.CLAIM: tickets.claim, Control.CLOSE: tickets.close, Control.REOPEN: tickets.reopen}[control]
        await _act(parts, interaction, control, number, lambda who, n, _values: handler(parts.ctx, who, n), [])


async def choose(parts: DiscordParts, interaction: discord.Interaction, control: Control, number: int | None,
                 values: list[Any]) -> None:
    ctx = parts.ctx
    changes: dict[Control, Change] = {
        Control.ASSIGN: lambda who, n, v: tickets.assign(ctx, who, n, parts.actor(v[0])),
        Control.PRIORITY: lambda who, n, v: tickets.set_priority(ctx, who, n, Priority.parse(str(v[0]))),
        Control.CATEGORY: lambda who, n, v: classify.set_category(ctx, who, n, str(v[0])),
        Control.MACRO: lambda who, n, v: macros.apply_macro(ctx, who, n, str(v[0])),
    }
    await _act(parts, interaction, control, number, changes[control], values)


async def _act(parts: DiscordParts, interaction: discord.Interaction, control: Control, number: int | None,
               change: Change, values: list[Any]) -> None:
    async def work() -> Answer:
        if number is None:
            raise NotFound("this message is not a ticket Tiketti knows")
        if not values and control not in _BUTTONS:
            return answers.text("nothing chosen")
        result = await change(parts.actor(interaction.user), number, values)
        return answers.done(result.summary, None)

    await deferred(interaction, work, control.value)


def _select(control: Control, ticket: TicketView | None, parts: DiscordParts) -> discord.ui.Item[TicketControls]:
    """Assign (a member picker), Priority or Category, showing the ticket's current choice."""
    custom_id = CONTROLS[control] if ticket is None else card_id(control, ticket.number)
    if control is Control.ASSIGN:
        chosen = ticket.assignee_chat_id if ticket is not None else None
        defaults = [discord.SelectDefaultValue(id=int(chosen), type=discord.SelectDefaultValueType.user)] \
            if chosen and chosen.isdigit() else []
        return discord.ui.UserSelect(custom_id=custom_id, placeholder="Assign…", default_values=defaults)
    if control is Control.PRIORITY:
        current = ticket.priority if ticket is not None else None
        options = [discord.SelectOption(label=p.value.capitalize(), value=p.value, default=p == current) for p in Priority]
        return discord.ui.Select(custom_id=custom_id, placeholder="Priority", options=options)
    if control is Control.MACRO:
        return _macro_select(custom_id, ticket, parts)
    names = parts.ctx.config.workflow.categories[:SELECT_OPTIONS] or ("other",)
    current_category = ticket.category if ticket is not None else None
    options = [discord.SelectOption(label=c.capitalize()[:100], value=c[:100], default=c == current_category)
               for c in names]
    return discord.ui.Select(custom_id=custom_id, placeholder="Category", options=options)


def _macro_select(custom_id: str, ticket: TicketView | None, parts: DiscordParts) -> discord.ui.Select[TicketControls]:
    """The macros for the ticket's team, by title with what each does; never a current choice. Registered
    without a ticket, it lists them all (a select needs one option at least: a stand-in when there are none)."""
    wf = parts.ctx.config.workflow
    found = wf.macros if ticket is None else wf.macros_for(ticket.team)
    options = [discord.SelectOption(label=m.title[:100], value=m.name[:100], description=", ".join(m.steps)[:100])
               for m in found[:SELECT_OPTIONS]] or [discord.SelectOption(label="(no macros)", value="-")]
    return discord.ui.Select(custom_id=custom_id, placeholder="Apply macro…", options=options)
