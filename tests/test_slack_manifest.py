"""The shipped Slack app manifest asks for what the adapter listens to, at the URL it serves.

An app installed from config/slack-manifest.yaml must deliver every event,
command and shortcut the listeners handle; a mismatch shows up in Slack only as
buttons or shortcuts that silently do nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.adapters.slack.adapter import EVENTS_PATH
from bot.adapters.slack.interactions import SEND_TO_CUSTOMER

MANIFEST = Path(__file__).resolve().parent.parent / "config" / "slack-manifest.yaml"


def manifest() -> dict[str, Any]:
    return yaml.safe_load(MANIFEST.read_text())


def test_command_shortcut_and_urls_match_the_adapter() -> None:
    m = manifest()
    [command] = m["features"]["slash_commands"]
    assert command["command"] == "/ticket" and command["should_escape"] is False  # mentions arrive as <@U…>
    assert [s["callback_id"] for s in m["features"]["shortcuts"]] == [SEND_TO_CUSTOMER]
    urls = {command["url"], m["settings"]["event_subscriptions"]["request_url"], m["settings"]["interactivity"]["request_url"]}
    assert urls == {f"https://YOUR-HOST{EVENTS_PATH}"}
    assert m["settings"]["interactivity"]["is_enabled"] is True


def test_events_and_scopes_cover_what_the_listeners_need() -> None:
    m = manifest()
    assert set(m["settings"]["event_subscriptions"]["bot_events"]) >= {
        "message.channels", "message.groups", "app_mention", "reaction_added"}
    scopes = set(m["oauth_config"]["scopes"]["bot"])
    assert scopes >= {"chat:write", "commands", "users:read", "users:read.email", "channels:history",
                      "groups:history", "reactions:read", "app_mentions:read", "files:write"}
