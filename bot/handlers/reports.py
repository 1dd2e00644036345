"""How the team is doing: the managers' daily digest and the same figures on demand.

The database counts (bot.store.reports); this module turns counts and durations
into a `Report` (bot.handlers.figures: medians, 90th percentiles, local busiest hours) that the Slack
digest, `/ticket report` and `tiketti report --csv` all show the same way.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from bot.domain.access import Action, may_report_on
from bot.domain.time_spent import mail_domain
from bot.handlers.context import Actor, Context
from bot.handlers.errors import Refused
from bot.handlers.events import DigestReady
from bot.handlers.figures import (
    WEEKDAYS,
    AgentFigures,
    Chart,
    Digest,
    OldTicket,
    Report,
    Spread,
    TimeSpentFigures,
    percentile,
)
from bot.handlers.permissions import permit, refuse
from bot.handlers.toolkit_ports import TimeSpent


def zone(tz: tzinfo | str | None) -> tzinfo:
    if tz is None:
        return UTC
    return ZoneInfo(tz) if isinstance(tz, str) else tz


async def report_for(ctx: Context, actor: Actor, start: datetime, end: datetime, team: str | None = None,
                     tz: tzinfo | str | None = None) -> Report:
    """A report someone asked for in chat: managers read every team's, agents their own teams'."""
    who = await permit(ctx, actor, Action.REPORT)
    if reason := may_report_on(who, team):
        await refuse(ctx, actor, Action.REPORT, None, reason)
    return await build_report(ctx, start, end, team, tz)


async def build_report(ctx: Context, start: datetime, end: datetime, team: str | None = None,
                       tz: tzinfo | str | None = None) -> Report:
    """All figures for [start, end) in one transaction, so they agree with each other."""
    zone_ = zone(tz)
    days = _day_ends(start, end, zone_)
    async with ctx.uow() as uow:
        r = uow.reports
        new, solved, backlog = await r.counts(start, end, team)
        reopened = await r.reopened(start, end, team)
        merged = await r.merged(start, end, team)
        firsts = await r.first_responses(start, end, team)
        resolutions = await r.resolutions(start, end, team)
        sla_solved, sla_met, breaches = await r.sla(start, end, team)
        categories = await r.by_column("category", start, end, team)
        teams = await r.by_column("team", start, end, team)
        hourly_utc = await r.hourly(start, end, team)
        trend = await r.backlog_at([moment for _, moment in days], team)
        oldest = await r.oldest_active(end, team)
        solved_by: Counter[int] = Counter(a for a, _ in resolutions if a is not None)
        firsts_by: dict[int, list[float]] = {}
        for agent, seconds in firsts:
            if agent is not None:
                firsts_by.setdefault(agent, []).append(seconds)
        names = await r.agent_names(sorted(set(solved_by) | set(firsts_by)))
        spent = time_figures(await uow.time_entries.spent(start, end, team))
    by_hour, by_weekday = [0] * 24, [0] * 7
    counts_at: dict[datetime, int] = {}
    for moment, n in hourly_utc:
        local = moment.astimezone(zone_)
        by_hour[local.hour] += n
        by_weekday[local.weekday()] += n
        counts_at[moment] = n
    leaderboard = sorted(
        (AgentFigures(names.get(a, f"agent {a}"), solved_by.get(a, 0), percentile(firsts_by.get(a, []), 50))
         for a in names),
        key=lambda f: (-f.solved, f.median_first_response if f.median_first_response is not None else float("inf"),
                       f.name))
    return Report(
        start=start, end=end, team=team, new=new, solved=solved, reopened=reopened, backlog=backlog,
        first_response=Spread.of([s for _, s in firsts]), resolution=Spread.of([s for _, s in resolutions]),
        sla_solved=sla_solved, sla_met=sla_met, breaches_now=breaches,
        by_category=[(c or "uncategorised", n) for c, n in categories],
        by_team=[(t or "no team", n) for t, n in teams],
        by_hour=by_hour, by_weekday=by_weekday,
        hourly=[(h.astimezone(zone_), counts_at.get(h, 0)) for h in _hours(start, end)],
        backlog_trend=[(day, n) for (day, _), n in zip(days, trend, strict=True)],
        leaderboard=leaderboard,
        oldest=[OldTicket(n, s, c, st, a) for n, s, c, st, a in oldest],
        tz=str(zone_), merged=merged, time_spent=spent,
    )


def time_figures(rows: Sequence[TimeSpent]) -> TimeSpentFigures:
    """The period's minutes grouped four ways; groups that net to nothing (all taken back) are left out."""
    agents: Counter[str] = Counter()
    customers: Counter[str] = Counter()
    domains: Counter[str] = Counter()
    teams: Counter[str] = Counter()
    for row in rows:
        agents[row.agent] += row.minutes
        customers[row.customer_email or ""] += row.minutes
        domains[mail_domain(row.customer_email or "")] += row.minutes
        teams[row.team or "no team"] += row.minutes

    def ranked(c: Counter[str]) -> list[tuple[str, int]]:
        return sorted(((k, n) for k, n in c.items() if n), key=lambda kv: (-kv[1], kv[0]))

    return TimeSpentFigures(sum(r.minutes for r in rows), ranked(agents), ranked(customers), ranked(domains),
                            ranked(teams))


def _hours(start: datetime, end: datetime) -> list[datetime]:
    first = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    count = max(0, int((end - first).total_seconds() // 3600) + (1 if (end - first).total_seconds() % 3600 else 0))
    return [first + timedelta(hours=i) for i in range(min(count, 24 * 400))]


def _day_ends(start: datetime, end: datetime, tz: tzinfo) -> list[tuple[date, datetime]]:
    """Each local day the period touches, with the moment its backlog is taken (day's end, or the period's)."""
    out: list[tuple[date, datetime]] = []
    day = start.astimezone(tz).date()
    while True:
        midnight = datetime.combine(day + timedelta(days=1), time(), tz).astimezone(UTC)
        out.append((day, min(midnight, end)))
        if midnight >= end or len(out) >= 400:
            return out
        day += timedelta(days=1)


def local_midnight(moment: datetime, tz: tzinfo) -> datetime:
    return datetime.combine(moment.astimezone(tz).date(), time(), tz).astimezone(UTC)


def parse_period(text: str, now: datetime, tz: tzinfo | str | None = None) -> tuple[datetime, datetime, str | None]:
    """`today | week | month | YYYY-MM-DD..YYYY-MM-DD`, then an optional team: what `/ticket report` takes.

    Week and month end now and start at local midnight 6 and 29 days back (today counts as a day);
    a date range includes both dates. Without a period word the last week is shown.
    """
    zone_ = zone(tz)
    words = text.split()
    head = words[0].lower() if words else "week"
    team = " ".join(words[1:]) or None
    today = local_midnight(now, zone_)
    if head == "today":
        return today, now, team
    if head in ("week", "month"):
        back = 6 if head == "week" else 29
        return local_midnight(today - timedelta(days=back) + timedelta(hours=12), zone_), now, team
    if ".." in head:
        first, _, last = head.partition("..")
        try:
            d1, d2 = date.fromisoformat(first), date.fromisoformat(last)
        except ValueError:
            raise Refused(f"not a date range: {head!r}; write e.g. 2025-03-01..2025-03-31") from None
        if d2 < d1:
            raise Refused("the range ends before it starts")
        return (datetime.combine(d1, time(), zone_).astimezone(UTC),
                datetime.combine(d2 + timedelta(days=1), time(), zone_).astimezone(UTC), team)
    return today - timedelta(days=6), now, " ".join(words) or None  # only a team was given


async def build_digest(ctx: Context, tz: tzinfo | str | None = None, *, now: datetime | None = None) -> Digest:
    """Yesterday's figures, and the last 7 full days for the charts."""
    zone_ = zone(tz)
    today = local_midnight(now or ctx.clock(), zone_)
    yesterday = local_midnight(today - timedelta(hours=12), zone_)
    week_start = local_midnight(today - timedelta(days=6, hours=12), zone_)
    report = await build_report(ctx, yesterday, today, tz=zone_)
    week = await build_report(ctx, week_start, today, tz=zone_)
    # matplotlib is imported here, not at start-up (about a second, for a job that runs once a day),
    # and draws in a thread: the charts take most of a second the event loop would otherwise not answer in.
    from bot.handlers import charts

    rendered = [
        Chart("volume-by-hour.png", "New tickets by hour, last 7 days",
              await asyncio.to_thread(charts.volume_by_hour, week.hourly)),
        Chart("backlog-trend.png", "Backlog, last 7 days",
              await asyncio.to_thread(charts.backlog_trend, week.backlog_trend)),
    ]
    return Digest(report, week, rendered)


async def publish_digest(ctx: Context, tz: tzinfo | str | None = None) -> None:
    """What the scheduler runs each morning: build the digest, let the adapters post it."""
    digest = await build_digest(ctx, tz)
    await ctx.bus.publish([DigestReady(report=digest.report, charts=tuple(digest.charts), week=digest.week)])


def csv_rows(r: Report) -> list[tuple[str, str, str]]:
    """The report as (section, key, value) rows: one long table any spreadsheet can pivot."""
    def num(v: float | None) -> str:
        return "" if v is None else f"{v:.0f}"

    rows: list[tuple[str, str, str]] = [
        ("period", "start", r.start.isoformat()), ("period", "end", r.end.isoformat()),
        ("period", "team", r.team or ""), ("period", "timezone", r.tz),
        ("tickets", "new", str(r.new)), ("tickets", "solved", str(r.solved)), ("tickets", "merged", str(r.merged)),
        ("tickets", "reopened", str(r.reopened)), ("tickets", "backlog", str(r.backlog)),
        ("first_response_seconds", "count", str(r.first_response.count)),
        ("first_response_seconds", "median", num(r.first_response.median)),
        ("first_response_seconds", "p90", num(r.first_response.p90)),
        ("resolution_seconds", "count", str(r.resolution.count)),
        ("resolution_seconds", "median", num(r.resolution.median)),
        ("resolution_seconds", "p90", num(r.resolution.p90)),
        ("sla", "solved_with_sla", str(r.sla_solved)), ("sla", "met", str(r.sla_met)),
        ("sla", "compliance", "" if r.sla_compliance is None else f"{r.sla_compliance:.4f}"),
        ("sla", "breached_now", str(r.breaches_now)),
    ]
    rows += [("category", k, str(n)) for k, n in r.by_category]
    rows += [("team", k, str(n)) for k, n in r.by_team]
    rows += [("hour_of_day", f"{h:02d}", str(n)) for h, n in enumerate(r.by_hour)]
    rows += [("weekday", WEEKDAYS[d], str(n)) for d, n in enumerate(r.by_weekday)]
    rows += [("backlog_at_day_end", d.isoformat(), str(n)) for d, n in r.backlog_trend]
    for a in r.leaderboard:
        rows += [(f"agent:{a.name}", "solved", str(a.solved)),
                 (f"agent:{a.name}", "median_first_response_seconds", num(a.median_first_response))]
    rows += [("oldest_open", str(o.number), o.created_at.isoformat()) for o in r.oldest]
    t = r.time_spent  # minutes; "" names internal tickets' customer and organisation
    rows.append(("time_spent_minutes", "total", str(t.total)))
    for section, pairs in (("time_spent_minutes_by_agent", t.by_agent),
                           ("time_spent_minutes_by_customer", t.by_customer),
                           ("time_spent_minutes_by_organisation", t.by_organisation),
                           ("time_spent_minutes_by_team", t.by_team)):
        rows += [(section, k, str(n)) for k, n in pairs]
    return rows
