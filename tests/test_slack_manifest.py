"""The shipped Slack app manifest asks for what the adapter listens to, at the URL it serves.

An app installed from config/slack-manifest.yaml must deliver every event,
command and shortcut the listeners handle; a mismatch shows up in Slack only as
buttons or shortcuts that silently do nothing.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from bot.adapters.commands import SPECS
from bot.adapters.slack.adapter import EVENTS_PATH
from bot.adapters.slack.inbound import EVENTS
from bot.adapters.slack.interactions import SEND_TO_CUSTOMER

MANIFEST = Path(__file__).resolve().parent.parent / "config" / "slack-manifest.yaml"


def manifest() -> dict[str, Any]:
    return yaml.safe_load(MANIFEST.read_text())


def test_command_shortcut_and_urls_match_the_adapter() -> None:
    m = manifest()
    [command] = m["features"]["slash_commands"]
    # escaped: a person picked from the @ list arrives as <@U…|name>; "@ben" typed stays text and names nobody
    assert command["command"] == "/ticket" and command["should_escape"] is True
    assert [s["callback_id"] for s in m["features"]["shortcuts"]] == [SEND_TO_CUSTOMER]
    urls = {command["url"], m["settings"]["event_subscriptions"]["request_url"], m["settings"]["interactivity"]["request_url"]}
    assert urls == {f"https://YOUR-HOST{EVENTS_PATH}"}
    assert m["settings"]["interactivity"]["is_enabled"] is True


def test_events_and_scopes_cover_what_the_listeners_need() -> None:
    m = manifest()
    assert set(m["settings"]["event_subscriptions"]["bot_events"]) >= {
        "message.channels", "message.groups", "app_mention", "reaction_added"}
    assert set(m["oauth_config"]["scopes"]["bot"]) == set(SCOPES_USED), "only the scopes the code uses"


# Each scope the app asks for, and what of ours needs it (https://api.slack.com/scopes): nothing more.
SCOPES_USED = {
    "chat:write": "chat.postMessage, chat.update, chat.postEphemeral (bot/adapters/slack/client.py, parts.py)",
    "channels:history": "conversations.history/replies (client.py) and message.channels",
    "groups:history": "the same in private channels, and message.groups",
    "channels:read": "conversations.members and member_joined/left_channel (membership.py)",
    "groups:read": "the same for private channels",
    "usergroups:read": "usergroups.users.list and subteam_members_changed (membership.py)",
    "commands": "/ticket and the Send to customer shortcut",
    "users:read": "users.info (people.py)",
    "users:read.email": "the verified email in users.info, which the roster may name people by",
    "reactions:read": "reaction_added",
    "app_mentions:read": "app_mention",
    "files:write": "files.uploadV2: a long mail attached in full (surface.py, digest.py)",
}


def test_usage_hint_lists_every_subcommand() -> None:
    [command] = manifest()["features"]["slash_commands"]
    listed = {part.split()[0] for part in re.split(r" \| (?=[a-z]+\b)", command["usage_hint"])}
    assert listed == set(SPECS)
    assert len(command["usage_hint"]) <= 1000


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
