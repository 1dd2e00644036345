"""How a support organisation works: teams, routing rules, categories, templates, follow-ups.

Plain data, read once from `config/workflow.toml` (see config/workflow.example.toml)
and handed to the handlers. `route()` decides where a new ticket goes; it is a
pure function so the rules can be tested without a database or a mail.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.domain.access import Identity, Roster, Standing, TicketScope, standing_of
from bot.domain.macro import Macro, parse_macro
from bot.domain.priority import Priority
from bot.domain.search_query import QueryError, parse_query
from bot.domain.sla import SlaConfig, SlaError, parse_sla
from bot.domain.status import Status
from bot.domain.workflow_values import WorkflowError, required, strings

FOLLOW_UP_POLICIES = ("reopen", "new", "new_after_days")
ASSIGNMENT = ("none", "least_loaded", "skills")


@dataclass(frozen=True)
class CustomStatus:
    """A team's own word for a status ("on hold at vendor"), counted as its category everywhere."""

    name: str
    category: Status


@dataclass(frozen=True)
class Team:
    name: str
    channel: str | None = None  # Slack channel of its tickets; None: the default tickets channel
    discord_channel: str | None = None  # Discord channel (id) of its tickets; None: TIKETTI_DISCORD_CHANNEL
    members: tuple[str, ...] = ()  # chat user ids, emails, Slack user group ids or Discord role ids
    private: bool = False  # its tickets are seen only by its members, managers and admins
    assignment: str = "none"  # "none" | "least_loaded" | "skills"
    follow_up: str = "new"  # a mail to a closed ticket: "reopen" | "new" | "new_after_days"
    follow_up_days: int = 14  # for "new_after_days": reopen if closed more recently than this
    statuses: tuple[CustomStatus, ...] = ()

    def has_member(self, chat_user_id: str, email: str | None) -> bool:
        keys = {chat_user_id.lower(), (email or "").lower()} - {""}
        return any(m.lower() in keys for m in self.members)

    def channel_on(self, platform: str) -> str | None:
        """The channel this team names on a chat platform ("slack", "discord"); None if it names none."""
        return {"slack": self.channel, "discord": self.discord_channel}.get(platform)


@dataclass(frozen=True)
class Rule:
    """First matching rule wins. Every condition given must match; patterns are case-insensitive."""

    team: str | None = None
    to: tuple[str, ...] = ()  # recipient addresses (globs: "billing@*")
    sender: tuple[str, ...] = ()  # sender addresses or domains ("*@bigcorp.com", "bigcorp.com")
    keywords: tuple[str, ...] = ()  # any of these words in subject or body
    priority: Priority | None = None
    category: str | None = None
    tags: tuple[str, ...] = ()

    def matches(self, *, to: Iterable[str], sender: str, text: str) -> bool:
        if self.to and not any(_glob(addr, p) for addr in to for p in self.to):
            return False
        if self.sender and not any(_sender_matches(sender, p) for p in self.sender):
            return False
        if self.keywords and not any(_has_word(text, k) for k in self.keywords):
            return False
        return bool(self.to or self.sender or self.keywords)


@dataclass(frozen=True)
class Routing:
    """What the rules decided for a new ticket."""

    team: str | None = None
    priority: Priority | None = None
    category: str | None = None
    tags: tuple[str, ...] = ()
    rule: int | None = None  # index of the matching rule, for the audit trail


@dataclass(frozen=True)
class ChildSpec:
    team: str | None
    subject: str


@dataclass(frozen=True)
class Template:
    """A ticket an agent opens by hand (a phone call, a supplier order): preset fields and questions."""

    name: str
    subject: str = ""
    team: str | None = None
    priority: Priority = Priority.NORMAL
    category: str | None = None
    tags: tuple[str, ...] = ()
    questions: tuple[str, ...] = ()
    children: tuple[ChildSpec, ...] = ()


@dataclass(frozen=True)
class View:
    """A saved search (`[[views]]`), run by `/ticket queue <name>`: the query in the search grammar
    (bot.domain.search_query), checked at load. A view of a private team is for that team's members
    and managers; a view of another team is anyone's who may search."""

    name: str
    query: str
    team: str | None = None
    title: str = ""

    @property
    def heading(self) -> str:
        return self.title or self.name


@dataclass(frozen=True)
class Workflow:
    teams: tuple[Team, ...] = ()
    rules: tuple[Rule, ...] = ()
    categories: tuple[str, ...] = ("billing", "complaint", "technical", "other")
    default_team: str | None = None
    skills: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # agent (id or email) -> skills
    templates: tuple[Template, ...] = ()
    auto_close_days: int = 7  # solved tickets close for good after this many days
    sla: SlaConfig | None = None  # service levels ([sla] section); None: no SLAs
    roster: Roster = field(default_factory=Roster)  # [roles]; with none and no team members, channel members are agents
    macros: tuple[Macro, ...] = ()  # [[macros]]: several changes and a reply in one step
    views: tuple[View, ...] = ()  # [[views]]: saved searches, `/ticket queue <name>`

    def standing(self, who: Identity) -> Standing:
        return standing_of(who, self.roster, ((t.name, t.members) for t in self.teams))

    def scope(self, number: int, team_name: str | None, *, pulled_in: bool = False) -> TicketScope:
        team = self.team(team_name)
        return TicketScope(number, team_name, team_private=bool(team and team.private),
                           team_has_members=bool(team and team.members), pulled_in=pulled_in)

    def roster_names(self) -> frozenset[str]:
        """Every name the roster and the teams use: doors resolve the groups among them (S…, role ids)."""
        return self.roster.names | {m for t in self.teams for m in t.members}

    def team(self, name: str | None) -> Team | None:
        return next((t for t in self.teams if name and t.name.lower() == name.lower()), None)

    def require_team(self, name: str) -> Team:
        team = self.team(name)
        if team is None:
            known = ", ".join(t.name for t in self.teams) or "none are configured"
            raise WorkflowError(f"no team called {name!r} ({known})")
        return team

    def category(self, name: str) -> str:
        for known in self.categories:
            if known.lower() == name.strip().lower():
                return known
        raise WorkflowError(f"unknown category {name!r}; use one of: {', '.join(self.categories)}")

    def macro(self, name: str) -> Macro | None:
        """By name or title, any case."""
        wanted = " ".join(name.split()).lower()
        return next((m for m in self.macros if wanted in (m.name.lower(), m.title.lower())), None)

    def macros_for(self, team: str | None) -> tuple[Macro, ...]:
        """The macros that apply to a ticket of `team`."""
        return tuple(m for m in self.macros if m.applies_to(team))

    def view(self, name: str) -> View | None:
        wanted = name.strip().lower()
        return next((v for v in self.views if v.name.lower() == wanted), None)

    def template(self, name: str) -> Template | None:
        return next((t for t in self.templates if t.name.lower() == name.strip().lower()), None)

    def custom_status(self, team: str | None, text: str) -> CustomStatus | None:
        wanted = " ".join(text.lower().split())
        teams = [t for t in self.teams if team is None or t.name == team] or list(self.teams)
        return next((s for t in teams for s in t.statuses if s.name.lower() == wanted), None)

    def skills_of(self, chat_user_id: str, email: str | None) -> set[str]:
        keys = {chat_user_id.lower(), (email or "").lower()} - {""}
        return {s.lower() for who, skills in self.skills.items() if who.lower() in keys for s in skills}

    def route(self, *, to: Iterable[str], sender: str, subject: str, body: str) -> Routing:
        text = f"{subject}\n{body}"
        to = [a.lower() for a in to]
        for i, rule in enumerate(self.rules):
            if rule.matches(to=to, sender=sender.lower(), text=text):
                return Routing(rule.team or self.default_team, rule.priority, rule.category, rule.tags, i)
        return Routing(self.default_team)


def _glob(address: str, pattern: str) -> bool:
    return fnmatch.fnmatchcase(address.lower(), pattern.lower())


def _sender_matches(sender: str, pattern: str) -> bool:
    pattern = pattern.lower()
    if "@" not in pattern:  # a bare domain matches it and its subdomains
        domain = sender.rsplit("@", 1)[-1]
        return domain == pattern or domain.endswith("." + pattern)
    return _glob(sender, pattern)


def _has_word(text: str, keyword: str) -> bool:
    """Whole words, any case; a keyword ending in * matches word beginnings ("reklamaatio*")."""
    stem = re.escape(keyword.lower().rstrip("*"))
    tail = r"\w*" if keyword.endswith("*") else r"\b"
    return re.search(rf"\b{stem}{tail}", text.lower()) is not None


# --- reading the file ---------------------------------------------------------------------

def parse_workflow(data: Mapping[str, Any]) -> Workflow:
    """Build a Workflow from the TOML document; WorkflowError says where it is wrong."""
    teams = tuple(_team(t, i) for i, t in enumerate(data.get("teams", [])))
    names = {t.name for t in teams}
    rules = tuple(_rule(r, i, names) for i, r in enumerate(data.get("rules", [])))
    categories = tuple(str(c) for c in data.get("categories", Workflow.categories))
    default_team = data.get("default_team")
    if default_team is not None and default_team not in names:
        raise WorkflowError(f"default_team {default_team!r} is not one of the teams")
    skills = {str(who): tuple(str(s) for s in v) for who, v in (data.get("skills") or {}).items()}
    templates = tuple(_template(t, i, names) for i, t in enumerate(data.get("templates", [])))
    try:
        sla = parse_sla(data["sla"], names) if "sla" in data else None
    except SlaError as exc:
        raise WorkflowError(str(exc)) from None
    macros = tuple(parse_macro(m, i, teams, categories) for i, m in enumerate(data.get("macros", [])))
    if len({m.name.lower() for m in macros}) < len(macros):
        raise WorkflowError("macros: two macros have the same name")
    return Workflow(teams=teams, rules=rules, categories=categories, default_team=default_team, skills=skills,
                    templates=templates, auto_close_days=int(data.get("auto_close_days", 7)), sla=sla,
                    roster=_roster(data.get("roles") or {}), macros=macros, views=_views(data.get("views", []), names))


def _views(items: Iterable[Mapping[str, Any]], teams: set[str]) -> tuple[View, ...]:
    views: list[View] = []
    for i, d in enumerate(items):
        where = f"views[{i}]"
        name, query = required(d, "name", where), required(d, "query", where)
        if not re.fullmatch(r"[\w.-]+", name):
            raise WorkflowError(f"{where}.name {name!r} must be one word (letters, digits, - . _): it is typed "
                                f"after /ticket queue")
        team = d.get("team")
        if team is not None and team not in teams:
            raise WorkflowError(f"{where}.team {team!r} is not one of the teams")
        try:
            parse_query(query)
        except QueryError as exc:
            raise WorkflowError(f"{where}.query: {exc}") from None
        if any(v.name.lower() == name.lower() for v in views):
            raise WorkflowError(f"{where}: a view called {name!r} is already defined")
        views.append(View(name=name, query=query, team=team, title=str(d.get("title", "")).strip()))
    return tuple(views)


ROLE_KEYS = ("admins", "managers", "agents", "light")


def _roster(d: Mapping[str, Any]) -> Roster:
    unknown = set(d) - set(ROLE_KEYS)
    if unknown:
        raise WorkflowError(f"roles.{sorted(unknown)[0]} is not a role; use {', '.join(ROLE_KEYS)}")
    for key in ROLE_KEYS:
        if not isinstance(d.get(key, []), list):
            raise WorkflowError(f"roles.{key} must be a list of user ids, emails, user group or role ids")
    return Roster(**{key: frozenset(str(v).strip() for v in d.get(key, []) if str(v).strip()) for key in ROLE_KEYS})


def _team(d: Mapping[str, Any], i: int) -> Team:
    where = f"teams[{i}]"
    name = required(d, "name", where)
    assignment = str(d.get("assignment", "none"))
    follow_up = str(d.get("follow_up", "new"))
    if assignment not in ASSIGNMENT:
        raise WorkflowError(f"{where}.assignment must be one of {', '.join(ASSIGNMENT)}")
    if follow_up not in FOLLOW_UP_POLICIES:
        raise WorkflowError(f"{where}.follow_up must be one of {', '.join(FOLLOW_UP_POLICIES)}")
    statuses = []
    for j, s in enumerate(d.get("statuses", [])):
        category = Status.parse(required(s, "category", f"{where}.statuses[{j}]"))
        statuses.append(CustomStatus(" ".join(required(s, "name", f"{where}.statuses[{j}]").split()), category))
    return Team(name=name, channel=d.get("channel"), discord_channel=_discord_id(d, "discord_channel", where),
                members=tuple(str(m) for m in d.get("members", [])), private=bool(d.get("private", False)),
                assignment=assignment, follow_up=follow_up, follow_up_days=int(d.get("follow_up_days", 14)),
                statuses=tuple(statuses))


def _rule(d: Mapping[str, Any], i: int, teams: set[str]) -> Rule:
    where = f"rules[{i}]"
    team = d.get("team")
    if team is not None and team not in teams:
        raise WorkflowError(f"{where}.team {team!r} is not one of the teams")
    rule = Rule(team=team, to=strings(d, "to"), sender=strings(d, "from"), keywords=strings(d, "keywords"),
                priority=Priority.parse(d["priority"]) if "priority" in d else None,
                category=d.get("category"), tags=strings(d, "tags"))
    if not (rule.to or rule.sender or rule.keywords):
        raise WorkflowError(f"{where} has no condition (to, from or keywords)")
    return rule


def _template(d: Mapping[str, Any], i: int, teams: set[str]) -> Template:
    where = f"templates[{i}]"
    children = tuple(ChildSpec(c.get("team"), required(c, "subject", f"{where}.children[{j}]"))
                     for j, c in enumerate(d.get("children", [])))
    for child in children:
        if child.team is not None and child.team not in teams:
            raise WorkflowError(f"{where}: child team {child.team!r} is not one of the teams")
    return Template(name=required(d, "name", where), subject=str(d.get("subject", "")), team=d.get("team"),
                    priority=Priority.parse(d.get("priority", "normal")), category=d.get("category"),
                    tags=strings(d, "tags"), questions=strings(d, "questions"), children=children)


def _discord_id(d: Mapping[str, Any], key: str, where: str) -> str | None:
    """A Discord snowflake, written as a number or a string of digits (a "#name" would never match a channel)."""
    value = d.get(key)
    if value is None:
        return None
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdecimal():
        raise WorkflowError(f"{where}.{key} must be a Discord channel id (Developer Mode, then Copy Channel ID)")
    return text
