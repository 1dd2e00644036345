"""The search grammar: `printer "on fire" status:open team:billing from:example.com page:2`.

Pure on purpose: what a query means (which word is a filter, what a date covers, what "open" is)
is decided here once, for `/ticket search`, saved views (`[[views]]` in the workflow file) and
`tiketti search`, and tested without a database. The store turns a SearchQuery into SQL
(bot.store.search); the handler (bot.handlers.search) decides who sees what.

Words are never handed to a full-text engine as syntax: each word or quoted phrase becomes one
term the store quotes itself, so `"printer-on-fire" OR (` finds tickets instead of raising.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

from bot.domain.errors import UserFacingError
from bot.domain.priority import Priority
from bot.domain.status import Status

PAGE_SIZE = 20
# Matches are counted up to this many (or as far as the page asked for): "1,000+ tickets" past it.
COUNT_CAP = 1000
# Best first ranks the newest this many matches (or as many as the page asked for): ranking reads each
# ranked ticket's whole document, so a common word's thousands of matches cannot all be ranked in time.
RANK_CAP = 200
MAX_TERMS = 16  # each term is a join in the store's query (SQLite joins at most 64 tables); more is never a search
ORDERS = ("best", "newest")
FILTERS = ("status", "team", "tag", "from", "assignee", "category", "priority", "after", "before", "page", "sort")
# `status:open` means every status still being worked on: "open tickets" in a helpdesk's speech is
# everything not solved or closed (new, waiting on the customer, on hold...), and a view called
# "billing-open" that left out new tickets would hide the ones needing attention most.
ACTIVE = tuple(s for s in Status if s.is_active)
_STATUS_GROUPS = {"open": ACTIVE, "active": ACTIVE, "unsolved": ACTIVE,
                  "done": (Status.SOLVED, Status.CLOSED)}
_TOKEN = re.compile(r'(?:[^\s"]+:)?"[^"]*"?|\S+')
_WORD_CHAR = re.compile(r"[^\W_]")
_OPERATORS = frozenset({"AND", "OR", "NOT"})  # typed out of habit; there are no operators: every term must match


class QueryError(UserFacingError, ValueError):
    """A filter names a value it cannot have (a date that is none, an unknown priority); the message says how."""


@dataclass(frozen=True)
class Term:
    """One thing every found ticket must contain: a word, a phrase (quoted), or a word's beginning (`lasku*`)."""

    text: str
    prefix: bool = False

    @property
    def shown(self) -> str:
        return f"{self.text}*" if self.prefix else f'"{self.text}"' if " " in self.text else self.text


@dataclass(frozen=True)
class SearchQuery:
    """Words (all must be found in the ticket: its subject or any message the searcher may read) and filters.

    `statuses` empty: any status; `status_name`: a team's own status word, resolved against the workflow
    by the handler. `sender` is an address (`mia@example.com`) or a domain (`example.com`, subdomains too).
    `assignee` is "none", "me" or a person (chat user id, `@name`, email), resolved by the handler.
    `after` and `before` are UTC days on the ticket's creation: after is inclusive, before exclusive."""

    terms: tuple[Term, ...] = ()
    statuses: tuple[Status, ...] = ()
    status_name: str | None = None
    team: str | None = None
    tags: tuple[str, ...] = ()
    sender: str | None = None
    assignee: str | None = None
    category: str | None = None
    priority: Priority | None = None
    after: date | None = None
    before: date | None = None
    page: int = 1
    order: str = "best"  # "best" (only with words; else newest) | "newest"
    text: str = field(default="", compare=False)  # as typed, for titles

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(t.shown for t in self.terms)

    @property
    def ranked(self) -> bool:
        """Best first only means something when there are words to rank by."""
        return bool(self.terms) and self.order == "best"

    @property
    def after_at(self) -> datetime | None:
        return datetime(self.after.year, self.after.month, self.after.day, tzinfo=UTC) if self.after else None

    @property
    def before_at(self) -> datetime | None:
        return datetime(self.before.year, self.before.month, self.before.day, tzinfo=UTC) if self.before else None

    def on_page(self, page: int) -> SearchQuery:
        if page < 1:
            raise QueryError(f"page {page} does not exist; pages start at 1")
        return replace(self, page=page)

    def within(self, other: SearchQuery) -> SearchQuery:
        """This query narrowed by `other`'s words and filters (a view run with more words): other's win."""
        return replace(
            self, terms=self.terms + other.terms, statuses=other.statuses or self.statuses,
            status_name=other.status_name or self.status_name, team=other.team or self.team,
            tags=self.tags + other.tags, sender=other.sender or self.sender, assignee=other.assignee or self.assignee,
            category=other.category or self.category, priority=other.priority or self.priority,
            after=other.after or self.after, before=other.before or self.before, page=other.page,
            order=other.order if other.order != "best" else self.order,
            text=" ".join(t for t in (self.text, other.text) if t))


@dataclass(frozen=True)
class SearchFilter:
    """What the store runs (bot.store.search): a query with its names resolved to ids and the searcher
    turned into visibility, both by the handler (bot.handlers.search), which knows the workflow and the agents."""

    terms: tuple[Term, ...] = ()
    statuses: tuple[Status, ...] = ()
    status_label: str | None = None
    team: str | None = None
    tags: tuple[str, ...] = ()
    sender: str | None = None  # an address, or a domain (subdomains too)
    unassigned: bool = False
    assignee_ids: tuple[int, ...] | None = None  # None: anyone; (): nobody matches
    category: str | None = None
    priority: Priority | None = None
    after: datetime | None = None
    before: datetime | None = None
    ranked: bool = False
    # visibility
    hidden_teams: tuple[str, ...] = ()  # private teams not shown (unless the searcher was pulled in)
    pulled_in_by: int | None = None  # the searcher's agent id: tickets they were pulled into stay visible
    only_pulled_in: bool = False  # a light agent: those tickets alone
    notes: bool = True  # internal notes (and system messages) may match the words


def parse_query(text: str) -> SearchQuery:
    """Read what was typed; QueryError names the filter that is wrong and what it takes.

    A token `name:value` whose name is not a filter stays a word ("re:invoice", "10:30"), so only the
    filters listed in FILTERS are taken out of the words. A word with no letter or digit (`(`, `-`)
    is dropped: it can match nothing in either store's index.
    """
    values: dict[str, object] = {}
    terms: list[Term] = []
    tags: list[str] = []
    for token in _TOKEN.findall(text):
        name, sep, value = token.partition(":")
        key = name.lower()
        if sep and key in FILTERS and not token.startswith('"'):
            _filter(key, _unquote(value), values, tags)
            continue
        terms.extend(_terms(token))
    if len(terms) > MAX_TERMS:
        raise QueryError(f"that is {len(terms)} words; search with at most {MAX_TERMS} (a phrase in quotes counts as one)")
    return SearchQuery(terms=tuple(terms), tags=tuple(tags), text=" ".join(text.split()), **values)  # type: ignore[arg-type]


def _unquote(value: str) -> str:
    return value.strip().strip('"').strip()


def _terms(token: str) -> list[Term]:
    if token.startswith('"'):
        phrase = " ".join(token.strip('"').split())
        return [Term(phrase)] if _WORD_CHAR.search(phrase) else []
    word = token.strip()
    if not _WORD_CHAR.search(word) or word in _OPERATORS:
        return []
    if word.endswith("*") and re.fullmatch(r"[^\W_]+", word.rstrip("*")):
        return [Term(word.rstrip("*").lower(), prefix=True)]
    return [Term(word.lower().rstrip("*"))]


def _filter(key: str, value: str, values: dict[str, object], tags: list[str]) -> None:
    if not value:
        raise QueryError(f"{key}: needs a value, e.g. {_EXAMPLES[key]}")
    match key:
        case "status":
            statuses: list[Status] = []
            for part in value.split(","):
                group = _STATUS_GROUPS.get(part.strip().lower())
                if group is not None:
                    statuses.extend(group)
                    continue
                try:
                    statuses.append(Status.parse(part))
                except ValueError:  # a team's own status word ("on hold at vendor"): the workflow knows
                    values["status_name"] = value
                    return
            values["statuses"] = tuple(dict.fromkeys(statuses))
        case "team":
            values["team"] = value.removeprefix("#")
        case "tag":
            tags.append(value.removeprefix("#").lower())
        case "from":
            values["sender"] = value.lower().removeprefix("mailto:").lstrip("@")
        case "assignee":
            values["assignee"] = value
        case "category":
            values["category"] = value
        case "priority":
            values["priority"] = Priority.parse(value)  # InvalidInput names the choices
        case "after" | "before":
            values[key] = _day(key, value)
        case "page":
            if not value.isdecimal() or int(value) < 1:
                raise QueryError(f"page:{value} is not a page; say page:2")
            values["page"] = int(value)
        case "sort":
            if value.lower() not in ORDERS:
                raise QueryError(f"sort:{value} is not an order; use sort:best or sort:newest")
            values["order"] = value.lower()


def _day(key: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise QueryError(f"{key}:{value} is not a date; write it as {key}:2026-04-01 (year-month-day)") from None


_EXAMPLES = {
    "status": "status:open", "team": "team:billing", "tag": "tag:vip", "from": "from:mia@example.com or from:example.com",
    "assignee": "assignee:@ana, assignee:me or assignee:none", "category": "category:billing",
    "priority": "priority:high", "after": "after:2026-04-01", "before": "before:2026-05-01", "page": "page:2",
    "sort": "sort:newest",
}
