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
ALL_PERMISSIONS = str((1 << 50) - 1)


def now() -> str:
    return datetime.now(UTC).isoformat()


def user(uid: int, name: str, *, bot: bool = False) -> Json:
    return {"id": str(uid), "username": name.lower().replace(" ", ""), "global_name": name, "discriminator": "0",
            "avatar": None, "bot": bot, "public_flags": 0}


def member(u: Json) -> Json:
    return {"user": u, "roles": [], "joined_at": now(), "deaf": False, "mute": False, "flags": 0,
            "permissions": ALL_PERMISSIONS, "nick": None, "avatar": None, "pending": False}


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
            guild_id: int | None = None) -> Json:
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
        msg["member"] = {k: v for k, v in member(author).items() if k != "user"}
    return msg


def ready(fake: FakeDiscord) -> Json:
    return {"v": 10, "user": fake.bot, "guilds": [{"id": str(fake.guild_id), "unavailable": True}],
            "session_id": uuid.uuid4().hex, "resume_gateway_url": fake.gateway_url, "shard": [0, 1],
            "application": {"id": str(fake.app_id), "flags": 0}, "private_channels": [], "relationships": []}


def guild(fake: FakeDiscord) -> Json:
    gid = str(fake.guild_id)
    everyone = {"id": gid, "name": "@everyone", "permissions": ALL_PERMISSIONS, "position": 0, "color": 0,
                "hoist": False, "managed": False, "mentionable": False, "flags": 0}
    channels = [c for c in fake.channels.values() if c["type"] in (0, 15)]
    return {"id": gid, "name": "Helpdesk", "icon": None, "owner_id": fake.bot["id"], "roles": [everyone],
            "emojis": [], "stickers": [], "features": [], "member_count": 1, "members": [member(fake.bot)],
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
