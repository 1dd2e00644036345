"""The managers' digest in Slack: figures as Block Kit, charts as PNG files beside them.

`report_blocks` is pure (a Report in, blocks out) and serves both the morning
digest and `/ticket report`; `DigestPoster` posts it to the managers' channel
and uploads the charts into its thread with files.uploadV2.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.adapters.formatting import duration, period_text
from bot.adapters.slack.client import SlackApi, SlackPostFailed
from bot.adapters.slack.limits import MAX_BLOCKS, MAX_SECTION_TEXT, mrkdwn_line
from bot.adapters.slack.ticket_blocks import context, plain, section
from bot.domain.time_spent import spent_text
from bot.handlers.bus import EventBus
from bot.handlers.context import Actor
from bot.handlers.events import DigestReady
from bot.handlers.figures import Report
from bot.handlers.reports import parse_period, report_for

log = logging.getLogger(__name__)

Links = Callable[[int], Awaitable[str | None]]


def _listing(pairs: list[tuple[str, int]], limit: int = 8) -> str:
    return ", ".join(f"{mrkdwn_line(k, 40)} {n}" for k, n in pairs[:limit]) or "none"


def _spent(pairs: list[tuple[str, int]], limit: int = 5) -> str:
    """'Ana 1 h 25 min, Ben 40 min'; internal tickets (no customer) as such."""
    return ", ".join(f"{mrkdwn_line(k or 'internal', 40)} {spent_text(n)}" for k, n in pairs[:limit]) or "none"


def report_blocks(r: Report, title: str, links: dict[int, str] | None = None) -> list[dict[str, Any]]:
    """The figures a manager reads in a minute, within Slack's limits (few blocks, each section cut)."""
    links = links or {}
    sla = "no SLA tickets" if r.sla_compliance is None else f"{r.sla_compliance:.0%} of {r.sla_solved} met"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": plain(f"{title} · {period_text(r)}", 150)},
        section(f"*New* {r.new}   *Solved* {r.solved}   *Reopened* {r.reopened}   *Merged* {r.merged}   *Backlog* {r.backlog}"),
        section(f"*First response* median {duration(r.first_response.median)}, 90% within "
                f"{duration(r.first_response.p90)}\n*Resolution* median {duration(r.resolution.median)}, "
                f"90% within {duration(r.resolution.p90)}\n*SLA* {sla} · *breached now* {r.breaches_now}"),
        section(f"*By category* {_listing(r.by_category)}\n*By team* {_listing(r.by_team)}"),
    ]
    if r.time_spent.by_agent:
        t = r.time_spent
        blocks.append(section((f"*Time spent* {spent_text(t.total)}\n*By agent* {_spent(t.by_agent)}\n"
                               f"*By organisation* {_spent(t.by_organisation)}\n*By customer* {_spent(t.by_customer)}\n"
                               f"*By team* {_spent(t.by_team)}")[:MAX_SECTION_TEXT]))
    hours = ", ".join(f"{h:02d}:00" for h in r.busiest_hours) or "–"
    days = ", ".join(r.busiest_weekdays) or "–"
    blocks.append(context(f"Busiest hours ({r.tz}): {hours} · busiest days: {days}"))
    if r.leaderboard:
        lines = [f"{medal} *{mrkdwn_line(a.name, 60)}* solved {a.solved}, first reply {duration(a.median_first_response)}"
                 for medal, a in zip([":first_place_medal:", ":second_place_medal:", ":third_place_medal:"]
                                     + [":clap:"] * 7, r.leaderboard[:10], strict=False)]
        blocks.append(section(("*Thank you, team!*\n" + "\n".join(lines))[:MAX_SECTION_TEXT]))
    if r.oldest:
        lines = []
        for o in r.oldest:
            number = f"<{links[o.number]}|#{o.number}>" if o.number in links else f"#{o.number}"
            who = mrkdwn_line(o.assignee, 40) if o.assignee else "unassigned"
            lines.append(f"{number} {mrkdwn_line(o.subject, 80)} — since {o.created_at:%Y-%m-%d %H:%M} UTC, {who}")
        blocks.append(section(("*Oldest open*\n" + "\n".join(lines))[:MAX_SECTION_TEXT]))
    return blocks[:MAX_BLOCKS]


def report_text(r: Report, title: str) -> str:
    """The notification line (and what screen readers announce)."""
    return f"{title} {period_text(r)}: {r.new} new, {r.solved} solved, backlog {r.backlog}"


async def oldest_links(r: Report, link: Links) -> dict[int, str]:
    found = {}
    for o in r.oldest:
        if url := await link(o.number):
            found[o.number] = url
    return found


class DigestPoster:
    """Posts each DigestReady to the managers' channel; without a channel the digest is skipped."""

    def __init__(self, api: SlackApi, channel: str | None, link: Links) -> None:
        self.api = api
        self.channel = channel
        self.link = link

    def subscribe(self, bus: EventBus) -> None:
        bus.subscribe(DigestReady, self.on_digest)

    async def on_digest(self, event: DigestReady) -> None:
        if not self.channel:
            log.info("slack: no managers' channel set; the digest is not posted")
            return
        r = event.report
        message = {"text": report_text(r, "Daily digest"),
                   "blocks": report_blocks(r, "Daily digest", await oldest_links(r, self.link))}
        key = f"digest-{r.start.isoformat()}-{r.team or ''}"
        try:
            ts = await self.api.post_once(self.channel, message, key=key, maybe_posted=True)
        except SlackPostFailed as exc:
            log.warning("slack: the digest was not posted: %s", exc)
            return
        if not event.charts:
            return
        try:
            await self.api.api.files_upload_v2(
                channel=self.channel, thread_ts=ts,
                file_uploads=[{"content": c.png, "filename": c.filename, "title": c.title} for c in event.charts])
        except SlackApiError as exc:  # the figures are posted; the charts are a nicety
            log.warning("slack: uploading the digest's charts failed: %s", exc.response.get("error"))


async def report_answer(parts: Any, actor: Actor, text: str) -> dict[str, Any]:
    """`/ticket report …`: the digest's figures for the asked period, for the caller alone."""
    tz = parts.ctx.config.timezone
    start, end, team = parse_period(text, parts.ctx.clock(), tz)
    r = await report_for(parts.ctx, actor, start, end, team, tz)
    return {"text": report_text(r, "Report"),
            "blocks": report_blocks(r, "Report", await oldest_links(r, parts.thread_link))}
