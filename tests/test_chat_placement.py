"""Slack and Discord at once on one store: each ticket is shown where its team works.

The rule itself (`bot.handlers.placement`) is checked as a pure function; then
the whole bot runs with both adapters against the fake Slack and the fake
Discord, and the tests read both as agents would: which channel shows which
ticket, and what a move to a team on the other platform leaves behind.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.domain.workflow import parse_workflow
from bot.handlers.config import HelpdeskConfig
from bot.handlers.placement import channel_for, platforms_of, teams_elsewhere
from tests.support.db import Database
from tests.support.discord_bot import ANA, DiscordBot, running_discord_bot
from tests.support.fake_discord import FakeDiscord
from tests.support.fake_slack import FakeSlack
from tests.support.mails import raw_mail
from tests.support.slack_bot import CHANNEL, SECRET, TOKEN, block_text, fake_slack

TEAMS = """
[[teams]]
name = "slack-team"
channel = "C0SLACKTEAM"

[[teams]]
name = "discord-team"
discord_channel = "{discord_team}"

[[teams]]
name = "everywhere"
channel = "C0EVERYWHERE"
discord_channel = "{everywhere}"

[[teams]]
name = "support"

[[rules]]
to = ["slack@helpdesk.test"]
team = "slack-team"

[[rules]]
to = ["discord@helpdesk.test"]
team = "discord-team"
"""


def config(platforms: set[str]) -> HelpdeskConfig:
    import tomllib

    workflow = parse_workflow(tomllib.loads(TEAMS.format(discord_team="111", everywhere="222")))
    return HelpdeskConfig("support@helpdesk.test", workflow=workflow, chat_platforms=frozenset(platforms))


def test_with_both_platforms_a_team_is_shown_only_where_it_names_a_channel() -> None:
    both = config({"slack", "discord"})
    assert channel_for(both, "slack-team", "slack", "C0DEFAULT") == "C0SLACKTEAM"
    assert channel_for(both, "slack-team", "discord", "999") is None
    assert channel_for(both, "discord-team", "discord", "999") == "111"
    assert channel_for(both, "discord-team", "slack", "C0DEFAULT") is None
    assert channel_for(both, "everywhere", "slack", "C0DEFAULT") == "C0EVERYWHERE"
    assert channel_for(both, "everywhere", "discord", "999") == "222"
    for team in ("support", None, "a team since removed"):
        assert channel_for(both, team, "slack", "C0DEFAULT") == "C0DEFAULT"
        assert channel_for(both, team, "discord", "999") == "999"
    assert teams_elsewhere(both, "discord") == ("slack-team",)
    assert teams_elsewhere(both, "slack") == ("discord-team",)
    assert platforms_of(both, "slack-team") == ("slack",) and platforms_of(both, None) == ("discord", "slack")


def test_with_one_platform_every_ticket_is_shown_on_it() -> None:
    for platform, default in (("slack", "C0DEFAULT"), ("discord", "999")):
        alone = config({platform})
        assert teams_elsewhere(alone, platform) == ()
        assert channel_for(alone, "slack-team", platform, default) == ("C0SLACKTEAM" if platform == "slack" else default)
        assert channel_for(alone, "discord-team", platform, default) == ("111" if platform == "discord" else default)
    assert teams_elsewhere(config(set()), "discord") == ()  # a publisher run alone (tests, scripts)
    assert channel_for(config(set()), "discord-team", "discord-dm", "") == ""  # DM threads are not placed by team


def test_discord_channel_is_read_from_the_workflow_file_as_an_id() -> None:
    import tomllib

    from bot.domain.workflow import WorkflowError

    example = tomllib.loads((Path(__file__).parent.parent / "config" / "workflow.example.toml").read_text())
    support = parse_workflow(example).require_team("support")
    assert support.discord_channel == "1234567890123456782" and support.channel == "C0SUPPORT"
    as_number = parse_workflow({"teams": [{"name": "a", "discord_channel": 1234567890123456782}]})
    assert as_number.require_team("a").discord_channel == "1234567890123456782"
    with pytest.raises(WorkflowError, match=r"teams\[0\].discord_channel must be a Discord channel id"):
        parse_workflow({"teams": [{"name": "a", "discord_channel": "#billing"}]})


@asynccontextmanager
async def both_running(db: Database, tmp_path: Path) -> AsyncIterator[tuple[DiscordBot, FakeSlack]]:
    """The whole bot with Slack and Discord adapters on one store."""
    async with fake_slack() as slack, FakeDiscord() as fake:
        discord_team, everywhere = fake.add_channel("discord-team"), fake.add_channel("everywhere", forum=True)
        path = tmp_path / "workflow.toml"
        path.write_text(TEAMS.format(discord_team=discord_team["id"], everywhere=everywhere["id"]))
        async with running_discord_bot(db, tmp_path, fake=fake, workflow_file=path, slack_bot_token=TOKEN,
                                       slack_signing_secret=SECRET, slack_api_url=slack.base_url,
                                       slack_channel=CHANNEL) as bot:
            assert bot.runtime.slack is not None
            bot.runtime.slack.api.retry_base = 0.01
            yield bot, slack


async def settled(bot: DiscordBot) -> None:
    slack = bot.runtime.slack
    assert slack is not None
    for _ in range(2):
        await bot.settled()
        await slack.parts.backlog.idle()
        await slack.publisher.sweep()
        await slack.publisher.drained()


def slack_roots(slack: FakeSlack) -> dict[str, list[str]]:
    """Every Slack channel's roots, as '#N subject' (what the channel shows)."""
    shown: dict[str, list[str]] = {}
    for m in sorted(slack.messages.values(), key=lambda m: m.ts):
        if not m.thread_ts:
            shown.setdefault(m.channel, []).append(m.text.split(" —")[0])
    return shown


def discord_threads(bot: DiscordBot) -> dict[str, list[str]]:
    """Every Discord tickets channel's threads, by channel name."""
    shown: dict[str, list[str]] = {}
    for t in bot.discord.threads():
        shown.setdefault(bot.discord.channels[int(t["parent_id"])]["name"], []).append(t["name"])
    return shown


async def test_each_ticket_is_shown_where_its_team_works(database: Database, tmp_path: Path) -> None:
    async with both_running(database, tmp_path) as (bot, slack):
        s = await bot.mail(raw_mail(to="slack@helpdesk.test", subject="Slack side"))
        d = await bot.mail(raw_mail(to="discord@helpdesk.test", subject="Discord side"))
        n = await bot.mail(raw_mail(subject="No team"))
        await settled(bot)
        assert slack_roots(slack) == {"C0SLACKTEAM": [f"#{s} Slack side"], CHANNEL: [f"#{n} No team"]}
        assert discord_threads(bot) == {"discord-team": [f"#{d} Discord side"], "tickets": [f"#{n} No team"]}
        # A restart's catch-up (a sweep over every ticket) posts nothing more on either side.
        await bot.runtime.discord.publisher.queue.sweep()  # type: ignore[union-attr]
        await settled(bot)
        assert len(bot.discord.threads()) == 2 and sum(map(len, slack_roots(slack).values())) == 2


async def test_a_move_to_a_team_on_the_other_platform_leaves_a_note_behind(database: Database,
                                                                           tmp_path: Path) -> None:
    async with both_running(database, tmp_path) as (bot, slack):
        d = await bot.mail(raw_mail(to="discord@helpdesk.test", subject="Discord side", body="Started in Discord."))
        n = await bot.mail(raw_mail(subject="No team"))
        await settled(bot)
        d_thread, n_thread = await bot.thread_of(d), await bot.thread_of(n)
        # Discord only -> Slack only: the Discord thread says where it went; Slack shows the ticket from now on.
        await bot.slash("move", ANA, channel=d_thread, team="slack-team")
        await settled(bot)
        last = bot.thread_messages(d_thread)[-1]["content"]
        assert "Moved to slack-team (in Slack): this thread is no longer updated." in last
        assert bot.starter(d_thread)["components"] == []
        [root] = slack.roots("C0SLACKTEAM")
        assert root.text.startswith(f"#{d} Discord side")
        assert any("Started in Discord." in block_text(m.blocks) for m in slack.thread("C0SLACKTEAM", root.ts))
        # Later changes stay in Slack: nothing more is posted in the Discord thread, no new thread opens.
        shown = len(bot.thread_messages(d_thread))
        await bot.slash("priority", ANA, number=d, level="urgent")
        await settled(bot)
        assert len(bot.thread_messages(d_thread)) == shown and len(bot.discord.threads()) == 2
        # Both platforms -> a team working in Discord and Slack: each platform moves its own thread.
        await bot.slash("move", ANA, channel=n_thread, team="everywhere")
        await settled(bot)
        assert [r.text.split(" —")[0] for r in slack.roots("C0EVERYWHERE")] == [f"#{n} No team"]
        assert discord_threads(bot)["everywhere"] == [f"#{n} No team"]
        # Both platforms -> Discord only: the Slack root is left with a note, Discord moves the thread again.
        await bot.slash("move", ANA, number=n, team="discord-team")
        await settled(bot)
        [old_slack] = slack.roots("C0EVERYWHERE")
        assert "Moved to discord-team (in Discord): this thread is no longer updated" in block_text(
            slack.message("C0EVERYWHERE", old_slack.ts).blocks)
        assert f"#{n} No team" in discord_threads(bot)["discord-team"]
