"""The fake Slack's rules for interactions: trigger ids, response_urls and escaped slash-command text.

Mixed into tests/support/fake_slack.FakeSlack (views.open and the /hooks/ answers go through here), and
used by tests/support/slack_requests.SlackRequests, which builds the ids and URLs these rules judge:

- A `trigger_id` opens one modal, within 3 seconds of the click or command that carried it.
  "trigger_id ... Exchange a trigger to post to the user" and "Triggers expire in three seconds ... can
  only be used once" (https://api.slack.com/interactivity/handling#modal_responses and
  https://api.slack.com/methods/views.open): views.open answers `expired_trigger_id` ("The trigger_id
  has expired") past the window, `exchanged_trigger_id` ("Trigger ID cannot be exchanged more than
  once") the second time and `invalid_trigger_id` for one Slack never gave out.
- A `response_url` takes at most 5 answers within 30 minutes of the request
  (https://api.slack.com/interactivity/handling#message_responses: "You can use a response_url five
  times within 30 minutes"); past that the hook answers 404 `used_url` / `expired_url`. (What an
  answer may hold is judged like a message: tests/support/slack_rules.py.)
- Slash-command text is escaped when the command sets `should_escape: true`
  (https://api.slack.com/interactivity/slash-commands, "Escaping"): `&`, `<`, `>` as `&amp;`,
  `&lt;`, `&gt;`; a person the workspace has, typed as `@name`, as `<@U…|name>`; a channel typed as
  `#name` as `<#C…|name>`. `@name` Slack does not know stays text.
- User ids must exist: users.info answers `user_not_found` (tests/support/slack_directory.py).

Ids and URLs from SlackRequests carry the wall-clock millisecond they were issued in their first part
(`{ms}.{n}.{hex}`, `…/hooks/{kind}-{n}-{ms}`). One made up by hand in a test (`1.2.abc`) has no known
age: it is held to single use only.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

TRIGGER_SECONDS = 3.0
RESPONSE_USES = 5
RESPONSE_SECONDS = 30 * 60
_ISSUED_TRIGGER = re.compile(r"^(\d{13})\.\d+\.[0-9a-f]{24}$")
_ISSUED_HOOK = re.compile(r"-(\d{13})$")


def stamp(clock: Callable[[], float]) -> str:
    """The issuing time as ids and URLs carry it: wall-clock milliseconds, 13 digits."""
    return f"{int(clock() * 1000):013d}"


@dataclass
class InteractionRules:
    """What the fake remembers of triggers and response_urls; `wall` is the clock SlackRequests stamps with."""

    wall: Callable[[], float] = time.time
    delay: dict[str, float] = field(default_factory=dict)  # Web API method -> seconds it takes (a slow Slack)
    exchanged: set[str] = field(default_factory=set)
    hook_uses: dict[str, int] = field(default_factory=dict)

    def exchange_trigger(self, trigger_id: object) -> str | None:
        """The error views.open answers for this trigger_id, or None (and it is used up)."""
        if not isinstance(trigger_id, str) or not trigger_id:
            return "invalid_trigger_id"
        if trigger_id in self.exchanged:
            return "exchanged_trigger_id"
        issued = _ISSUED_TRIGGER.match(trigger_id)
        if issued and self.wall() - int(issued.group(1)) / 1000 > TRIGGER_SECONDS:
            return "expired_trigger_id"
        self.exchanged.add(trigger_id)
        return None

    def use_hook(self, hook: str) -> str | None:
        """The error a response_url answers (HTTP 404), or None and one of its five uses is spent."""
        issued = _ISSUED_HOOK.search(hook)
        if issued and self.wall() - int(issued.group(1)) / 1000 > RESPONSE_SECONDS:
            return "expired_url"
        if self.hook_uses.get(hook, 0) >= RESPONSE_USES:
            return "used_url"
        self.hook_uses[hook] = self.hook_uses.get(hook, 0) + 1
        return None

    def spend(self, response_url: str, uses: int = RESPONSE_USES) -> None:
        """Use up a response_url as if it had been answered `uses` times already."""
        hook = response_url.rstrip("/").rsplit("/", 1)[-1]
        self.hook_uses[hook] = self.hook_uses.get(hook, 0) + uses


def escape_command(typed: str, users: Mapping[str, dict[str, Any]], channels: Mapping[str, str] | None) -> str:
    """`typed` as Slack sends it with should_escape: true: entities first, then known @people and #channels."""
    text = typed.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    by_name = {str(u.get("name", "")).lower(): uid for uid, u in users.items() if u.get("name")}
    by_channel = {name.lower(): cid for cid, name in (channels or {}).items()}

    def person(match: re.Match[str]) -> str:
        uid = by_name.get(match.group(1).lower())
        return f"<@{uid}|{match.group(1)}>" if uid else match.group(0)

    def channel(match: re.Match[str]) -> str:
        cid = by_channel.get(match.group(1).lower())
        return f"<#{cid}|{match.group(1)}>" if cid else match.group(0)

    text = re.sub(r"(?<![\w<])@([a-z0-9._-]+)", person, text, flags=re.IGNORECASE)
    return re.sub(r"(?<![\w<&])#([a-z0-9_-]+)", channel, text, flags=re.IGNORECASE)
