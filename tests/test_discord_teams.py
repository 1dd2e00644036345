"""Teams in Discord: each team's tickets in its own channel (a forum or a text channel), moves between them.

The real discord.py client runs against the fake Discord, with the default
tickets channel a text channel and the billing team's channel a forum of its
own; the tests read the channels, threads and starters as an agent would.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.adapters.discord import controls
from bot.domain.model import MessageKind
from tests.support.db import Database
from tests.support.discord_bot import ANA, DiscordBot, running_discord_bot
from tests.support.fake_discord import FakeDiscord
from tests.support.mails import messages, raw_mail
from tests.support.slack_bot import eventually

WORKFLOW = """
[[teams]]
name = "support"

[[teams]]
name = "billing"
discord_channel = "{billing}"

[[rules]]
to = ["billing@helpdesk.test"]
team = "billing"
"""


@pytest.fixture
async def bot(database: Database, tmp_path: Path) -> AsyncIterator[DiscordBot]:
    async with FakeDiscord() as fake:
        billing = fake.add_channel("billing", forum=True)
        path = tmp_path / "workflow.toml"
        path.write_text(WORKFLOW.format(billing=billing["id"]))
        async with running_discord_bot(database, tmp_path, fake=fake, workflow_file=path) as b:
            yield b


def billing_forum(bot: DiscordBot) -> dict:
    return next(c for c in bot.discord.channels.values() if c.get("name") == "billing")


def buttons(message: dict) -> list[str]:
    return [c["label"] for row in message["components"] for c in row["components"] if c["type"] == 2]


async def test_a_team_with_a_discord_channel_gets_its_tickets_there_the_rest_the_default_channel(
        bot: DiscordBot) -> None:
    forum, default = billing_forum(bot), bot.discord.tickets_channel
    invoice = await bot.mail(raw_mail(to="billing@helpdesk.test", subject="Invoice copy", body="Send it again."))
    printer = await bot.mail(raw_mail(subject="Printer jam"))
    await bot.settled()
    billing_thread, printer_thread = await bot.thread_of(invoice), await bot.thread_of(printer)
    assert billing_thread["parent_id"] == forum["id"] and printer_thread["parent_id"] == default["id"]
    # The team's forum has tags of its own, applied to its posts.
    tags = {t["name"]: t["id"] for t in forum["available_tags"]}
    assert set(billing_thread["applied_tags"]) == {tags["new"], tags["normal priority"]}
    starter = bot.starter(billing_thread)
    assert starter["embeds"][0]["title"] == f"#{invoice} Invoice copy"
    assert any("Send it again." in m["content"] for m in bot.thread_messages(billing_thread))
    # Buttons, notes and /ticket without a number all work in the team's forum.
    await bot.click(controls.CLAIM, billing_thread, ANA)
    await bot.say(billing_thread["id"], ANA, "customer is on the old plan")
    answer = await bot.slash("priority", ANA, channel=billing_thread, level="high")
    assert "priority" in answer.followups[0]["content"]

    async def noted() -> bool:
        return any(m.kind == MessageKind.NOTE for m in await messages(bot.core, invoice))

    await eventually(noted)
    await bot.settled()
    assert set(billing_thread["applied_tags"]) == {tags["open"], tags["high priority"]}
    assignee = next(f for f in bot.starter(billing_thread)["embeds"][0]["fields"] if f["name"] == "Assignee")
    assert assignee["value"] == f"<@{ANA['id']}>"


async def test_moving_a_ticket_to_another_team_moves_its_thread_with_links_both_ways(bot: DiscordBot) -> None:
    number = await bot.mail(raw_mail(subject="Refund please", body="I was charged twice."))
    await bot.settled()
    old = await bot.thread_of(number)
    assert old["parent_id"] == bot.discord.tickets_channel["id"]
    await bot.say(old["id"], ANA, "checked: double charge")

    async def noted() -> bool:
        return any(m.kind == MessageKind.NOTE for m in await messages(bot.core, number))

    await eventually(noted)
    said = await bot.slash("move", ANA, channel=old, team="billing")
    assert "moved to billing" in said.followups[0]["content"]
    await bot.settled()
    [new] = [t for t in bot.discord.threads() if t["parent_id"] == billing_forum(bot)["id"]]
    assert new["name"].startswith(f"#{number} ")
    shown_new = [m["content"] for m in bot.thread_messages(new)]
    assert any(f"Moved here from an earlier thread: <#{old['id']}>" in s for s in shown_new)
    assert any("charged twice" in s for s in shown_new) and any("double charge" in s for s in shown_new)
    assert buttons(bot.starter(new)) == ["Claim", "Reply", "Close", "Tags…", "Move…"]
    shown_old = [m["content"] for m in bot.thread_messages(old)]
    assert any(f"Moved to billing: continue in <#{new['id']}>" in s for s in shown_old)
    left = bot.starter(old)
    assert left["components"] == [] and any("billing" in f["value"] for f in left["embeds"][0]["fields"])
    # The new thread is the ticket's now: a note typed there lands on it, and later changes show there.
    await bot.click(controls.CLAIM, new, ANA)
    await bot.settled()
    assert "open" in bot.starter(new)["embeds"][0]["fields"][1]["value"]
    assert "new" in bot.starter(old)["embeds"][0]["fields"][1]["value"]  # the old starter stays as it was left
    assert len([t for t in bot.discord.threads() if t["name"].startswith(f"#{number} ")]) == 2
