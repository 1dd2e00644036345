"""Discord's rules beyond message size, each with its source, checked by the fake as Discord checks them.

Kept apart from `discord_limits` (content and components) so each rule can be read beside the page
that states it; `fake_discord` calls these and answers what Discord answers.

- Embeds (https://discord.com/developers/docs/resources/message#embed-object-embed-limits): title 256,
  description 4,096, at most 25 fields, field name 256 and value 1,024, footer text 2,048, author name
  256, and all of those together at most 6,000 per message; at most 10 embeds a message
  (…/resources/message#create-message, "Up to 10 rich embeds"). Over any of them: 400, 50035.
- Forum tags (https://discord.com/developers/docs/resources/channel#forum-tag-object: "name string
  the name of the tag (0-20 characters)"; #channel-object: `available_tags` "the set of tags that
  can be used in a GUILD_FORUM ... channel", at most 20 (…#modify-channel, "available_tags ... up
  to 20")). Over either: 400, 50035, and nothing of the PATCH is applied.
- Archived threads (https://discord.com/developers/docs/topics/opcodes-and-status-codes#json: 50083
  "Thread is archived"; …/resources/channel#thread-metadata-object: an archived thread is
  unarchived by sending a message in it, or by a PATCH setting `archived: false`). Editing a message
  in it, or its applied tags, answers 400 with 50083.
- Interaction tokens (https://discord.com/developers/docs/interactions/receiving-and-responding:
  "you must send an initial response within 3 seconds of receiving the event", after which the
  token is invalid: 404, 10062 "Unknown interaction"; "Interaction tokens are valid for 15 minutes":
  later follow-ups answer 401, 50027 "Invalid Webhook Token").
- Permissions (…/topics/opcodes-and-status-codes#json: 50001 "Missing Access", 50013 "You lack
  permissions to perform that action", 50007 "Cannot send messages to this user"): the bot must see a
  channel and may write there (Send Messages; in a thread Send Messages in Threads); a member who
  takes no DMs from the server cannot be written to.
"""

from __future__ import annotations

import re
from typing import Any

from tests.support import discord_guild as g

Json = dict[str, Any]

TAG_NAME_CHARS = 20
FORUM_TAGS = 20
RESPONSE_SECONDS = 3.0
TOKEN_SECONDS = 15 * 60.0
EMBED_LIMITS = {"title": 256, "description": 4096, "fields": 25, "field name": 256, "field value": 1024,
                "footer": 2048, "author": 256, "total": 6000, "embeds": 10}


def embed_problems(embeds: list[Json]) -> list[str]:
    """What Discord refuses in a message's embeds (each limit alone, and the 6,000 all together)."""
    problems, total = [], 0
    if len(embeds) > EMBED_LIMITS["embeds"]:
        problems.append("embeds: more than 10")
    for embed in embeds:
        fields = embed.get("fields") or []
        sizes = {"title": len(embed.get("title") or ""), "description": len(embed.get("description") or ""),
                 "footer": len((embed.get("footer") or {}).get("text") or ""),
                 "author": len((embed.get("author") or {}).get("name") or ""), "fields": len(fields)}
        problems += [f"embed {k}: more than {EMBED_LIMITS[k]}" for k, n in sizes.items() if n > EMBED_LIMITS[k]]
        for f in fields:
            if len(f.get("name") or "") > EMBED_LIMITS["field name"]:
                problems.append("embed field name: more than 256")
            if len(f.get("value") or "") > EMBED_LIMITS["field value"]:
                problems.append("embed field value: more than 1024")
        total += sizes["title"] + sizes["description"] + sizes["footer"] + sizes["author"] + sum(
            len(f.get("name") or "") + len(f.get("value") or "") for f in fields)
    if total > EMBED_LIMITS["total"]:
        problems.append("embeds: more than 6000 characters in all")
    return problems


def tag_problems(tags: list[Json]) -> list[str]:
    """What Discord refuses in a forum's `available_tags`."""
    problems = [f"available_tags: {t.get('name')!r} is longer than 20" for t in tags
                if len(t.get("name") or "") > TAG_NAME_CHARS]
    if len(tags) > FORUM_TAGS:
        problems.append("available_tags: more than 20")
    return problems


def archived(channel: Json | None) -> bool:
    return bool(channel and channel.get("type") in (10, 11, 12)
                and (channel.get("thread_metadata") or {}).get("archived"))


def write_problem(bot_permissions: int, channel: Json) -> tuple[int, int, str] | None:
    """(status, code, message) when the bot may not write in `channel` (its permissions computed there)."""
    if bot_permissions & g.ADMINISTRATOR:
        return None
    if not bot_permissions & g.VIEW_CHANNEL:
        return 403, 50001, "Missing Access"
    needed = g.SEND_MESSAGES_IN_THREADS if channel.get("type") in (10, 11, 12) else g.SEND_MESSAGES
    if not bot_permissions & needed:
        return 403, 50013, "Missing Permissions"
    return None


def pinged(body: Json) -> list[str]:
    """Who a message notifies (https://discord.com/developers/docs/resources/message#allowed-mentions-object):
    without `allowed_mentions` everyone its content mentions; with it, only the users it lets through
    (`parse: ["users"]` all of them, `users: [ids]` those), and `@everyone` only with `parse: ["everyone"]`."""
    named = re.findall(r"<@!?(\d+)>", body.get("content") or "")
    allowed = body.get("allowed_mentions")
    if allowed is None:
        return [*named, *(["everyone"] if "@everyone" in (body.get("content") or "") else [])]
    parse = allowed.get("parse") or []
    users = named if "users" in parse else [u for u in named if u in {str(i) for i in allowed.get("users") or []}]
    return [*users, *(["everyone"] if "everyone" in parse and "@everyone" in (body.get("content") or "") else [])]
