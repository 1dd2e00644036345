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
from bot.adapters.slack.inbound import EVENTS
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


def test_the_door_accepts_exactly_the_events_the_manifest_subscribes_to() -> None:
    """An event the app subscribes to but the door does not know would be refused (400) at every delivery."""
    subscribed = {e.split(".")[0] for e in manifest()["settings"]["event_subscriptions"]["bot_events"]}
    assert subscribed == set(EVENTS)


def test_membership_facts_have_their_events_and_scopes() -> None:
    """Who is an agent comes from channel membership and user groups: reading them needs these."""
    m = manifest()
    assert set(m["settings"]["event_subscriptions"]["bot_events"]) >= {
        "member_joined_channel", "member_left_channel", "subteam_members_changed"}
    assert set(m["oauth_config"]["scopes"]["bot"]) >= {"channels:read", "groups:read", "usergroups:read"}
