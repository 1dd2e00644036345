"""A ticket's card on Discord carries what Slack's root carries: Reopen, Assign, Priority, Category, Tags, Move,
and `/ticket new` opens a form, all through the real discord.py client against the fake Discord."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.discord import controls
from tests.support.db import Database
from tests.support.discord_bot import ANA, BEN, DiscordBot, action_of, running_discord_bot
from tests.support.mails import raw_mail
from tests.support.slack_bot import eventually

WORKFLOW = """
categories = ["billing", "technical"]

[[teams]]
name = "support"

[[teams]]
name = "vault"

[[templates]]
name = "Phone call"
subject = "Phoned in"
questions = ["Who called?"]
"""


@pytest.fixture
async def bot(sqlite_database: Database, tmp_path: Path) -> AsyncIterator[DiscordBot]:
    path = tmp_path / "workflow.toml"
    path.write_text(WORKFLOW)
    async with running_discord_bot(sqlite_database, tmp_path, workflow_file=path) as b:
        yield b


def card(bot: DiscordBot, thread: dict[str, Any]) -> str:
    [embed] = bot.starter(thread)["embeds"]
    return "\n".join(f"{f['name']}: {f['value']}" for f in embed.get("fields", []))


def controls_shown(bot: DiscordBot, thread: dict[str, Any]) -> list[str]:
    return [action_of(c["custom_id"]) for row in bot.starter(thread)["components"] for c in row["components"]]


async def test_the_card_assigns_sets_priority_and_category_and_reopens(bot: DiscordBot) -> None:
    number = await bot.mail(raw_mail(subject="Invoice twice"))
    await bot.settled()
    thread = await bot.thread_of(number)
    assert controls_shown(bot, thread) == [controls.CLAIM, controls.REPLY, controls.CLOSE, controls.TAGS,
                                           controls.MOVE, controls.ASSIGN, controls.PRIORITY, controls.CATEGORY]
    assigned = await bot.choose(controls.ASSIGN, thread, ANA, [BEN["id"]])
    assert "Ben Agent" in assigned.followups[0]["content"]
    await bot.choose(controls.PRIORITY, thread, ANA, ["urgent"])
    await bot.choose(controls.CATEGORY, thread, ANA, ["billing"])
    await bot.settled()
    shown = card(bot, thread)
    assert f"<@{BEN['id']}>" in shown and "urgent" in shown
    [category] = [c for row in bot.starter(thread)["components"] for c in row["components"]
                  if action_of(c["custom_id"]) == controls.CATEGORY]
    assert [o["value"] for o in category["options"] if o.get("default")] == ["billing"]  # the card shows the choice
    [assign] = [c for row in bot.starter(thread)["components"] for c in row["components"]
                if action_of(c["custom_id"]) == controls.ASSIGN]
    assert [(str(d["id"]), d["type"]) for d in assign["default_values"]] == [(BEN["id"], "user")]

    await bot.click(controls.CLOSE, thread, ANA)
    await bot.settled()
    assert controls_shown(bot, thread) == [controls.REPLY, controls.REOPEN]
    await bot.click(controls.REOPEN, thread, ANA)
    await bot.settled()
    assert "open" in card(bot, thread) and controls.CLAIM in controls_shown(bot, thread)


async def test_tags_and_move_open_forms_whose_submit_changes_the_ticket(bot: DiscordBot) -> None:
    number = await bot.mail(raw_mail(subject="Refund please"))
    await bot.settled()
    thread = await bot.thread_of(number)
    form = await bot.click(controls.TAGS, thread, ANA)
    assert form.kind == 9
    done = await bot.submit_modal(form, ANA, thread, "VIP, refund")
    assert "tags" in done.followups[0]["content"]
    await bot.settled()
    assert "Tags: refund, vip" in card(bot, thread)
    form = await bot.click(controls.MOVE, thread, ANA)
    assert "support, vault" in form.data["components"][0]["components"][0]["placeholder"]
    nowhere = await bot.submit_modal(form, ANA, thread, "accounting")  # not a team: the core names them
    assert "⚠️" in nowhere.followups[0]["content"] and "vault" in nowhere.followups[0]["content"]
    form = await bot.click(controls.MOVE, thread, ANA)
    moved = await bot.submit_modal(form, ANA, thread, "vault")
    assert "moved to vault" in moved.followups[0]["content"]
    await bot.settled()
    assert "Team: vault" in card(bot, await bot.thread_of(number))


async def test_ticket_new_opens_a_form_that_opens_a_ticket_and_can_mail_it(bot: DiscordBot) -> None:
    offered = await bot.autocomplete("new", ANA, "template", "pho")
    assert [c["value"] for c in offered] == ["Phone call"]
    form = await bot.slash("new", ANA, template="Phone call")
    assert form.kind == 9 and "Who called?" in str(form.data)
    subject = next(c for row in form.data["components"] for c in row["components"]
                   if c["custom_id"] == "tiketti:new-subject")
    assert subject["value"] == "Phoned in"  # the template's subject, ready to keep or change
    opened = await bot.submit_modal(form, ANA, bot.discord.tickets_channel, fields={
        "tiketti:new-requester": "caller@customer.example", "tiketti:new-subject": "Phoned in",
        "tiketti:new-body": "Wants a callback about the VPN."})
    assert "⚠️" not in opened.followups[0]["content"]
    await bot.settled()
    thread = await bot.thread_of(1)
    assert "caller@customer.example" in bot.starter(thread)["embeds"][0]["fields"][0]["value"]
    assert not bot.sink.received  # a call written down mails nobody

    form = await bot.slash("new", ANA, send=True)
    assert form.data["title"] == "Mail as a new ticket"
    await bot.submit_modal(form, ANA, bot.discord.tickets_channel, fields={
        "tiketti:new-requester": "sales@supplier.example", "tiketti:new-subject": "Order 40 toner cartridges",
        "tiketti:new-body": "Please quote for 40 cartridges."})
    await bot.settled()
    [mail] = await eventually(lambda: bot.sink.received)
    assert mail.message["To"].addresses[0].addr_spec == "sales@supplier.example"
    unknown = await bot.slash("new", ANA, template="Nope")
    assert unknown.ephemeral and "no template called 'Nope' (Phone call)" in unknown.data["content"]
