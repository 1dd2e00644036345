"""Where a ticket is shown on each chat platform: the one rule every publisher follows.

With Slack and Discord both running on one store, each ticket is shown where its
team works. A team works on a platform when it names a channel there (`channel`
for Slack, `discord_channel` for Discord); a team naming a channel on only one of
the platforms in use has its tickets only there. A team naming none (and a ticket
of no team, or of a team no longer in the workflow file) goes to the default
tickets channel of every platform in use. With one platform in use, every ticket
is shown on it, in its team's channel if the team names one there.

Platforms without team channels (a customer's DM thread, "discord-dm") are not
placed by team: their thread rows say where they go.
"""

from __future__ import annotations

from bot.domain.workflow import Team
from bot.handlers.config import HelpdeskConfig

TEAM_PLATFORMS = ("slack", "discord")  # the platforms on which teams name channels


def _in_use(config: HelpdeskConfig, platform: str) -> frozenset[str]:
    """The team platforms in use; the one asking always counts (a test, or a script, may run one alone)."""
    return (config.chat_platforms | {platform}) & frozenset(TEAM_PLATFORMS)


def works_on(config: HelpdeskConfig, team: Team | None, platform: str) -> bool:
    """Whether `team`'s tickets are shown on `platform`."""
    if platform not in TEAM_PLATFORMS or team is None or team.channel_on(platform):
        return True
    return not any(team.channel_on(other) for other in _in_use(config, platform) - {platform})


def channel_for(config: HelpdeskConfig, team_name: str | None, platform: str, default: str) -> str | None:
    """The channel on `platform` that shows a ticket of `team_name`; None: the ticket is not shown there.

    `default` is the platform's own tickets channel (TIKETTI_SLACK_CHANNEL, TIKETTI_DISCORD_CHANNEL).
    """
    team = config.workflow.team(team_name)
    if not works_on(config, team, platform):
        return None
    return (team.channel_on(platform) if team else None) or default


def teams_elsewhere(config: HelpdeskConfig, platform: str) -> tuple[str, ...]:
    """Teams whose tickets `platform` does not show (they work on another platform only)."""
    return tuple(t.name for t in config.workflow.teams if not works_on(config, t, platform))


def platforms_of(config: HelpdeskConfig, team_name: str | None) -> tuple[str, ...]:
    """The platforms in use that show `team_name`'s tickets, for telling people where a ticket went."""
    team = config.workflow.team(team_name)
    in_use = sorted(config.chat_platforms & frozenset(TEAM_PLATFORMS))
    return tuple(p for p in in_use if works_on(config, team, p))
