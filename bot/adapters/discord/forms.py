"""Forms beyond Reply: `/ticket new` (a ticket opened by hand, from a template) and the card's Tags… and Move….

The same forms as Slack's (`bot.adapters.slack.forms`), in Discord's terms: a modal holds
text inputs only here, so the template and whether to mail are options of `/ticket new`
(the template autocompleted), and the team is typed (the placeholder lists them; the core
names the teams again if it is not one). Each form opens only for who may use it: the
core's check runs first, and a refusal is answered privately instead of a form.
"""

from __future__ import annotations

import secrets

import discord
from discord import app_commands

from bot.adapters.discord import answers
from bot.adapters.discord.answers import Answer
from bot.adapters.discord.embeds import cut
from bot.adapters.discord.parts import OUTSIDE_THE_SERVER, DiscordParts
from bot.adapters.discord.replying import answer, deferred
from bot.domain.access import Action
from bot.domain.errors import UserFacingError
from bot.handlers import classify, creation, queries
from bot.handlers.errors import Refused
from bot.handlers.permissions import may, permit

FORM_SECONDS = 2 * 60 * 60  # a form left open this long is forgotten; its submit then does nothing


def modal_id(kind: str, number: int | None = None) -> str:
    """A custom id of its own for each form opened: discord.py finds an open modal by its custom id alone,
    so two agents' forms on one ticket must not share one (the second would replace the first)."""
    return f"tiketti:{kind}-modal:" + (f"{number}:" if number is not None else "") + secrets.token_hex(6)


class NewTicketModal(discord.ui.Modal):
    """Who it is about, the subject, and the text: a call's notes, or with `send` the first mail to them."""

    def __init__(self, parts: DiscordParts, template: str | None, send: bool) -> None:
        super().__init__(title=("Mail as a new ticket" if send else "New ticket")[:45], custom_id=modal_id("new"),
                         timeout=FORM_SECONDS)
        self.parts, self.template, self.send = parts, template, send
        tpl = parts.ctx.config.workflow.template(template) if template else None
        self.requester: discord.ui.TextInput[NewTicketModal] = discord.ui.TextInput(
            label="Customer or supplier email", placeholder="name@example.com", max_length=320,
            custom_id="tiketti:new-requester")
        self.subject: discord.ui.TextInput[NewTicketModal] = discord.ui.TextInput(
            label="Subject", required=tpl is None, max_length=200, default=(tpl.subject if tpl else "")[:200] or None,
            custom_id="tiketti:new-subject")
        asked = " · ".join(tpl.questions) if tpl and tpl.questions else ""
        self.body: discord.ui.TextInput[NewTicketModal] = discord.ui.TextInput(
            label=("The mail to send" if send else "What it is about")[:45], style=discord.TextStyle.paragraph,
            required=send, max_length=4000, custom_id="tiketti:new-body",
            placeholder=cut(f"Ask: {asked}" if asked else "Notes from the call, or what to ask", 100))
        for field in (self.requester, self.subject, self.body):
            self.add_item(field)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        async def work() -> Answer:
            result = await creation.open_ticket(
                self.parts.ctx, self.parts.actor(interaction.user), requester=self.requester.value,
                subject=self.subject.value, body=self.body.value, template=self.template, send=self.send)
            return answers.done(f"✅ {result.summary}", await self.parts.thread_link(result.ticket.number))

        await deferred(interaction, work, "new ticket")


async def open_new_ticket_form(parts: DiscordParts, interaction: discord.Interaction, template: str | None,
                               send: bool) -> None:
    """`/ticket new`: the form, for whoever may open tickets (and mail outside, with `send`)."""
    try:
        await permit(parts.ctx, parts.actor(interaction.user), Action.SEND if send else Action.NEW)
        if template and parts.ctx.config.workflow.template(template) is None:
            names = ", ".join(t.name for t in parts.ctx.config.workflow.templates) or "none are configured"
            raise Refused(f"no template called {template!r} ({names})")
    except UserFacingError as exc:
        await answer(interaction, Answer(f"⚠️ {exc}"))
        return
    await interaction.response.send_modal(NewTicketModal(parts, template, send))


def add_new_command(group: app_commands.Group, parts: DiscordParts) -> None:
    """`/ticket new [template] [send]`: the form; the template autocompleted for who may open tickets."""

    async def templates(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        if interaction.guild_id != parts.guild_id or not await may(parts.ctx, parts.actor(interaction.user), Action.NEW):
            return []  # asked quietly: a keystroke is not an attempt to audit
        typed = current.strip().lower()
        return [app_commands.Choice(name=cut(t.name, 100), value=t.name[:100])
                for t in parts.ctx.config.workflow.templates if typed in t.name.lower()][:25]

    @group.command(name="new", description="Open a ticket by hand (a call), or mail a customer or supplier as one")
    @app_commands.autocomplete(template=templates)
    @app_commands.describe(template="Preset team, priority and questions", send="Mail the text to them now")
    async def new(interaction: discord.Interaction, template: str | None = None, send: bool = False) -> None:
        if interaction.guild_id != parts.guild_id:  # a DM or another server: Discord should not send it at all
            await answer(interaction, Answer(OUTSIDE_THE_SERVER))
            return
        await open_new_ticket_form(parts, interaction, template, send)


class TagsModal(discord.ui.Modal):
    """The ticket's free tags as one line; what was added or left out is applied."""

    def __init__(self, parts: DiscordParts, number: int, current: tuple[str, ...]) -> None:
        super().__init__(title=f"Tags of #{number}"[:45], custom_id=modal_id("tags", number), timeout=FORM_SECONDS)
        self.parts, self.number, self.current = parts, number, set(current)
        self.tags: discord.ui.TextInput[TagsModal] = discord.ui.TextInput(
            label="Tags, separated by spaces or commas", required=False, max_length=1000,
            default=", ".join(sorted(current))[:1000] or None, custom_id="tiketti:tags-text")
        self.add_item(self.tags)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        wanted = {t.strip().lower().lstrip("#") for t in self.tags.value.replace(",", " ").split() if t.strip()}

        async def work() -> Answer:
            who = self.parts.actor(interaction.user)
            current = set((await queries.show(self.parts.ctx, who, self.number)).ticket.tags)
            if wanted == current:
                return answers.text(f"#{self.number}'s tags are unchanged")
            result = await classify.tag(self.parts.ctx, who, self.number, sorted(wanted - current),
                                        sorted(current - wanted))
            return answers.done(result.summary, None)

        await deferred(interaction, work, "tags")


class MoveModal(discord.ui.Modal):
    """The team to hand the ticket to; its thread moves where that team works."""

    def __init__(self, parts: DiscordParts, number: int) -> None:
        super().__init__(title=f"Move #{number}"[:45], custom_id=modal_id("move", number), timeout=FORM_SECONDS)
        self.parts, self.number = parts, number
        teams = ", ".join(t.name for t in parts.ctx.config.workflow.teams)
        self.team: discord.ui.TextInput[MoveModal] = discord.ui.TextInput(
            label="Team", max_length=100, placeholder=cut(f"One of: {teams}", 100), custom_id="tiketti:move-team")
        self.add_item(self.team)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        async def work() -> Answer:
            result = await classify.move_to_team(self.parts.ctx, self.parts.actor(interaction.user), self.number,
                                                 self.team.value.strip())
            return answers.done(result.summary, None)

        await deferred(interaction, work, "move")


async def open_ticket_form(parts: DiscordParts, interaction: discord.Interaction, number: int | None,
                           which: str) -> None:
    """The card's Tags… (`which` "tags") or Move… ("move") form, once the core says the clicker may."""
    who = parts.actor(interaction.user)
    try:
        if number is None:
            raise Refused("this message is not a ticket Tiketti knows")
        await permit(parts.ctx, who, Action.CLASSIFY if which == "tags" else Action.MOVE, number)
        ticket = (await queries.show(parts.ctx, who, number)).ticket
    except UserFacingError as exc:
        await answer(interaction, Answer(f"⚠️ {exc}"))
        return
    modal = TagsModal(parts, number, ticket.tags) if which == "tags" else MoveModal(parts, number)
    await interaction.response.send_modal(modal)
