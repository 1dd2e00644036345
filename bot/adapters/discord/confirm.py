"""Merging two customers' tickets from Discord: asked again with a *Merge anyway* button, as the core requires.

`/ticket merge` is refused with NeedsConfirmation when the two tickets belong to
different customers (`bot.handlers.merge`): one customer's words would show in
the other's ticket. The answer, which the caller alone sees, says so and carries
a *Merge anyway* button whose custom id holds both numbers (`tiketti:merge:12:34`).
It is a DynamicItem registered at every start (as discord.py's docs advise for
state-carrying components), so the button keeps working after a restart and
needs nothing kept in memory.

A click is a merge like any other: the core's permission check runs for whoever
clicked, as themselves. An ephemeral message cannot be shared, but an
interaction carrying its custom id can be made by anyone who sees the server; a
stranger or a light agent gets the same private refusal as from `/ticket merge`.
"""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.adapters.discord import answers
from bot.adapters.discord.answers import Answer
from bot.adapters.discord.embeds import cut
from bot.adapters.discord.replying import clicked_in_our_server, deferred
from bot.handlers import merge
from bot.handlers.merge import NO_CUSTOMER, NeedsConfirmation

MERGE_ANYWAY = "tiketti:merge:{source}:{target}"
_NUMBER = "[1-9][0-9]{0,17}"


class MergeAnyway(discord.ui.DynamicItem[discord.ui.Button[Any]],
                  template=re.compile(f"tiketti:merge:(?P<source>{_NUMBER}):(?P<target>{_NUMBER})")):
    """The *Merge anyway* button: merges `source` into `target` with the confirmation, if the clicker may merge."""

    def __init__(self, source: int, target: int) -> None:
        super().__init__(discord.ui.Button(label="Merge anyway", style=discord.ButtonStyle.danger,
                                           custom_id=MERGE_ANYWAY.format(source=source, target=target)))
        self.source, self.target = source, target

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str]) -> MergeAnyway:
        return cls(int(match["source"]), int(match["target"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        if (parts := await clicked_in_our_server(interaction)) is None:
            return

        async def work() -> Answer:
            result = await merge.merge(parts.ctx, parts.actor(interaction.user), self.source, self.target,
                                       different_customer=True)
            return answers.done(f"✅ {result.summary}", await parts.thread_link(self.target))

        await deferred(interaction, work, "merge anyway")


def merge_question(asked: NeedsConfirmation) -> Answer:
    """The refusal in words, and the button that confirms it (customers masked, as the core words them)."""
    where = (f"replies there still go to {asked.target_customer} only" if asked.target_customer != NO_CUSTOMER
             else "it is an internal ticket that mails nobody")
    text = (f"⚠️ #{asked.source} ({asked.source_customer}) and #{asked.target} ({asked.target_customer}) belong to "
            f"different customers. Merging shows {asked.source_customer}'s conversation in #{asked.target}; {where}. "
            f"Nothing has been merged: press **Merge anyway** to merge, or leave it.")
    view = discord.ui.View(timeout=None)
    view.add_item(MergeAnyway(asked.source, asked.target))
    return Answer(cut(text, 1900), view=view)
