"""A macro applied from a ticket's root, over the wire: Slack's Macro select (signed block_actions into the
bot, the fake Slack API answering) and Discord's (real discord.py against the fake Discord), on SQLite and
PostgreSQL. The root offers the macros of the ticket's team by title; the pick makes the changes, re-renders
the root, mails the canned reply once, and tells the picker alone what was done.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.adapters.discord import controls
from bot.adapters.slack import ticket_blocks
from bot.domain.priority import Priority
from bot.domain.status import Status
from tests.support.db import Database
from tests.support.discord_bot import BEN, EVA, roster_discord_bot
from tests.support.mails import raw_mail, ticket
from tests.support.slack_bot import eventually, running_bot

MACROS = """
[[macros]]
name = "refund-approved"
title = "Refund approved"
status = "solved"
priority = "high"
tags = ["+refund"]
reply = "refund-done"
teams = ["billing"]

[[macros]]
name = "vault-only"
title = "Vault housekeeping"
tags = ["+vault"]
teams = ["vault"]
"""
# More macros than either platform shows in one select (Slack 100 options, Discord 25): the root keeps to
# the limit (the fakes refuse more) and the first ones, in the file's order, are offered.
EXTRA = "".join(f'\n[[macros]]\nname = "extra-{i}"\ntags = ["+extra{i}"]\n' for i in range(120))
REFUND_DONE = "---\ntitle: Refund done\n---\nHi {{ customer.first_name }}, your refund for #{{ ticket.number }} is on its way.\n"


def _replies(tmp_path: Path) -> Path:
    folder = tmp_path / "replies"
    folder.mkdir(exist_ok=True)
    (folder / "refund-done.md").write_text(REFUND_DONE)
    return folder


def _macro_select(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    return next(e for b in blocks if b.get("type") == "actions" for e in b["elements"]
                if e.get("action_id") == ticket_blocks.MACRO)


async def test_slack_root_macro_select_applies_the_macro(database: Database, tmp_path: Path) -> None:
    path = tmp_path / "workflow.toml"
    path.write_text('default_team = "billing"\n\n[[teams]]\nname = "billing"\n\n[[teams]]\nname = "vault"\n' + MACROS + EXTRA)
    async with running_bot(database, tmp_path, workflow_file=path, replies_dir=_replies(tmp_path),
                           undo_seconds=0) as bot:
        n = await bot.mail(raw_mail(frm="Mia Customer <mia@customer.example>", subject="Charged twice"))
        await bot.settled()
        root = await bot.root_of(n)
        select = _macro_select(root.blocks)
        assert select["type"] == "static_select"
        shown = [(o["text"]["text"], o["value"]) for o in select["options"]]
        assert len(shown) == 100 and shown[:2] == [("Refund approved", "refund-approved"), ("extra-0", "extra-0")]
        assert "vault-only" not in str(shown), "a macro for another team's tickets is not offered"

        reply = await bot.send(bot.requests.select_option(root.payload(), ticket_blocks.MACRO, "refund-approved",
                                                          user="U0ANA"))
        assert reply.status == 200
        await bot.settled()

        t = await ticket(bot.core, n)
        assert t is not None and (t.status, t.priority, t.tags) == (Status.SOLVED, Priority.HIGH, ["refund"])
        told = await eventually(lambda: [e for e in bot.slack.ephemeral if e["user"] == "U0ANA"])
        assert "macro Refund approved" in told[-1]["text"] and "reply sent to mia@customer.example" in told[-1]["text"]
        mailed = [r for r in bot.sink.received if "your refund for" in r.message.get_body().get_content()]
        assert len(mailed) == 1 and mailed[0].rcpt_tos == ("mia@customer.example",)
        shown = bot.root_text(root)  # re-rendered from the store
        assert ":white_check_mark: solved" in shown and "*Tags*\nrefund" in shown and "high" in shown
        assert ticket_blocks.MACRO not in str(bot.slack.message(root.channel, root.ts).blocks), \
            "a solved ticket's root offers no macros"


async def test_discord_card_macro_select_applies_the_macro(database: Database, tmp_path: Path) -> None:
    workflow = ('default_team = "billing"\n\n[[teams]]\nname = "billing"\nmembers = ["{helpdesk}"]\n\n'
                '[[teams]]\nname = "vault"\n\n[roles]\nlight = ["{lee}"]\n' + MACROS + EXTRA)
    async with roster_discord_bot(database, tmp_path, workflow=workflow, replies_dir=_replies(tmp_path),
                                  undo_seconds=0) as bot:
        n = await bot.mail(raw_mail(frm="Mia Customer <mia@customer.example>", subject="Charged twice"))
        await bot.settled()
        thread = await bot.thread_of(n)
        card = bot.starter(thread)
        [select] = [c for row in card["components"] for c in row["components"]
                    if c.get("custom_id") == controls.card_id(controls.Control.MACRO, n)]
        shown = [(o["label"], o["value"]) for o in select["options"]]
        assert len(shown) == 25 and shown[:2] == [("Refund approved", "refund-approved"), ("extra-0", "extra-0")]
        assert "vault-only" not in str(shown), "a macro for another team's tickets is not offered"

        assert [c["value"] for c in await bot.autocomplete("macro", BEN, "name", "ref")] == ["refund-approved"]
        assert await bot.autocomplete("macro", EVA, "name", "") == [], "a stranger is offered nothing"

        answer = await bot.choose(controls.MACRO, thread, BEN, ["refund-approved"])
        said = answer.followups[0]["content"] if answer.kind == 5 else answer.data.get("content", "")
        assert "macro Refund approved" in said and "reply sent to mia@customer.example" in said
        await bot.settled()
        t = await ticket(bot.core, n)
        assert t is not None and (t.status, t.priority, t.tags) == (Status.SOLVED, Priority.HIGH, ["refund"])
        assert len([r for r in bot.sink.received if "your refund for" in r.message.get_body().get_content()]) == 1
