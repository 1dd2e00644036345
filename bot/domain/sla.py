"""Service levels: how long the team has to answer and to resolve, counted in business hours.

Pure arithmetic and plain data, no I/O: the calendar (working weekdays, opening
hours, time zone, public holidays from the maintained `holidays` package) turns a
target such as "4 business hours" into a due time, and back into "how much of it
is used". Policies pick the targets for a ticket by priority, overridden per
customer (email domain or address) and per team. Read from the `[sla]` section
of the workflow file (see config/workflow.example.toml); no section, no SLAs.

All datetimes handled here are timezone-aware (UTC in the store); naive values
are taken as UTC. Arithmetic is done in UTC, because two aware datetimes that
share a tzinfo subtract as wall-clock times in Python, which is wrong across a
daylight-saving change.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.priority import Priority

FIRST_RESPONSE = "first_response"
RESOLUTION = "resolution"
CLOCKS = (FIRST_RESPONSE, RESOLUTION)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MAX_DAYS = 3 * 366  # a target no calendar can meet within three years is a configuration mistake


class SlaError(ValueError):
    """The `[sla]` section says something we cannot follow; the message names the place."""


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@lru_cache(maxsize=64)
def _public_holidays(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    import holidays  # imported when a calendar names a country: the package is large

    return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year).keys())


@dataclass(frozen=True)
class Calendar:
    """When the team works. Business time only passes inside opening hours on working days."""

    timezone: str = "UTC"
    workdays: frozenset[int] = frozenset(range(5))  # Monday = 0
    opens: time = time(8, 0)
    closes: time = time(16, 0)
    country: str | None = None  # public holidays of this country (ISO code, e.g. "FI") are closed
    subdivision: str | None = None  # a state or province, where holidays differ within the country
    closed_days: frozenset[date] = frozenset()  # extra days off: Christmas Eve, a company day

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def day_length(self) -> timedelta:
        return datetime.combine(date.min, self.closes) - datetime.combine(date.min, self.opens)

    def is_working_day(self, day: date) -> bool:
        if day.weekday() not in self.workdays or day in self.closed_days:
            return False
        return not (self.country and day in _public_holidays(self.country, self.subdivision, day.year))

    def _window(self, day: date) -> tuple[datetime, datetime] | None:
        """The day's opening hours in UTC, or None when the team does not work that day."""
        if not self.is_working_day(day):
            return None
        zone = self.zone
        return (datetime.combine(day, self.opens, zone).astimezone(UTC),
                datetime.combine(day, self.closes, zone).astimezone(UTC))

    def _windows_from(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        day = moment.astimezone(self.zone).date()
        for _ in range(_MAX_DAYS):
            window = self._window(day)
            if window is not None:
                yield window
            day += timedelta(days=1)
        raise SlaError("no business hours within three years: check the calendar")

    def add_business_time(self, start: datetime, duration: timedelta) -> datetime:
        """The moment `duration` of business time after `start` (a start outside hours waits for opening)."""
        start = _utc(start)
        if duration < timedelta(0):
            raise ValueError("business time cannot be negative")
        remaining = duration
        for opens, closes in self._windows_from(start):
            begin = max(opens, start)
            if begin >= closes:
                continue
            if remaining <= closes - begin:
                return begin + remaining
            remaining -= closes - begin
        raise AssertionError("unreachable")  # _windows_from raises first

    def business_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Business time from `a` to `b`; negative when `b` is earlier."""
        a, b = _utc(a), _utc(b)
        if b < a:
            return -self.business_time_between(b, a)
        total = timedelta(0)
        day = a.astimezone(self.zone).date()
        last = b.astimezone(self.zone).date()
        while day <= last:
            window = self._window(day)
            if window is not None:
                begin, end = max(window[0], a), min(window[1], b)
                if end > begin:
                    total += end - begin
            day += timedelta(days=1)
        return total


@dataclass(frozen=True)
class Targets:
    """Business time allowed for the first reply and for resolution; None: no target."""

    first_response: timedelta | None = None
    resolution: timedelta | None = None

    def of(self, clock: str) -> timedelta | None:
        return self.first_response if clock == FIRST_RESPONSE else self.resolution


@dataclass(frozen=True)
class Policy:
    name: str
    targets: Mapping[Priority, Targets]
    customers: tuple[str, ...] = ()  # email domains (and their subdomains) or whole addresses
    teams: tuple[str, ...] = ()

    def for_customer(self, email: str) -> bool:
        email = email.lower()
        domain = email.rsplit("@", 1)[-1]
        for c in self.customers:
            c = c.lower()
            if ("@" in c and email == c) or ("@" not in c and (domain == c or domain.endswith("." + c))):
                return True
        return False


@dataclass(frozen=True)
class SlaConfig:
    calendar: Calendar
    default: Policy
    overrides: tuple[Policy, ...] = ()
    warn_before: timedelta = timedelta(minutes=30)

    def policy_for(self, requester_email: str, team: str | None) -> Policy:
        """A customer's own policy beats a team's, which beats the default."""
        for p in self.overrides:
            if p.customers and p.for_customer(requester_email):
                return p
        for p in self.overrides:
            if team and any(t.lower() == team.lower() for t in p.teams):
                return p
        return self.default

    def policy(self, name: str) -> Policy | None:
        return next((p for p in (self.default, *self.overrides) if p.name == name), None)

    def targets(self, key: str | None) -> Targets | None:
        """Targets named by a ticket's stored `sla_policy` key ("bigcorp/high"); None if no longer configured."""
        if not key or "/" not in key:
            return None
        name, _, prio = key.rpartition("/")
        policy = self.policy(name)
        try:
            return policy.targets.get(Priority(prio)) if policy else None
        except ValueError:
            return None


def policy_key(policy: Policy, priority: Priority) -> str:
    """What a ticket stores in `sla_policy`: enough to find its targets again when something changes."""
    return f"{policy.name}/{priority.value}"


# --- words for people -----------------------------------------------------------------

def duration_words(span: timedelta) -> str:
    """'45 min', '2 h', '1 h 30 min', '3 days': short, rounded, for chat."""
    minutes = max(0, round(span.total_seconds() / 60))
    if minutes < 60:
        return f"{max(minutes, 1)} min"
    hours, rest = divmod(minutes, 60)
    if hours < 10 and rest >= 5:
        return f"{hours} h {rest} min"
    if hours < 48:
        return f"{round(minutes / 60)} h"
    return f"{round(minutes / 1440)} days"


def time_left_words(what: str, due: datetime, now: datetime) -> str:
    """'first reply due in 45 min' or 'resolution overdue by 2 h' (wall-clock time, as people read it)."""
    left = _utc(due) - _utc(now)
    if left >= timedelta(0):
        return f"{what} due in {duration_words(left)}"
    return f"{what} overdue by {duration_words(-left)}"


def answer_by_words(due: datetime, calendar: Calendar, now: datetime) -> str:
    """'by Tuesday 10:00' in the calendar's time zone; the date too when it is not this week."""
    local, today = _utc(due).astimezone(calendar.zone), _utc(now).astimezone(calendar.zone).date()
    if local.date() == today:
        when = f"today {local:%H:%M}"
    elif (local.date() - today).days < 7:
        when = f"{local:%A %H:%M}"
    else:
        when = f"{local:%A} {local.day} {local:%B %H:%M}"
    zone = "UTC" if calendar.timezone.upper() == "UTC" else f"{calendar.timezone} time"
    return f"by {when} ({zone})"


# --- reading the [sla] section ----------------------------------------------------------

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(d|h|m|min)?", re.IGNORECASE)


def parse_duration(value: Any, calendar: Calendar, where: str) -> timedelta:
    """Minutes as a number, or text like '30m', '4h', '1h30m', '2d' (a 'd' is one working day of opening hours)."""
    if isinstance(value, bool):
        raise SlaError(f"{where}: {value!r} is not a duration")
    if isinstance(value, int | float):
        return timedelta(minutes=value)
    text = str(value).strip().lower().replace(" ", "")
    pos, total = 0, timedelta(0)
    while pos < len(text):
        m = _PART.match(text, pos)
        if m is None or m.end() == pos:
            raise SlaError(f"{where}: {value!r} is not a duration (use e.g. 30m, 4h, 2d)")
        amount, unit = float(m.group(1)), (m.group(2) or "m")
        total += {"d": calendar.day_length * amount, "h": timedelta(hours=amount)}.get(unit, timedelta(minutes=amount))
        pos = m.end()
    if total <= timedelta(0):
        raise SlaError(f"{where}: a target must be longer than zero")
    return total


def _clock_time(text: str, where: str) -> time:
    try:
        return time.fromisoformat(text.strip())
    except ValueError:
        raise SlaError(f"{where}: {text!r} is not a time of day (HH:MM)") from None


def parse_calendar(d: Mapping[str, Any]) -> Calendar:
    tz = str(d.get("timezone", "UTC"))
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise SlaError(f"sla.timezone: unknown time zone {tz!r}") from None
    days = d.get("workdays", list(WEEKDAYS[:5]))
    try:
        workdays = frozenset(WEEKDAYS.index(str(x).strip().lower()[:3]) for x in days)
    except ValueError:
        raise SlaError(f"sla.workdays: use {', '.join(WEEKDAYS)}") from None
    if not workdays:
        raise SlaError("sla.workdays: at least one working day is needed")
    hours = str(d.get("hours", "08:00-16:00"))
    if hours.count("-") != 1:
        raise SlaError(f"sla.hours: {hours!r} should look like 08:00-16:00")
    opens, closes = (_clock_time(p, "sla.hours") for p in hours.split("-"))
    if closes <= opens:
        raise SlaError("sla.hours: closing time must be after opening time")
    country = str(d.get("holidays") or "").strip().upper() or None
    subdivision = d.get("holiday_subdivision")
    if country:
        try:
            _public_holidays(country, subdivision, 2024)
        except NotImplementedError:
            raise SlaError(f"sla.holidays: no public holidays known for {country!r}{'/' + subdivision if subdivision else ''}") from None
    try:
        closed = frozenset(date.fromisoformat(str(x)) for x in d.get("closed_days", []))
    except ValueError:
        raise SlaError("sla.closed_days: use dates like 2026-12-24") from None
    return Calendar(timezone=tz, workdays=workdays, opens=opens, closes=closes, country=country,
                    subdivision=subdivision, closed_days=closed)


def _targets(d: Mapping[str, Any], base: Mapping[Priority, Targets], calendar: Calendar,
             where: str) -> dict[Priority, Targets]:
    out = dict(base)
    for prio in Priority:
        spec = d.get(prio.value)
        if spec is None:
            continue
        if not isinstance(spec, Mapping):
            raise SlaError(f"{where}.{prio.value} should be a table like {{ first_response = \"1h\", resolution = \"1d\" }}")
        unknown = set(spec) - set(CLOCKS)
        if unknown:
            raise SlaError(f"{where}.{prio.value}: unknown key {sorted(unknown)[0]!r} (first_response, resolution)")
        old = out.get(prio, Targets())
        out[prio] = Targets(
            first_response=parse_duration(spec[FIRST_RESPONSE], calendar, f"{where}.{prio.value}.first_response")
            if FIRST_RESPONSE in spec else old.first_response,
            resolution=parse_duration(spec[RESOLUTION], calendar, f"{where}.{prio.value}.resolution")
            if RESOLUTION in spec else old.resolution,
        )
    return out


def _strings(value: Any) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(str(v) for v in value or ())


def parse_sla(d: Mapping[str, Any], teams: Collection[str] = ()) -> SlaConfig:
    """Build the SLA configuration from the workflow file's `[sla]` table; `teams` are the known team names."""
    calendar = parse_calendar(d)
    default = Policy("default", _targets(d.get("targets") or {}, {}, calendar, "sla.targets"))
    overrides = []
    for i, o in enumerate(d.get("overrides", [])):
        where = f"sla.overrides[{i}]"
        customers = _strings(o.get("customers", o.get("customer")))
        team_names = _strings(o.get("teams", o.get("team")))
        if not (customers or team_names):
            raise SlaError(f"{where}: say whom it is for (customers or team)")
        for t in team_names:
            if t not in teams:
                raise SlaError(f"{where}.team {t!r} is not one of the teams")
        name = str(o.get("name") or (customers[0] if customers else team_names[0])).replace("/", "-")
        overrides.append(Policy(name, _targets(o, default.targets, calendar, where), customers, team_names))
    names = [p.name for p in (default, *overrides)]
    if len(set(names)) != len(names):
        raise SlaError("sla.overrides: every override needs its own name")
    warn = d.get("warn_before_minutes", 30)
    if not isinstance(warn, int | float) or isinstance(warn, bool) or warn < 0:
        raise SlaError("sla.warn_before_minutes must be a number of minutes")
    return SlaConfig(calendar=calendar, default=default, overrides=tuple(overrides),
                     warn_before=timedelta(minutes=warn))
