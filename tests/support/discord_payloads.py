"""Discord API objects as Discord sends them (the fields discord.py reads), for the fake and the tests."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from tests.support.fake_discord import FakeDiscord

Json = dict[str, Any]
TOKEN = "tiketti-discord-test-token"


def now() -> str:
    return datetime.now(UTC).isoformat()


def user(uid: int, name: str, *, bot: bool = False) -> Json:
    return {"id": str(uid), "username": name.lower().replace(" ", ""), "global_name": name, "discriminator": "0",
            "avatar": None, "bot": bot, "public_flags": 0}


def member(u: Json, roles: list[str] | None = None, *, permissions: int | None = None) -> Json:
    """A guild member; `permissions` (theirs in the channel, as a string) only where Discord sends it: in
    interactions and resolved interaction data."""
    data: Json = {"user": u, "roles": list(roles or []), "joined_at": now(), "deaf": False, "mute": False,
                  "flags": 0, "nick": None, "avatar": None, "pending": False, "communication_disabled_until": None}
    if permissions is not None:
        data["permissions"] = str(permissions)
    return data


def partial_member(member_data: Json) -> Json:
    """The member as it rides along a message or a mention: without `user` (and without `permissions`)."""
    return {k: v for k, v in member_data.items() if k not in ("user", "permissions")}


def application(app_id: int, bot: Json) -> Json:
    return {"id": str(app_id), "name": "Tiketti", "description": "", "icon": None, "bot_public": False,
            "bot_require_code_grant": False, "owner": bot, "verify_key": "00", "flags": 0, "team": None,
            "summary": "", "rpc_origins": [], "interactions_endpoint_url": None}


def _channel(cid: int, kind: int, guild_id: int, name: str) -> Json:
    return {"id": str(cid), "type": kind, "guild_id": str(guild_id), "name": name, "position": 0,
            "permission_overwrites": [], "nsfw": False, "parent_id": None, "topic": None, "rate_limit_per_user": 0,
            "last_message_id": None, "flags": 0}


def text_channel(cid: int, guild_id: int, name: str) -> Json:
    return _channel(cid, 0, guild_id, name)


def forum_channel(cid: int, guild_id: int, name: str) -> Json:
    return {**_channel(cid, 15, guild_id, name), "available_tags": [], "default_reaction_emoji": None,
            "default_sort_order": None, "default_forum_layout": 0, "default_thread_rate_limit_per_user": 0}


def thread(tid: int, guild_id: int, parent: int, owner: int, name: str) -> Json:
    return {**_channel(tid, 11, guild_id, name), "parent_id": str(parent), "owner_id": str(owner),
            "message_count": 0, "member_count": 1, "applied_tags": [],
            "thread_metadata": {"archived": False, "auto_archive_duration": 1440, "archive_timestamp": now(),
                                "locked": False}}


def dm_channel(cid: int, recipient: Json) -> Json:
    return {"id": str(cid), "type": 1, "recipients": [recipient], "last_message_id": None}


def message(mid: int, channel_id: int, author: Json, body: Json, files: dict[str, str],
            guild_id: int | None = None, member: Json | None = None) -> Json:
    """A message; in a guild with the author's partial `member` (their roles), and every mention with its own
    (https://discord.com/developers/docs/resources/message: "users specifically mentioned in the message",
    with a partial member field in MESSAGE_CREATE and MESSAGE_UPDATE) when the caller gives them."""
    msg: Json = {
        "id": str(mid), "channel_id": str(channel_id), "author": author, "content": body.get("content") or "",
        "timestamp": now(), "edited_timestamp": None, "tts": False, "mention_everyone": False,
        "mentions": body.get("mentions", []), "mention_roles": [], "attachments": [
            {"id": str(i), "filename": name, "size": len(text), "url": f"https://cdn.invalid/{name}",
             "proxy_url": f"https://cdn.invalid/{name}", "text": text} for i, (name, text) in enumerate(files.items())],
        "embeds": body.get("embeds") or [], "components": body.get("components") or [], "pinned": False,
        "type": 0, "flags": body.get("flags") or 0, "nonce": body.get("nonce"),
    }
    if guild_id is not None:
        msg["guild_id"] = str(guild_id)
        if member is not None:
            msg["member"] = partial_member(member)
    return msg


def interaction(fake: FakeDiscord, kind: int, data: Json, channel: Json, message: Json | None) -> Json:
    """The fields every INTERACTION_CREATE has; who (member or user) and where (guild or DM) the fake adds."""
    payload: Json = {
        "id": str(fake.next_id()), "application_id": str(fake.app_id), "type": kind, "token": uuid.uuid4().hex,
        "version": 1, "channel_id": channel["id"], "channel": channel, "data": data,
        "app_permissions": str((1 << 50) - 1), "locale": "en-US", "guild_locale": "en-US", "entitlements": [],
        "authorizing_integration_owners": {"0": str(fake.guild_id)}, "attachment_size_limit": 25 * 1024 * 1024,
    }
    if message is not None:
        payload["message"] = message
    return payload


def ready(fake: FakeDiscord) -> Json:
    return {"v": 10, "user": fake.bot, "guilds": [{"id": str(fake.guild_id), "unavailable": True}],
            "session_id": uuid.uuid4().hex, "resume_gateway_url": fake.gateway_url, "shard": [0, 1],
            "application": {"id": str(fake.app_id), "flags": 0}, "private_channels": [], "relationships": []}


def guild(fake: FakeDiscord) -> Json:
    """GUILD_CREATE as a bot without the Server Members intent gets it: every role, every channel with its
    overwrites, and of the members only the bot itself."""
    gid = str(fake.guild_id)
    channels = [c for c in fake.channels.values() if c["type"] in (0, 15)]
    model = fake.server
    return {"id": gid, "name": "Helpdesk", "icon": None, "owner_id": model.owner_id, "roles": list(model.roles.values()),
            "emojis": [], "stickers": [], "features": [], "member_count": len(model.members),
            "members": [member(fake.bot, model.members[fake.bot["id"]])],
            "channels": channels, "threads": fake.threads(), "voice_states": [], "presences": [], "large": False,
            "unavailable": False, "joined_at": now(), "verification_level": 0, "default_message_notifications": 0,
            "explicit_content_filter": 0, "mfa_level": 0, "system_channel_flags": 0, "premium_tier": 0,
            "preferred_locale": "en-US", "nsfw_level": 0, "afk_timeout": 300, "premium_progress_bar_enabled": False}


async def read_body(request: web.Request) -> tuple[Json, dict[str, str]]:
    """A JSON body, or discord.py's multipart one (payload_json plus files[n]); files as name -> text."""
    if not request.content_type.startswith("multipart/"):
        return (await request.json() if request.can_read_body else {}), {}
    body: Json = {}
    files: dict[str, str] = {}
    reader = await request.multipart()
    async for part in reader:
        if part.name == "payload_json":
            body = json.loads(await part.text())
        else:
            files[part.filename or part.name or "file"] = (await part.read()).decode("utf-8", "replace")
    return body, files
