"""`/helpdesk …` on Discord: the agent's toolkit verbs of the shared grammar (search, kb, replies, macros, time, ask, undo).

Why a second command: Discord allows at most 25 subcommands in one command
(https://discord.com/developers/docs/interactions/application-commands#subcommands-and-subcommand-groups:
"a command can have up to 25 subcommands"; discord.py refuses a 26th), and `/ticket` holds the 24 verbs
that work a ticket. The toolkit's verbs keep their words and checks (bot.adapters.commands) and run through
the same `run_verb` as `/ticket`, so permissions, the thread's own ticket and the ephemeral answer are the same.
"""

from __future__ import annotations

import discord
from discord import app_commands

from bot.adapters.discord import canned_choices, kb_buttons
from bot.adapters.discord.commands import DEFAULT_PERMISSIONS, Number, run_verb, ticket_numbers
from bot.adapters.discord.embeds import cut
from bot.adapters.discord.parts import DiscordParts
from bot.adapters.toolkit.experts import WITH_MESSAGE
from bot.handlers import macros as handler_macros

NAME = "helpdesk"
# The toolkit's verbs on Discord; tests/test_parity.py holds /ticket and /helpdesk together to the shared grammar.
VERBS = ("search", "kb", "replies", "macros", "macro", "time", "ask", "undo")


def toolkit_group(parts: DiscordParts) -> app_commands.Group:
    group = app_commands.Group(
        name=NAME, description="Find tickets and articles, answer faster, log time, ask outside experts",
        guild_only=True,
        allowed_contexts=app_commands.AppCommandContext(guild=True, dm_channel=False, private_channel=False),
        allowed_installs=app_commands.AppInstallationType(guild=True, user=False),
        default_permissions=DEFAULT_PERMISSIONS)

    async def numbers(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[int]]:
        return await ticket_numbers(parts, interaction, current)

    @group.command(name="search", description="Find tickets: words and filters (status:open team:billing tag:vip …)")
    async def search(interaction: discord.Interaction, query: str) -> None:
        await run_verb(parts, interaction, "search", text=query)

    @group.command(name="kb", description="Search the knowledge base")
    async def kb(interaction: discord.Interaction, words: str) -> None:
        await kb_buttons.run_kb(parts, interaction, words)  # run_verb's answer, and Reply buttons in a ticket's thread

    async def canned_names(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return await canned_choices.reply_names(parts, interaction, current)

    @group.command(name="replies", description="Canned replies (send one with /ticket reply text::name)")
    @app_commands.autocomplete(words=canned_names)
    async def replies(interaction: discord.Interaction, words: str | None = None) -> None:
        await run_verb(parts, interaction, "replies", text=words or "")

    @group.command(name="macros", description="The macros you may apply")
    async def macros(interaction: discord.Interaction) -> None:
        await run_verb(parts, interaction, "macros")

    async def macro_names(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        """The macros the caller may apply, by title, filtered by what is typed; nothing for who may not."""
        if interaction.guild_id != parts.guild_id:
            return []
        typed = current.strip().lower()
        return [app_commands.Choice(name=cut(f"{m.title} ({m.name})", 100), value=m.name[:100])
                for m in await handler_macros.offered(parts.ctx, parts.actor(interaction.user))
                if typed in m.name.lower() or typed in m.title.lower()][:25]  # Discord shows at most 25 choices

    @group.command(name="macro", description="Apply a macro: several changes (and a reply) in one step")
    @app_commands.autocomplete(number=numbers, name=macro_names)
    async def macro(interaction: discord.Interaction, name: str, number: Number | None = None) -> None:
        await run_verb(parts, interaction, "macro", number, text=name)

    @group.command(name="time", description="Log time spent on a ticket (25m, 1h30m)")
    @app_commands.autocomplete(number=numbers)
    async def time(interaction: discord.Interaction, spent: str, what: str | None = None,
                   number: Number | None = None) -> None:
        # `spent` is one option: its words are one duration ("1 h 30" is 90 minutes), never the note's
        await run_verb(parts, interaction, "time", number, text=f"{''.join(spent.split())} {what or ''}".strip())

    @group.command(name="ask", description="MAIL an outside expert; the answer lands in the thread as a note")
    @app_commands.autocomplete(number=numbers)
    @app_commands.describe(with_customer_message="Quote the customer's last message to the expert")
    async def ask(interaction: discord.Interaction, expert: str, question: str, number: Number | None = None,
                  with_customer_message: bool = False) -> None:
        flag = f" {WITH_MESSAGE}" if with_customer_message else ""
        await run_verb(parts, interaction, "ask", number, text=f"{expert}{flag} | {question}")

    @group.command(name="undo", description="Take back your reply while it is held, before it is mailed")
    @app_commands.autocomplete(number=numbers)
    async def undo(interaction: discord.Interaction, number: Number | None = None) -> None:
        await run_verb(parts, interaction, "undo", number)

    return group
