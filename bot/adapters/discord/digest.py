"""The managers' digest and `/ticket report` in Discord: the same figures as Slack, as Markdown.

`report_text` is pure (a Report in, text out). `DigestPoster` posts each
DigestReady to the managers' channel, with the chart PNGs attached to the message.
"""

from __future__ import annotations

import io
import logging

import discord

from bot.adapters.discord.answers import Answer, fitted
from bot.adapters.discord.embeds import cut
from bot.adapters.discord.parts import DiscordParts
from bot.adapters.formatting import duration, period_text
from bot.domain.time_spent import spent_text
from bot.handlers.context import Actor
from bot.handlers.events import DigestReady
from bot.handlers.figures import Report
from bot.handlers.reports import parse_period, report_for

log = logging.getLogger(__name__)

MEDALS = ["🥇", "🥈", "🥉"] + ["👏"] * 7


def _listing(pairs: list[tuple[str, int]], limit: int = 8) -> str:
    return ", ".join(f"{cut(k, 40)} {n}" for k, n in pairs[:limit]) or "none"


def _spent(pairs: list[tuple[str, int]], limit: int = 5) -> str:
    return ", ".join(f"{cut(k or 'internal', 40)} {spent_text(n)}" for k, n in pairs[:limit]) or "none"


def report_text(r: Report, title: str, links: dict[int, str] | None = None) -> str:
    links = links or {}
    sla = "no SLA tickets" if r.sla_compliance is None else f"{r.sla_compliance:.0%} of {r.sla_solved} met"
    lines = [
        f"**{title} · {period_text(r)}**",
        f"**New** {r.new} · **Solved** {r.solved} · **Reopened** {r.reopened} · **Merged** {r.merged} · **Backlog** {r.backlog}",
        f"**First response** median {duration(r.first_response.median)}, 90% within {duration(r.first_response.p90)}",
        f"**Resolution** median {duration(r.resolution.median)}, 90% within {duration(r.resolution.p90)}",
        f"**SLA** {sla} · **breached now** {r.breaches_now}",
        f"**By category** {_listing(r.by_category)} · **by team** {_listing(r.by_team)}",
        f"Busiest hours ({r.tz}): {', '.join(f'{h:02d}:00' for h in r.busiest_hours) or '–'} · "
        f"busiest days: {', '.join(r.busiest_weekdays) or '–'}",
    ]
    if r.time_spent.by_agent:
        t = r.time_spent
        lines += [f"**Time spent** {spent_text(t.total)} · **by agent** {_spent(t.by_agent)}",
                  f"**By organisation** {_spent(t.by_organisation)} · **by customer** {_spent(t.by_customer)} · "
                  f"**by team** {_spent(t.by_team)}"]
    if r.leaderboard:
        lines.append("**Thank you, team!**")
        lines += [f"{medal} **{cut(a.name, 60)}** solved {a.solved}, first reply {duration(a.median_first_response)}"
                  for medal, a in zip(MEDALS, r.leaderboard[:10], strict=False)]
    if r.oldest:
        lines.append("**Oldest open**")
        for o in r.oldest:
            where = links.get(o.number, f"#{o.number}")
            lines.append(f"{where} {cut(o.subject, 80)} — since <t:{int(o.created_at.timestamp())}:d>, "
                         f"{cut(o.assignee, 40) if o.assignee else 'unassigned'}")
    return "\n".join(lines)


async def _links(r: Report, parts: DiscordParts) -> dict[int, str]:
    return {o.number: link for o in r.oldest if (link := await parts.thread_link(o.number))}


async def report_answer(parts: DiscordParts, actor: Actor, text: str) -> Answer:
    """`/ticket report [today|week|month|from..to] [team]`, for the caller alone."""
    tz = parts.ctx.config.timezone
    start, end, team = parse_period(text, parts.ctx.clock(), tz)
    r = await report_for(parts.ctx, actor, start, end, team, tz)
    return fitted(report_text(r, "Report", await _links(r, parts)), "report.txt")


class DigestPoster:
    """Posts each DigestReady to the managers' channel; without one the digest is not posted on Discord."""

    def __init__(self, parts: DiscordParts, channel_id: int | None) -> None:
        self.parts, self.channel_id = parts, channel_id

    def subscribe(self) -> None:
        self.parts.ctx.bus.subscribe(DigestReady, self.on_digest)

    async def on_digest(self, event: DigestReady) -> None:
        if self.channel_id is None:
            return
        r = event.report
        text = cut(report_text(r, "Daily digest", await _links(r, self.parts)), 2000)
        files = [discord.File(io.BytesIO(c.png), filename=c.filename, description=cut(c.title, 1000))
                 for c in event.charts[:10]]
        channel = self.parts.client.get_partial_messageable(self.channel_id)
        try:
            await channel.send(text, files=files)
        except discord.HTTPException as exc:
            log.warning("discord: the digest was not posted: %s", exc)
