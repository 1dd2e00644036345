"""What may come in at Slack's door: the shapes our listeners read, and where answers may go.

A request is judged here before Bolt or a listener touches it: Bolt indexes into the body while it
routes (`body["event"]["type"]`, `body["view"]["callback_id"]`) and the listeners read fields
without checking, so a signed request of an unexpected shape (a bad JSON payload, a missing field, a
type we do not know) would otherwise surface as a 500 halfway through, possibly after an effect. Here
it is a `Malformed` with the reason, answered 400, with no effect.

The same check keeps `response_url` answers at Slack: Bolt's `respond()` posts to the URL the request
carries, so a request whose response_url (or response_urls) points anywhere but
`https://hooks.slack.com/` (or the configured SLACK_API_URL's host, for tests) is refused whole, and
logged without the URL's path, which is a secret that lets anyone answer in the caller's name.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

log = logging.getLogger(__name__)

FORM = "application/x-www-form-urlencoded"
SLACK_HOOKS = ("https", "hooks.slack.com", 443)
REPLAY_WINDOW = 5 * 60  # Slack: refuse a request whose timestamp is more than five minutes off


def signed(secret: str, raw: bytes, timestamp: str | None, signature: str | None, *, now: float | None = None) -> bool:
    """Slack's v0 signature: HMAC-SHA256 of `v0:{timestamp}:{body}`, over the body's bytes as they came.

    Done here rather than by slack_sdk's verifier, which decodes the body first and raises on a timestamp
    that is not a number or a signature that is not ASCII: those are a 401 here, not a 500.
    """
    if not timestamp or not signature or not (timestamp.isascii() and timestamp.isdigit()):
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > REPLAY_WINDOW:
        return False
    base = b"v0:" + timestamp.encode() + b":" + raw
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))


class Malformed(ValueError):
    """A request (or a part of one) whose shape is not what Slack sends; answered 400, never acted on."""


# --- where response_url answers may go ----------------------------------------------------

@dataclass(frozen=True)
class ResponseUrls:
    """The origins (scheme, host, port) an answer through response_url may be posted to."""

    origins: frozenset[tuple[str, str, int]]

    @classmethod
    def for_api(cls, api_url: str) -> ResponseUrls:
        """Slack's hooks, and the Web API's own host (a test's fake Slack serves both)."""
        api = _origin(api_url)
        return cls(frozenset({SLACK_HOOKS, *([api] if api else [])}))

    def allows(self, url: str) -> bool:
        return _origin(url) in self.origins


def _origin(url: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url)
        port = parts.port or {"https": 443, "http": 80}.get(parts.scheme)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or port is None or parts.username:
        return None
    return parts.scheme, parts.hostname.lower(), port


def shown(url: str) -> str:
    """A URL as it may be logged: scheme and host only; the path of a response_url is a credential."""
    try:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.hostname}" if parts.hostname else "(not a URL)"
    except ValueError:
        return "(not a URL)"


# --- the body -----------------------------------------------------------------------------

def parse(raw: bytes, content_type: str) -> dict[str, Any]:
    """The body as Bolt will see it: JSON (Events API), a form with one `payload` (interactivity), or a form."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Malformed("the body is not UTF-8") from None
    if content_type == "application/json" or text.startswith("{"):
        body = _json(text, "the body")
    elif content_type == FORM:
        form = dict(parse_qsl(text, keep_blank_values=True))
        body = _json(form["payload"], "the payload") if "payload" in form else form
    else:
        raise Malformed(f"a {content_type or 'typeless'} body")
    return body


def _json(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        raise Malformed(f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise Malformed(f"{what} is not a JSON object")
    return value


def check(body: Mapping[str, Any], urls: ResponseUrls) -> None:
    """Raise Malformed unless `body` has every field, of the right type, that routing and our listeners read."""
    if "command" in body or "ssl_check" in body:
        _command(body)
    elif (kind := body.get("type")) in INTERACTIONS:
        _fields(body, "", user=dict, trigger_id=(str, None), channel=(dict, None), response_url=(str, None),
                response_urls=(list, None))
        _id(body["user"], "user")
        INTERACTIONS[kind](body)
    elif kind == "event_callback":
        _event(body)
    elif kind == "url_verification":
        _fields(body, "", challenge=str)
    elif kind == "app_rate_limited":
        _fields(body, "", minute_rate_limited=(int, None))
    else:
        raise Malformed(f"unknown request type {str(kind)[:40]!r}")
    for url in _response_urls(body):
        if not urls.allows(url):
            log.warning("slack: refused a request whose response_url points at %s, not at Slack", shown(url))
            raise Malformed("response_url is not Slack's")


def _response_urls(body: Mapping[str, Any]) -> Iterable[str]:
    if isinstance(body.get("response_url"), str) and body["response_url"]:
        yield body["response_url"]
    for entry in body.get("response_urls") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("response_url"), str):
            raise Malformed("response_urls[] without a response_url")
        yield entry["response_url"]


def _command(body: Mapping[str, Any]) -> None:
    if body.get("ssl_check") == "1" and "command" not in body:
        return  # Slack checking the certificate of a slash command's URL; Bolt answers it, nothing runs
    _fields(body, "", command=str, user_id=str, text=(str, None), response_url=str, trigger_id=(str, None),
            channel_id=(str, None), user_name=(str, None))
    if not body["user_id"]:
        raise Malformed("a command without user_id")


def _block_actions(body: Mapping[str, Any]) -> None:
    actions = body.get("actions")
    if not isinstance(actions, list) or not actions:
        raise Malformed("block_actions without actions")
    for action in actions:
        if not isinstance(action, dict):
            raise Malformed("an action that is not an object")
        _fields(action, "actions[]", action_id=str, block_id=(str, None), value=(str, None),
                selected_user=(str, None), selected_option=(dict, None))
        if isinstance(action.get("selected_option"), dict):
            _fields(action["selected_option"], "selected_option", value=str)
    _fields(body, "", message=(dict, None), view=(dict, None))


def _view_submission(body: Mapping[str, Any]) -> None:
    _fields(body, "", view=dict)
    view = body["view"]
    _fields(view, "view", type=str, callback_id=str, private_metadata=(str, None), state=(dict, None))
    values = (view.get("state") or {}).get("values", {})
    if not isinstance(values, dict) or not all(
            isinstance(b, dict) and all(isinstance(a, dict) for a in b.values()) for b in values.values()):
        raise Malformed("view.state.values is not blocks of actions")
    for block in values.values():
        for entry in block.values():
            _fields(entry, "view.state.values", type=(str, None), value=(str, None), selected_option=(dict, None),
                    selected_options=(list, None), selected_user=(str, None))


def _view_closed(body: Mapping[str, Any]) -> None:
    _fields(body, "", view=dict)
    _fields(body["view"], "view", type=str, callback_id=str)


def _message_action(body: Mapping[str, Any]) -> None:
    _fields(body, "", callback_id=str, trigger_id=str, message=dict, channel=dict)
    _fields(body["message"], "message", ts=str, thread_ts=(str, None), text=(str, None))
    _id(body["channel"], "channel")


def _shortcut(body: Mapping[str, Any]) -> None:
    _fields(body, "", callback_id=str, trigger_id=str)


INTERACTIONS = {"block_actions": _block_actions, "view_submission": _view_submission, "view_closed": _view_closed,
                "message_action": _message_action, "shortcut": _shortcut}

# The events the manifest subscribes to, with the fields their listeners read (tests compare the two).
_TS = (str, None)
EVENTS: dict[str, dict[str, Any]] = {
    "message": {"channel": str, "ts": _TS, "user": _TS, "text": _TS, "subtype": _TS, "thread_ts": _TS,
                "bot_id": _TS, "files": (list, None), "message": (dict, None), "deleted_ts": _TS},
    "app_mention": {"channel": str, "user": str, "text": str, "ts": str, "thread_ts": _TS, "bot_id": _TS},
    "reaction_added": {"user": str, "reaction": str, "item": dict},
    "member_joined_channel": {"user": str, "channel": str},
    "member_left_channel": {"user": str, "channel": str},
    "subteam_members_changed": {"subteam_id": str, "added_users": (list, None), "removed_users": (list, None)},
}


def _event(body: Mapping[str, Any]) -> None:
    _fields(body, "", event=dict, event_id=(str, None))
    event = body["event"]
    kind = event.get("type")
    if kind not in EVENTS:
        raise Malformed(f"an event of type {str(kind)[:40]!r}, which the app does not subscribe to")
    _fields(event, f"{kind} event", **EVENTS[kind])
    if kind == "message" and event.get("subtype") == "message_changed":
        _fields(event, "message_changed", message=dict)
        _fields(event["message"], "message_changed.message", ts=_TS, user=_TS, text=_TS, bot_id=_TS, thread_ts=_TS)
    if kind == "reaction_added":
        _fields(event["item"], "reaction_added.item", type=str, channel=_TS, ts=_TS)
    for key in ("added_users", "removed_users"):
        if not all(isinstance(u, str) for u in event.get(key) or []):
            raise Malformed(f"{kind}.{key} holds something else than user ids")


# --- what our own modals carry back ---------------------------------------------------------

MAX_TICKET = 2**31 - 1


def metadata_number(view: Mapping[str, Any]) -> int:
    """The ticket number a modal of ours carries as its private_metadata ("12")."""
    return ticket_number(view.get("private_metadata"))


def metadata_object(view: Mapping[str, Any]) -> dict[str, Any]:
    """A modal's private_metadata holding a JSON object (the Reply modal's {"ticket": 12, ...})."""
    raw = view.get("private_metadata") or "{}"
    if not isinstance(raw, str):
        raise Malformed("private_metadata is not text")
    return _json(raw, "private_metadata")


def ticket_number(value: object) -> int:
    """A ticket number as our own renderings write it; Malformed for anything else."""
    text = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) <= MAX_TICKET:
        raise Malformed("not a ticket number")
    return int(text)


def _fields(obj: Mapping[str, Any], where: str, **expected: Any) -> None:
    """Each named field has its type; a (type, None) tuple means it may also be absent or null."""
    for name, kind in expected.items():
        optional = isinstance(kind, tuple)
        want = kind[0] if optional else kind
        value = obj.get(name)
        if value is None and optional:
            continue
        if not isinstance(value, want) or (want is int and isinstance(value, bool)):
            place = f"{where}.{name}" if where else name
            raise Malformed(f"{place} is {'missing' if value is None else type(value).__name__}, not {want.__name__}")


def _id(obj: Mapping[str, Any], where: str) -> None:
    if not isinstance(obj.get("id"), str) or not obj["id"]:
        raise Malformed(f"{where}.id is missing")
