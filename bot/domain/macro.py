"""Macros (`[[macros]]` in the workflow file): several changes to a ticket, and a canned reply, in one named step.

Checked whole when the workflow file is read, so an unknown status or team fails at start, not on a ticket;
applied by bot.handlers.macros.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.domain.priority import Priority
from bot.domain.status import Status
from bot.domain.workflow_values import WorkflowError, required, strings

if TYPE_CHECKING:
    from bot.domain.workflow import Team


@dataclass(frozen=True)
class Macro:
    """Several changes to a ticket (and a canned reply) in one named step, checked whole at load.

    Steps are applied in a fixed order (see bot.handlers.macros): team, assignee, status, priority,
    category, tags, note in one transaction, then the reply. `assign` is "me", "none" or an agent's chat
    user id or email; `roles` the least role that may apply it ("agents", "managers", "admins")."""

    name: str
    title: str
    status: str | None = None  # one of ours, or a team's custom status name
    priority: Priority | None = None
    category: str | None = None
    add_tags: tuple[str, ...] = ()
    remove_tags: tuple[str, ...] = ()
    team: str | None = None
    assign: str | None = None
    note: str | None = None
    reply: str | None = None  # a canned reply's name, sent as ":name"
    teams: tuple[str, ...] = ()  # only these teams' tickets; empty: every ticket
    roles: tuple[str, ...] = ("agents",)

    def applies_to(self, team: str | None) -> bool:
        return not self.teams or (team is not None and team.lower() in {t.lower() for t in self.teams})

    @property
    def steps(self) -> tuple[str, ...]:
        """What it does, in words, for lists and selects: 'status solved, +refund, reply :refund-done'."""
        tags = [f"+{t}" for t in self.add_tags] + [f"-{t}" for t in self.remove_tags]
        words = [f"team {self.team}" if self.team else "", f"assign {self.assign}" if self.assign else "",
                 f"status {self.status}" if self.status else "", f"priority {self.priority}" if self.priority else "",
                 f"category {self.category}" if self.category else "", " ".join(tags),
                 "a note" if self.note else "", f"reply :{self.reply}" if self.reply else ""]
        return tuple(w for w in words if w)


MACRO_KEYS = frozenset({"name", "title", "status", "priority", "category", "tags", "add_tags", "remove_tags", "team",
                        "assign", "note", "reply", "teams", "roles"})
MACRO_ROLES = ("agents", "managers", "admins")
_MACRO_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$", re.IGNORECASE)


def parse_macro(d: Mapping[str, Any], i: int, teams: tuple[Team, ...], categories: tuple[str, ...]) -> Macro:
    """One [[macros]] entry; every error names the macro, and an unknown word fails here, not on a ticket."""
    name = required(d, "name", f"macros[{i}]")
    where = f"macro {name!r}"
    if not _MACRO_NAME.match(name):
        raise WorkflowError(f"{where}: a name is one word of letters, digits, '-', '_' or '.' (refund-approved)")
    if unknown := sorted(set(d) - MACRO_KEYS):
        raise WorkflowError(f"{where}: {unknown[0]!r} is not a macro step; use {', '.join(sorted(MACRO_KEYS))}")
    team_names = {t.name.lower(): t.name for t in teams}

    def team_named(value: object, key: str) -> str:
        found = team_names.get(str(value).strip().lower())
        if found is None:
            raise WorkflowError(f"{where}: {key} {value!r} is not one of the teams ({', '.join(team_names.values()) or 'none'})")
        return found

    status = d.get("status")
    if status is not None:
        status = " ".join(str(status).split())
        custom = {s.name.lower() for t in teams for s in t.statuses}
        if status.lower() not in custom:
            try:
                Status.parse(status)
            except ValueError as exc:
                raise WorkflowError(f"{where}: {exc}") from None
    try:
        priority = Priority.parse(str(d["priority"])) if "priority" in d else None
    except ValueError as exc:
        raise WorkflowError(f"{where}: {exc}") from None
    category = d.get("category")
    if category is not None:
        category = next((c for c in categories if c.lower() == str(category).strip().lower()), None)
        if category is None:
            raise WorkflowError(f"{where}: category {d['category']!r} is not one of: {', '.join(categories)}")
    tags = strings(d, "tags")
    add = [t.strip().lstrip("+#").lower() for t in (*tags, *strings(d, "add_tags")) if not t.strip().startswith("-")]
    remove = [t.strip().lstrip("-#").lower() for t in tags if t.strip().startswith("-")]
    remove += [t.strip().lstrip("-#").lower() for t in strings(d, "remove_tags")]
    if any(not t or " " in t for t in (*add, *remove)):
        raise WorkflowError(f"{where}: a tag is one word (\"+refund\", \"-pending\")")
    assign = d.get("assign")
    if assign is not None and (not isinstance(assign, str) or not assign.strip()):
        raise WorkflowError(f"{where}: assign is \"me\", \"none\" or an agent's chat user id or email")
    roles = tuple(str(r).strip().lower() for r in strings(d, "roles")) or ("agents",)
    if bad := [r for r in roles if r not in MACRO_ROLES]:
        raise WorkflowError(f"{where}: roles {bad[0]!r} is not a role that may apply macros; use {', '.join(MACRO_ROLES)}")
    note, reply = d.get("note"), d.get("reply")
    if note is not None and not str(note).strip():
        raise WorkflowError(f"{where}: an empty note")
    if reply is not None:
        reply = str(reply).strip().lstrip(":")
        if not _MACRO_NAME.match(reply):
            raise WorkflowError(f"{where}: reply names a canned reply (\"refund-done\"), not a text")
    macro = Macro(name=name, title=" ".join(str(d.get("title") or name).split()), status=status, priority=priority,
                  category=category, add_tags=tuple(dict.fromkeys(add)), remove_tags=tuple(dict.fromkeys(remove)),
                  team=team_named(d["team"], "team") if "team" in d else None,
                  assign=assign.strip() if assign else None, note=str(note).strip() if note else None, reply=reply,
                  teams=tuple(team_named(t, "teams") for t in strings(d, "teams")), roles=roles)
    if not macro.steps:
        raise WorkflowError(f"{where} does nothing: give it a step (status, priority, category, tags, team, "
                            "assign, note or reply)")
    return macro
