"""Requests exactly as Slack sends them to `/slack/events`, signed with the app's signing secret.

Slash commands are form-encoded, interactivity is a form with one `payload=` JSON
field, the Events API is JSON; all carry `X-Slack-Request-Timestamp` and
`X-Slack-Signature` (v0 HMAC-SHA256 over `v0:{timestamp}:{body}`). Interaction
builders take the message as posted (e.g. `FakeSlack.message(...).payload()`),
so a click carries the very element Slack would echo back. `.forged()` and
`.stale()` give the same request with a wrong signature or an old timestamp.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

import aiohttp

from tests.support.slack_interaction_rules import stamp

FORM = "application/x-www-form-urlencoded"
_MENTION = re.compile(r"<@([A-Z0-9]+)>")


def signature(secret: str, timestamp: int, body: str) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Reply:
    status: int
    text: str
    content_type: str

    def json(self) -> Any:
        return json.loads(self.text)


@dataclass(frozen=True)
class SlackRequest:
    body: str
    content_type: str
    timestamp: int
    secret: str = field(repr=False)
    extra_headers: tuple[tuple[str, str], ...] = ()
    signature_override: str | None = field(default=None, repr=False)

    @property
    def headers(self) -> dict[str, str]:
        sig = self.signature_override or signature(self.secret, self.timestamp, self.body)
        return {"Content-Type": self.content_type, "X-Slack-Request-Timestamp": str(self.timestamp),
                "X-Slack-Signature": sig, **dict(self.extra_headers)}

    def forged(self) -> SlackRequest:
        """The same request signed with a secret that is not the app's."""
        return replace(self, signature_override=signature(self.secret + "-not-it", self.timestamp, self.body))

    def stale(self, seconds: int = 6 * 60) -> SlackRequest:
        """Correctly signed, but with a timestamp `seconds` old (Slack's replay window is 5 minutes)."""
        return replace(self, timestamp=self.timestamp - seconds)

    async def post(self, session: aiohttp.ClientSession, url: str) -> Reply:
        async with session.post(url, data=self.body.encode(), headers=self.headers) as resp:
            return Reply(resp.status, await resp.text(), resp.content_type)


class SlackRequests:
    """Builds signed requests for one workspace, one app, one tickets channel."""

    def __init__(self, signing_secret: str, *, team_id: str = "T0TEST", bot_user_id: str = "U0BOT",
                 channel_id: str = "C0TICKETS", channel_name: str = "tickets", api_app_id: str = "A0TEST",
                 response_url_base: str = "https://hooks.slack.com/", users: Mapping[str, str] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.secret = signing_secret
        self.team_id, self.bot_user_id, self.api_app_id = team_id, bot_user_id, api_app_id
        self.channel_id, self.channel_name = channel_id, channel_name
        self.response_url_base = response_url_base
        self.users = dict(users or {})  # user id -> username
        self.clock = clock
        self._seq = itertools.count(1)

    # --- plumbing -----------------------------------------------------------------------
    def _request(self, body: str, content_type: str, headers: tuple[tuple[str, str], ...] = ()) -> SlackRequest:
        return SlackRequest(body, content_type, int(self.clock()), self.secret, headers)

    def _interaction(self, payload: dict[str, Any]) -> SlackRequest:
        return self._request(urlencode({"payload": json.dumps(payload)}), FORM)

    def ts(self) -> str:
        """A fresh message timestamp, unique within this builder."""
        return f"{int(self.clock())}.{next(self._seq):06d}"

    def trigger_id(self) -> str:
        """Stamped with when it was given out: the fake lets it open one modal within 3 s
        (tests/support/slack_interaction_rules.py)."""
        return f"{stamp(self.clock)}.{next(self._seq)}.{uuid.uuid4().hex[:24]}"

    def response_url(self, kind: str) -> str:
        """Stamped likewise: the fake takes 5 answers on it within 30 minutes."""
        return f"{self.response_url_base}{kind}-{next(self._seq)}-{stamp(self.clock)}"

    def user(self, user_id: str) -> dict[str, Any]:
        name = self.users.get(user_id, user_id.lower())
        return {"id": user_id, "username": name, "name": name, "team_id": self.team_id}

    def _common(self, user: str) -> dict[str, Any]:
        return {"team": {"id": self.team_id, "domain": "fake"}, "user": self.user(user), "api_app_id": self.api_app_id,
                "token": "legacy-verification-token", "is_enterprise_install": False, "enterprise": None}

    # --- slash commands and interactivity ---------------------------------------------------
    def command(self, text: str, *, user: str, command: str = "/ticket", channel: str | None = None) -> SlackRequest:
        form = {
            "token": "legacy-verification-token", "team_id": self.team_id, "team_domain": "fake",
            "channel_id": channel or self.channel_id, "channel_name": self.channel_name,
            "user_id": user, "user_name": self.users.get(user, user.lower()), "command": command, "text": text,
            "api_app_id": self.api_app_id, "is_enterprise_install": "false",
            "response_url": self.response_url("commands"), "trigger_id": self.trigger_id(),
        }
        return self._request(urlencode(form), FORM)

    def block_action(self, message: Mapping[str, Any], action: dict[str, Any], *, user: str,
                     channel: str | None = None, ephemeral: bool = False) -> SlackRequest:
        """A block_actions payload for `action` (already shaped as Slack echoes it) on `message`.

        On an `ephemeral` message (one only the clicker saw) Slack sends no `message`, only its ts.
        """
        channel = channel or self.channel_id
        container = {"type": "message", "message_ts": message["ts"], "channel_id": channel, "is_ephemeral": ephemeral}
        if message.get("thread_ts"):
            container["thread_ts"] = message["thread_ts"]
        payload = {
            "type": "block_actions", **self._common(user), "container": container, "trigger_id": self.trigger_id(),
            "channel": {"id": channel, "name": self.channel_name}, "state": {"values": {}},
            "response_url": self.response_url("actions"), "actions": [{**action, "action_ts": f"{self.clock():.6f}"}],
        }
        if not ephemeral:
            payload["message"] = dict(message)
        return self._interaction(payload)

    def _element(self, message: Mapping[str, Any], action_id: str) -> tuple[str, dict[str, Any]]:
        for block in message.get("blocks") or []:
            candidates = list(block.get("elements") or []) + ([block["accessory"]] if block.get("accessory") else [])
            for element in candidates:
                if element.get("action_id") == action_id:
                    return str(block.get("block_id", "")), element
        raise LookupError(f"no element {action_id!r} in message {message.get('ts')}")

    def click(self, message: Mapping[str, Any], action_id: str, *, user: str, channel: str | None = None) -> SlackRequest:
        """A button press on a posted message; fails loudly if the message has no such button."""
        block_id, element = self._element(message, action_id)
        if element.get("type") != "button":
            raise LookupError(f"{action_id!r} is a {element.get('type')}, not a button")
        action = {"type": "button", "action_id": action_id, "block_id": block_id, "text": element["text"]}
        for key in ("value", "style"):
            if key in element:
                action[key] = element[key]
        return self.block_action(message, action, user=user, channel=channel)

    def select_user(self, message: Mapping[str, Any], action_id: str, selected: str, *, user: str,
                    channel: str | None = None) -> SlackRequest:
        block_id, element = self._element(message, action_id)
        action = {"type": "users_select", "action_id": action_id, "block_id": block_id, "selected_user": selected}
        if "initial_user" in element:
            action["initial_user"] = element["initial_user"]
        return self.block_action(message, action, user=user, channel=channel)

    def select_option(self, message: Mapping[str, Any], action_id: str, value: str, *, user: str,
                      channel: str | None = None) -> SlackRequest:
        block_id, element = self._element(message, action_id)
        option = next((o for o in element.get("options") or [] if o.get("value") == value), None)
        if option is None:
            raise LookupError(f"{action_id!r} has no option {value!r}")
        action = {"type": element["type"], "action_id": action_id, "block_id": block_id,
                  "selected_option": {"text": option["text"], "value": value}}
        if "placeholder" in element:
            action["placeholder"] = element["placeholder"]
        return self.block_action(message, action, user=user, channel=channel)

    def view_select_option(self, view: Mapping[str, Any], action_id: str, value: str, *, user: str) -> SlackRequest:
        """A pick in a select inside an open modal (as the fake stored it): block_actions with the view, its id
        and hash, and no channel or message (https://api.slack.com/reference/interaction-payloads/block-actions)."""
        for block in view.get("blocks") or []:
            for element in block.get("elements") or []:
                if element.get("action_id") == action_id:
                    option = next((o for o in element.get("options") or [] if o.get("value") == value), None)
                    if option is None:
                        raise LookupError(f"{action_id!r} has no option {value!r}")
                    action = {"type": element["type"], "action_id": action_id, "block_id": block.get("block_id"),
                              "selected_option": {"text": option["text"], "value": value},
                              "action_ts": f"{self.clock():.6f}"}
                    payload = {"type": "block_actions", **self._common(user), "trigger_id": self.trigger_id(),
                               "container": {"type": "view", "view_id": view["id"]}, "view": dict(view),
                               "actions": [action]}
                    return self._interaction(payload)
        raise LookupError(f"no element {action_id!r} in the view")

    def view_submission(self, view: Mapping[str, Any], values: Mapping[str, Mapping[str, Any]], *,
                        user: str) -> SlackRequest:
        """Submit an opened modal (as views.open returned it). `values`: block_id -> action_id -> text or value dict."""
        types = {(b.get("block_id"), b["element"].get("action_id")): b["element"].get("type")
                 for b in view.get("blocks") or [] if b.get("type") == "input"}
        state: dict[str, dict[str, Any]] = {}
        for block_id, actions in values.items():
            for action_id, value in actions.items():
                kind = types.get((block_id, action_id))
                if kind is None:
                    raise LookupError(f"the view has no input {block_id}/{action_id}")
                entry = value if isinstance(value, dict) else {"type": kind, "value": value}
                state.setdefault(block_id, {})[action_id] = entry
        payload = {"type": "view_submission", **self._common(user), "trigger_id": self.trigger_id(),
                   "view": {**view, "state": {"values": state}}, "response_urls": []}
        return self._interaction(payload)

    def message_action(self, message: Mapping[str, Any], *, callback_id: str, user: str,
                       channel: str | None = None) -> SlackRequest:
        """A message shortcut (the "⋯ More actions" menu) run on `message`."""
        payload = {"type": "message_action", **self._common(user), "callback_id": callback_id,
                   "trigger_id": self.trigger_id(), "action_ts": f"{self.clock():.6f}",
                   "channel": {"id": channel or self.channel_id, "name": self.channel_name},
                   "message_ts": message["ts"], "message": dict(message), "response_url": self.response_url("actions")}
        return self._interaction(payload)

    # --- Events API ---------------------------------------------------------------------
    def event(self, event: Mapping[str, Any], *, event_id: str | None = None, retry_num: int | None = None) -> SlackRequest:
        """Wrap an event in its event_callback envelope; `retry_num` marks a redelivery of the same event_id."""
        envelope = {
            "token": "legacy-verification-token", "team_id": self.team_id, "context_team_id": self.team_id,
            "api_app_id": self.api_app_id, "event": dict(event), "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._seq):010d}", "event_time": int(self.clock()),
            "authorizations": [{"enterprise_id": None, "team_id": self.team_id, "user_id": self.bot_user_id,
                                "is_bot": True, "is_enterprise_install": False}],
            "is_ext_shared_channel": False, "event_context": f"4-{uuid.uuid4().hex}",
        }
        headers: tuple[tuple[str, str], ...] = ()
        if retry_num:
            headers = (("X-Slack-Retry-Num", str(retry_num)), ("X-Slack-Retry-Reason", "http_timeout"))
        return self._request(json.dumps(envelope), "application/json", headers)

    def url_verification(self, challenge: str = "challenge-token") -> SlackRequest:
        body = {"token": "legacy-verification-token", "challenge": challenge, "type": "url_verification"}
        return self._request(json.dumps(body), "application/json")

    @staticmethod
    def rich_text(text: str) -> list[dict[str, Any]]:
        """The rich_text block Slack attaches to a typed message, mentions as user elements."""
        elements: list[dict[str, Any]] = []
        for i, part in enumerate(_MENTION.split(text)):
            if i % 2:
                elements.append({"type": "user", "user_id": part})
            elif part:
                elements.append({"type": "text", "text": part})
        return [{"type": "rich_text", "block_id": uuid.uuid4().hex[:5],
                 "elements": [{"type": "rich_text_section", "elements": elements}]}]

    def message(self, text: str, *, user: str, thread_ts: str | None = None, channel: str | None = None,
                bot: bool = False) -> dict[str, Any]:
        """A `message` event: a person typing (in a thread when thread_ts is given), or our bot with bot=True."""
        ts = self.ts()
        event: dict[str, Any] = {"type": "message", "channel": channel or self.channel_id, "user": user, "text": text,
                                 "ts": ts, "event_ts": ts, "channel_type": "channel", "team": self.team_id}
        if bot:
            event.update(bot_id="B0TEST", app_id=self.api_app_id)
        else:
            event.update(client_msg_id=str(uuid.uuid4()), blocks=self.rich_text(text))
        if thread_ts:
            event.update(thread_ts=thread_ts, parent_user_id=self.bot_user_id)
        return event

    def app_mention(self, text: str, *, user: str, thread_ts: str | None = None,
                    channel: str | None = None) -> dict[str, Any]:
        """`text` as typed, e.g. f"<@{bot}> close"; Slack also sends the matching `message` event."""
        event = {**self.message(text, user=user, thread_ts=thread_ts, channel=channel), "type": "app_mention"}
        event.pop("channel_type", None)
        return event

    def reaction_added(self, reaction: str, *, user: str, item_ts: str, item_user: str | None = None,
                       channel: str | None = None) -> dict[str, Any]:
        return {"type": "reaction_added", "user": user, "reaction": reaction,
                "item": {"type": "message", "channel": channel or self.channel_id, "ts": item_ts},
                "item_user": item_user or self.bot_user_id, "event_ts": self.ts()}

    def member_joined_channel(self, user: str, *, channel: str | None = None, inviter: str | None = None) -> dict[str, Any]:
        """Someone joined a channel the bot is in (api.slack.com/events/member_joined_channel)."""
        event = {"type": "member_joined_channel", "user": user, "channel": channel or self.channel_id,
                 "channel_type": "C", "team": self.team_id, "event_ts": self.ts()}
        return {**event, "inviter": inviter} if inviter else event

    def member_left_channel(self, user: str, *, channel: str | None = None) -> dict[str, Any]:
        """Someone left (or was removed from) a channel the bot is in (api.slack.com/events/member_left_channel)."""
        return {"type": "member_left_channel", "user": user, "channel": channel or self.channel_id,
                "channel_type": "C", "team": self.team_id, "event_ts": self.ts()}

    def subteam_members_changed(self, group: str, *, added: Sequence[str] = (), removed: Sequence[str] = ()) -> dict[str, Any]:
        """A user group's members changed (api.slack.com/events/subteam_members_changed)."""
        now = int(self.clock())
        return {"type": "subteam_members_changed", "subteam_id": group, "team_id": self.team_id,
                "date_previous_update": now - 60, "date_update": now, "added_users": list(added),
                "added_users_count": str(len(added)), "removed_users": list(removed),
                "removed_users_count": str(len(removed)), "event_ts": self.ts()}

    @staticmethod
    def _as_stored(event: Mapping[str, Any]) -> dict[str, Any]:
        """A message as it sits in history: the event without its delivery fields."""
        return {k: v for k, v in event.items() if k not in ("channel", "event_ts", "channel_type")}

    def message_changed(self, original: Mapping[str, Any], new_text: str) -> dict[str, Any]:
        """An edit of `original` (a message event built above)."""
        ts = self.ts()
        edited = {**self._as_stored(original), "text": new_text, "edited": {"user": original["user"], "ts": ts}}
        if "blocks" in original:
            edited["blocks"] = self.rich_text(new_text)
        return {"type": "message", "subtype": "message_changed", "hidden": True, "channel": original["channel"],
                "message": edited, "previous_message": self._as_stored(original), "ts": ts, "event_ts": ts,
                "channel_type": "channel"}

    def message_deleted(self, original: Mapping[str, Any]) -> dict[str, Any]:
        ts = self.ts()
        return {"type": "message", "subtype": "message_deleted", "hidden": True, "channel": original["channel"],
                "deleted_ts": original["ts"], "previous_message": self._as_stored(original), "ts": ts,
                "event_ts": ts, "channel_type": "channel"}
