"""`/helpdesk kb` on Discord: the shared answer and, typed in a ticket's thread, a button per article that opens
that ticket's Reply form with the article already in it (its title and link, or its text), to read and edit.

Typing `:kb:slug` or `:kb-text:slug` in any reply does the same everywhere; the buttons save the typing where
Discord knows the ticket (a slash command typed in a thread says which). The buttons live in memory with the
answer (as *Review and send* does) and work for whoever asked; after a restart, the typed tokens still do.
"""

from __future__ import annotations

import dataclasses

import discord

from bot.adapters.commands import TicketCommand
from bot.adapters.discord.actions import execute
from bot.adapters.discord.answers import Answer
from bot.adapters.discord.commands import _thread_ticket
from bot.adapters.discord.embeds import cut
from bot.adapters.discord.parts import OUTSIDE_THE_SERVER, DiscordParts
from bot.adapters.discord.reply_form import REPLY_CHARS, REVIEW_SECONDS, open_reply_form
from bot.adapters.discord.replying import answer, deferred
from bot.domain.errors import UserFacingError
from bot.handlers import kb

MAX_ARTICLES = 5  # Discord shows at most 25 buttons under a message; five articles' two fit in two rows


async def run_kb(parts: DiscordParts, interaction: discord.Interaction, words: str) -> None:
    if interaction.guild_id != parts.guild_id:  # a DM or another server: Discord should not send it at all
        await answer(interaction, Answer(OUTSIDE_THE_SERVER))
        return

    async def work() -> Answer:
        actor = parts.actor(interaction.user)
        number = await _thread_ticket(parts, interaction)
        said = await execute(parts, actor, TicketCommand("kb", number, text=words))
        if number is None:
            return said
        hits = await kb.search_articles(parts.ctx, actor, words, limit=MAX_ARTICLES)
        return dataclasses.replace(said, view=ArticleButtons(parts, number, hits, interaction.user.id)) if hits else said

    await deferred(interaction, work, "/helpdesk kb")


class ArticleButtons(discord.ui.View):
    def __init__(self, parts: DiscordParts, number: int, hits: list[kb.ArticleHit], user_id: int) -> None:
        super().__init__(timeout=REVIEW_SECONDS)
        self.parts, self.number, self.user_id = parts, number, user_id
        for hit in hits[:MAX_ARTICLES]:
            if hit.url:
                self.add_item(InsertButton(hit, as_text=False))
            self.add_item(InsertButton(hit, as_text=True))

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id != self.user_id:
            await answer(interaction, Answer("⚠️ these buttons are a colleague's; /helpdesk kb in the thread gives you yours"))
            return False
        return True


class InsertButton(discord.ui.Button[ArticleButtons]):
    def __init__(self, hit: kb.ArticleHit, *, as_text: bool) -> None:
        self.slug, self.as_text = hit.slug, as_text
        label = f"Reply with {'text' if as_text else 'link'}: {hit.title}"
        super().__init__(label=cut(label, 80), style=discord.ButtonStyle.secondary)

    async def callback(self, interaction: discord.Interaction) -> None:
        view = self.view
        assert view is not None
        try:
            text = await kb.insert_article(view.parts.ctx, view.parts.actor(interaction.user), self.slug,
                                           as_text=self.as_text)
        except UserFacingError as exc:  # the article went away since the answer
            await answer(interaction, Answer(f"⚠️ {exc}"))
            return
        if len(text) > REPLY_CHARS:  # more than the form holds: the token, which the reply expands when sent
            text = f":kb-text:{self.slug}"
        await open_reply_form(view.parts, interaction, view.number, text=text)
