"""Who may do what: roles, the roster that names them, and the one decision every door asks for.

Pure Python on purpose: the rule that keeps internal notes from strangers and
customer mail from light agents must be readable and testable without a chat
platform or a database. `bot.handlers.permissions` feeds it facts from the store;
the doors (Slack, Discord, console) feed it facts about the person.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum, StrEnum


class Role(IntEnum):
    """Ordered: each role may do what the ones below it may (light is the exception: only pulled-in tickets)."""

    STRANGER = 0
    LIGHT = 1
    AGENT = 2
    MANAGER = 3
    ADMIN = 4

    @property
    def label(self) -> str:
        return {Role.LIGHT: "light agent"}.get(self, self.name.lower())


class Action(StrEnum):
    """Everything a person can ask of the helpdesk, as the policy names it (and the audit trail records it)."""

    SHOW = "show"  # show, history: read the ticket with its internal notes
    NOTE = "note"  # write an internal note
    MENTION = "mention"  # pull a colleague into a ticket
    CLAIM = "claim"
    ASSIGN = "assign"
    REPLY = "reply"  # mail the customer
    STATUS = "status"  # close, reopen, any status
    PRIORITY = "priority"
    CLASSIFY = "classify"  # category, tags
    MOVE = "move"
    MERGE = "merge"
    CHILD = "child"
    TASK = "task"
    QUEUE = "queue"  # the queue, my tickets, my tasks, /ticket next
    NEW = "new"  # open a ticket by hand
    SEND = "send"  # open a ticket and mail an outside address
    REPORT = "report"
    QUARANTINE = "quarantine"
    CONFIGURE = "configure"
    # the agent's toolkit (issue 14)
    SEARCH = "search"  # full-text search and saved views; a light agent finds only tickets they were pulled into
    KB = "kb"  # search the knowledge base
    CANNED = "canned"  # list and save canned replies (sending one is a REPLY)
    MACRO = "macro"  # apply a macro (each of its changes is checked as well)
    TIME = "time"  # log time spent on a ticket
    ASK = "ask"  # mail an outside expert about a ticket

    @property
    def phrase(self) -> str:
        """How a refusal says it: 'only agents of Billing can reply to #12'."""
        return _PHRASES.get(self, self.value)


_PHRASES = {
    Action.SHOW: "read", Action.NOTE: "write notes on", Action.MENTION: "pull people into",
    Action.STATUS: "change the status of", Action.PRIORITY: "change the priority of",
    Action.CLASSIFY: "categorise or tag", Action.TASK: "add tasks to", Action.REPLY: "reply to",
    Action.CHILD: "split child tickets off", Action.QUEUE: "see the queue", Action.NEW: "open tickets",
    Action.SEND: "mail outside addresses", Action.REPORT: "read reports", Action.QUARANTINE: "handle quarantined mail",
    Action.CONFIGURE: "change the configuration",
    Action.SEARCH: "search tickets", Action.KB: "search the knowledge base", Action.CANNED: "use canned replies",
    Action.MACRO: "apply macros to", Action.TIME: "log time on", Action.ASK: "consult outside experts about",
}

LIGHT_ACTIONS = frozenset({Action.SHOW, Action.NOTE})  # what being pulled into a ticket allows
ADMIN_ONLY = frozenset({Action.QUARANTINE, Action.CONFIGURE})
TICKETLESS = frozenset({Action.QUEUE, Action.NEW, Action.SEND, Action.REPORT, Action.QUARANTINE, Action.CONFIGURE,
                        Action.SEARCH, Action.KB, Action.CANNED, Action.MACRO})  # MACRO: the list of macros
LIGHT_TICKETLESS = frozenset({Action.SEARCH, Action.KB})  # light agents too (search shows them their tickets only)


@dataclass(frozen=True)
class Roster:
    """The `[roles]` table of the workflow file. Members are Slack or Discord user ids, emails,
    Slack user group ids (S…) or Discord role ids, matched case-insensitively."""

    admins: frozenset[str] = frozenset()
    managers: frozenset[str] = frozenset()
    agents: frozenset[str] = frozenset()
    light: frozenset[str] = frozenset()

    @property
    def names(self) -> frozenset[str]:
        return self.admins | self.managers | self.agents | self.light


@dataclass(frozen=True)
class Identity:
    """What a door knows of the person: every key the roster may name them by, and (for the default
    roster) whether the platform lets them see and write in the tickets channel."""

    keys: frozenset[str]
    in_tickets_channel: bool = False
    operator: bool = False  # the local console or command line: the person running Tiketti


@dataclass(frozen=True)
class Standing:
    role: Role
    teams: frozenset[str]  # teams they are a member of
    restricted: bool  # a roster is configured (teams with members or [roles]); else channel members are agents


@dataclass(frozen=True)
class TicketScope:
    """The facts about one ticket that decide who may touch it."""

    number: int
    team: str | None
    team_private: bool = False
    team_has_members: bool = False
    pulled_in: bool = False  # the person was pulled into it (a collaborator): light on this ticket


def keys_of(*values: str | None, groups: Iterable[str] = ()) -> frozenset[str]:
    return frozenset(v.strip().lower() for v in (*values, *groups) if v and v.strip())


def standing_of(who: Identity, roster: Roster, teams: Iterable[tuple[str, Iterable[str]]]) -> Standing:
    """The person's role from the roster (and team membership); the channel decides when there is none."""
    teams = [(name, {m.lower() for m in members}) for name, members in teams]
    member_of = frozenset(name for name, members in teams if members & who.keys)
    restricted = bool(roster.names) or any(members for _, members in teams)
    if who.operator or _named(who.keys, roster.admins):
        role = Role.ADMIN
    elif _named(who.keys, roster.managers):
        role = Role.MANAGER
    elif _named(who.keys, roster.agents) or member_of:
        role = Role.AGENT
    elif _named(who.keys, roster.light):
        role = Role.LIGHT
    elif not restricted and who.in_tickets_channel:
        role = Role.AGENT
    else:
        role = Role.STRANGER
    return Standing(role, member_of, restricted)


def _named(keys: frozenset[str], names: frozenset[str]) -> bool:
    return any(n.lower() in keys for n in names)


def decide(standing: Standing, action: Action, scope: TicketScope | None = None) -> str | None:
    """None if the person may; otherwise why not, worded for them."""
    role = standing.role
    if role == Role.ADMIN:
        return None
    if action in ADMIN_ONLY:
        return f"only admins can {action.phrase}"
    if scope is None:
        return _decide_ticketless(standing, action)
    if role >= Role.MANAGER:
        return None
    team = scope.team or "no team"
    open_team = scope.team is None or not (scope.team_has_members or scope.team_private)
    works = role == Role.AGENT and (open_team or scope.team in standing.teams)
    sees = works or scope.pulled_in or (role == Role.AGENT and not scope.team_private)
    if works or (action in LIGHT_ACTIONS and sees):
        return None
    if role == Role.AGENT:
        if not sees:
            return f"#{scope.number} belongs to the private team {team}; only its members can {action.phrase} it"
        return f"only agents of {team} can {action.phrase} #{scope.number}"
    if scope.pulled_in:
        return f"you were pulled into #{scope.number} to help: you can read it and write notes, not {action.phrase} it"
    if role == Role.LIGHT:
        return f"a light agent can {action.phrase} only the tickets they were pulled into; #{scope.number} is not one"
    return f"only the helpdesk's agents can {action.phrase} tickets"


def _decide_ticketless(standing: Standing, action: Action) -> str | None:
    if action not in TICKETLESS:
        raise ValueError(f"{action} is about a ticket; say which")
    if standing.role < Role.AGENT and not (standing.role == Role.LIGHT and action in LIGHT_TICKETLESS):
        phrase = {Action.MACRO: "apply macros"}.get(action, action.phrase)  # no ticket to apply them to
        return f"only the helpdesk's agents can {phrase}"
    if action == Action.REPORT and standing.role < Role.MANAGER and standing.restricted and not standing.teams:
        return "only managers and the teams' agents can read reports"
    return None


def may_report_on(standing: Standing, team: str | None) -> str | None:
    """Managers read every team's figures; an agent of a configured roster reads their own teams' only."""
    if standing.role >= Role.MANAGER or not standing.restricted:
        return decide(standing, Action.REPORT)
    if team is None or team not in standing.teams:
        mine = ", ".join(sorted(standing.teams)) or "none"
        return f"agents read their own teams' reports (yours: {mine}); ask for one of them, or ask a manager"
    return None


def may_see_team(standing: Standing, team: str | None, private: bool) -> bool:
    """For lists (queue, search): private teams' tickets are shown to their members, managers and admins."""
    return not private or team is None or standing.role >= Role.MANAGER or team in standing.teams
