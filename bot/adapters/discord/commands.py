"""`/ticket` as a Discord application command, with the same subcommands as Slack and the console.

Options are typed (a member picker for assign, choices for priority and status,
autocomplete for ticket numbers) and then turned into the shared TicketCommand,
so the vocabulary and its checks stay in `bot.adapters.commands`. Inside a
ticket's thread the number may be left out. Every answer is ephemeral and comes
after a defer, inside Discord's 3-second window however slow the work is.

Who sees it: `/ticket` is registered for our server only (guild context, never
DMs) with default member permissions `Manage Threads`, so Discord hides it from
ordinary members until a server admin grants it to the helpdesk's role
(Server Settings → Integrations). That is only a curtain: admins can open it
to anyone, so every interaction (and every autocomplete) still goes through the
core's permission check with the caller's facts (`DiscordParts.actor`).
"""

from __future__ import annotations

import discord
from discord import app_commands

from bot.adapters.collisions import ReplyHeld
from bot.adapters.commands import TicketCommand
from bot.adapters.discord import actions, canned_choices
from bot.adapters.discord.answers import Answer
from bot.adapters.discord.confirm import merge_question
from bot.adapters.discord.embeds import cut
from bot.adapters.discord.forms import add_new_command
from bot.adapters.discord.parts import OUTSIDE_THE_SERVER, DiscordParts
from bot.adapters.discord.reply_form import held
from bot.adapters.discord.replying import answer, deferred
from bot.domain.access import Action
from bot.domain.priority import Priority
from bot.domain.status import Status
from bot.handlers import queries, search
from bot.handlers.merge import NeedsConfirmation
from bot.handlers.permissions import Denied, may

PRIORITIES = [app_commands.Choice(name=p.value, value=p.value) for p in Priority]
STATUSES = [app_commands.Choice(name=s.label, value=s.value) for s in Status]
Number = app_commands.Range[int, 1]
# Who Discord offers /ticket to until a server admin says otherwise: people who may manage threads, the
# moderators of the tickets forum. Documented in docs/discord.md (Who may use Tiketti on Discord).
DEFAULT_PERMISSIONS = discord.Permissions(manage_threads=True)


def ticket_group(parts: DiscordParts) -> app_commands.Group:
    group = app_commands.Group(
        name="ticket", description="Work helpdesk tickets", guild_only=True,
        allowed_contexts=app_commands.AppCommandContext(guild=True, dm_channel=False, private_channel=False),
        allowed_installs=app_commands.AppInstallationType(guild=True, user=False),
        default_permissions=DEFAULT_PERMISSIONS)

    async def run(interaction: discord.Interaction, verb: str, number: int | None = None, *,
                  assignee: discord.abc.User | None = None, **fields: object) -> None:
        await run_verb(parts, interaction, verb, number, assignee=assignee, **fields)

    async def numbers(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[int]]:
        return await ticket_numbers(parts, interaction, current)

    def simple(verb: str, description: str) -> None:
        """A verb on one ticket (the thread's own when no number is given)."""
        async def callback(interaction: discord.Interaction, number: Number | None = None) -> None:
            await run(interaction, verb, number)
        add(app_commands.Command(name=verb, description=description, callback=callback))

    def bare(verb: str, description: str) -> None:
        """A verb about no one ticket (help, the caller's lists, the next ticket)."""
        async def callback(interaction: discord.Interaction) -> None:
            await run(interaction, verb)
        group.add_command(app_commands.Command(name=verb, description=description, callback=callback))

    def worded(verb: str, description: str, option: str = "text") -> None:
        """A verb whose words are the command's text, under the option name Discord shows (`/ticket move team:`)."""
        async def callback(interaction: discord.Interaction, text: str, number: Number | None = None) -> None:
            await run(interaction, verb, number, text=text)
        add(app_commands.Command(name=verb, description=description,
                                 callback=app_commands.rename(text=option)(callback) if option != "text" else callback))

    def add(command: app_commands.Command[app_commands.Group, ..., None]) -> None:
        command.autocomplete("number")(numbers)
        group.add_command(command)

    for verb, description in (("claim", "Take a ticket yourself"), ("close", "Mark a ticket solved"),
                              ("reopen", "Open a solved ticket again"),
                              ("history", "Who changed what on a ticket, and when")):
        simple(verb, description)
    for verb, description in (("help", "What /ticket can do"), ("mine", "Your active tickets, most urgent first"),
                              ("next", "Take the most urgent unassigned ticket of your teams")):
        bare(verb, description)

    @group.command(name="queue", description="Active tickets nobody has taken, most urgent first; or a saved view")
    @app_commands.describe(view="A saved view of the workflow file (billing-open); words and filters may follow")
    async def queue(interaction: discord.Interaction, view: str | None = None) -> None:
        await run(interaction, "queue", text=(view or "").strip())

    @queue.autocomplete("view")
    async def view_names(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        """The views this person may run; nothing at all (and nothing audited) for whoever may not search."""
        if interaction.guild_id != parts.guild_id:
            return []
        who = parts.actor(interaction.user)
        if not await may(parts.ctx, who, Action.SEARCH):
            return []
        typed = current.strip().lower()
        return [app_commands.Choice(name=name, value=name) for name in search.view_names(parts.ctx, who)
                if typed in name.lower()][:25]

    @group.command(name="show", description="A ticket's details and messages")
    @app_commands.describe(original="The mails as received, quoted history and signatures included")
    @app_commands.autocomplete(number=numbers)
    async def show(interaction: discord.Interaction, number: Number | None = None, original: bool = False) -> None:
        await run(interaction, "show", number, confirmed=original)

    @group.command(name="assign", description="Give a ticket to a colleague")
    @app_commands.autocomplete(number=numbers)
    async def assign(interaction: discord.Interaction, member: discord.Member, number: Number | None = None) -> None:
        await run(interaction, "assign", number, assignee=member)

    async def canned_texts(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return await canned_choices.reply_texts(parts, interaction, current)

    @group.command(name="reply", description="MAIL text to the ticket's customer (:name puts in a canned reply)")
    @app_commands.autocomplete(number=numbers, text=canned_texts)
    async def reply(interaction: discord.Interaction, text: str, number: Number | None = None) -> None:
        await run(interaction, "reply", number, text=text)

    worded("note", "An internal note, never mailed")

    @group.command(name="priority", description="Set a ticket's priority")
    @app_commands.autocomplete(number=numbers)
    @app_commands.choices(level=PRIORITIES)
    async def priority(interaction: discord.Interaction, level: app_commands.Choice[str],
                       number: Number | None = None) -> None:
        await run(interaction, "priority", number, priority=Priority.parse(level.value))

    @group.command(name="status", description="Set a ticket's status")
    @app_commands.autocomplete(number=numbers)
    @app_commands.choices(status=STATUSES)
    async def status(interaction: discord.Interaction, status: app_commands.Choice[str],
                     number: Number | None = None) -> None:
        await run(interaction, "status", number, status=Status(status.value))

    @group.command(name="report", description="The managers' figures: today, week, month or YYYY-MM-DD..YYYY-MM-DD")
    async def report(interaction: discord.Interaction, period: str | None = None, team: str | None = None) -> None:
        await run(interaction, "report", text=" ".join(p for p in (period, team) if p))

    bare("tasks", "Your open tasks")
    worded("category", "Set a ticket's category (billing, complaint, …)", "name")
    worded("tag", "Add (+tag) or remove (-tag) free tags", "tags")
    worded("move", "Hand a ticket to another team", "team")

    @group.command(name="merge", description="This ticket's conversation continues in another; this one closes")
    @app_commands.autocomplete(number=numbers, into=numbers)
    async def merge(interaction: discord.Interaction, into: Number, number: Number | None = None) -> None:
        await run(interaction, "merge", number, other=into)

    @group.command(name="child", description="Split off a child ticket (optionally for another team)")
    @app_commands.autocomplete(number=numbers)
    async def child(interaction: discord.Interaction, subject: str, team: str | None = None,
                    number: Number | None = None) -> None:
        await run(interaction, "child", number, text=f"{team} {subject}" if team else subject)

    worded("task", "A to-do on a ticket; start with 'in 2h' for a reminder when due")

    add_new_command(group, parts)

    @group.command(name="done", description="Mark one of your tasks done")
    async def done(interaction: discord.Interaction, task: Number) -> None:
        await run(interaction, "done", task)

    return group


async def _thread_ticket(parts: DiscordParts, interaction: discord.Interaction) -> int | None:
    """The ticket whose thread the command was typed in, if any (under whichever tickets channel)."""
    if interaction.channel_id is None or interaction.channel_id in parts.ticket_channels():
        return None
    return await parts.ticket_in(interaction.channel_id, getattr(interaction.channel, "parent_id", None))


async def run_verb(parts: DiscordParts, interaction: discord.Interaction, verb: str, number: int | None = None, *,
                   assignee: discord.abc.User | None = None, **fields: object) -> None:
    if interaction.guild_id != parts.guild_id:  # a DM or another server: Discord should not send it at all
        await answer(interaction, Answer(OUTSIDE_THE_SERVER))
        return

    async def work() -> Answer:
        n = number if number or verb == "done" else await _thread_ticket(parts, interaction)
        cmd = TicketCommand(verb, n, **fields)  # type: ignore[arg-type]
        who = parts.actor(assignee) if assignee is not None else None
        try:
            return await actions.execute(parts, parts.actor(interaction.user), cmd, assignee=who)
        except NeedsConfirmation as asked:  # two customers' tickets: ask with a button (confirm.py)
            return merge_question(asked)
        except ReplyHeld as held_reply:  # a colleague answers too: nothing mailed, a button to review
            return held(parts, held_reply.number, held_reply.lines, held_reply.text, interaction.user.id)

    await deferred(interaction, work, f"/ticket {verb}")


async def ticket_numbers(parts: DiscordParts, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[int]]:
    """The caller's tickets and the queue, filtered by what is typed (a number or words of the subject).
    Someone who may not see the queue gets no choices at all: not a subject, not a number, and no
    audit row per keystroke (`may` asks without recording; the command itself is checked by `permit`)."""
    if interaction.guild_id != parts.guild_id:
        return []
    who = parts.actor(interaction.user)
    if not await may(parts.ctx, who, Action.QUEUE):  # asked quietly: a keystroke is not an attempt to audit
        return []
    try:
        found = {t.number: t for t in [*await queries.mine(parts.ctx, who), *await queries.queue(parts.ctx, who)]}
    except Denied:  # their standing changed between the two questions
        return []
    typed = current.strip().lstrip("#").lower()
    return [app_commands.Choice(name=cut(f"#{t.number} {t.subject}", 100), value=t.number)
            for t in sorted(found.values(), key=lambda t: -t.number)
            if not typed or str(t.number).startswith(typed) or typed in t.subject.lower()][:25]
