"""The fake Discord's server: roles, members, channel overwrites, and the permissions Discord computes from them.

Everything here follows https://discord.com/developers/docs/topics/permissions:
a member's base permissions are @everyone's (the role whose id is the guild's)
OR their roles'; the owner and Administrator get everything; in a channel the
@everyone overwrite applies first, then the member's roles' overwrites (denies,
then allows, each OR'd together), then the member's own; without VIEW_CHANNEL a
member has no permission in that channel at all, and a thread has its parent's
permissions. Application commands are offered to a member as described in
https://discord.com/developers/docs/interactions/application-commands#permissions
(`default_member_permissions`, and the overrides a server admin sets under
Server Settings → Integrations, which win over it; the owner and
Administrators always see every command).

Numbers are sent as strings (role and overwrite `permissions`, `allow`, `deny`),
as the API does since v8.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]

# Bit values from the permissions page's table.
CREATE_INSTANT_INVITE = 1 << 0
ADMINISTRATOR = 1 << 3
MANAGE_CHANNELS = 1 << 4
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
CHANGE_NICKNAME = 1 << 26
USE_APPLICATION_COMMANDS = 1 << 31
MANAGE_THREADS = 1 << 34
CREATE_PUBLIC_THREADS = 1 << 35
SEND_MESSAGES_IN_THREADS = 1 << 38
ALL = (1 << 50) - 1

# What @everyone may do in a new server (a typical community server's defaults, no moderation rights).
EVERYONE_DEFAULT = (CREATE_INSTANT_INVITE | ADD_REACTIONS | VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | ATTACH_FILES
                    | READ_MESSAGE_HISTORY | CHANGE_NICKNAME | USE_APPLICATION_COMMANDS | CREATE_PUBLIC_THREADS
                    | SEND_MESSAGES_IN_THREADS)
# The bot's managed role: exactly the permissions docs/discord.md's invite link asks for (326417632272).
BOT_INVITE = (MANAGE_CHANNELS | VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | ATTACH_FILES | READ_MESSAGE_HISTORY
              | MANAGE_THREADS | CREATE_PUBLIC_THREADS | SEND_MESSAGES_IN_THREADS)
ROLE, MEMBER = 0, 1  # overwrite types


def role(rid: int | str, name: str, permissions: int, position: int, *, bot_id: str | None = None) -> Json:
    data: Json = {"id": str(rid), "name": name, "permissions": str(permissions), "position": position, "color": 0,
                  "hoist": False, "managed": bot_id is not None, "mentionable": False, "flags": 0, "icon": None,
                  "unicode_emoji": None}
    if bot_id is not None:
        data["tags"] = {"bot_id": bot_id}
    return data


@dataclass
class GuildModel:
    guild_id: str
    owner_id: str
    roles: dict[str, Json] = field(default_factory=dict)  # by id; @everyone's id is the guild's
    members: dict[str, list[str]] = field(default_factory=dict)  # user id -> role ids (never @everyone's)
    command_overrides: dict[str, bool] = field(default_factory=dict)  # role or user id -> allowed (Integrations)

    def __post_init__(self) -> None:
        self.roles.setdefault(self.guild_id, role(self.guild_id, "@everyone", EVERYONE_DEFAULT, 0))

    def base(self, user_id: str) -> int:
        """Server-wide permissions: @everyone's and the member's roles', everything for owner and admins."""
        if user_id == self.owner_id:
            return ALL
        value = int(self.roles[self.guild_id]["permissions"])
        for rid in self.members.get(user_id, []):
            value |= int(self.roles[rid]["permissions"]) if rid in self.roles else 0
        return ALL if value & ADMINISTRATOR else value

    def in_channel(self, user_id: str, channel: Json, parent: Json | None = None) -> int:
        """Permissions in `channel` (a thread: in `parent`, the channel holding it)."""
        base = self.base(user_id)
        if base & ADMINISTRATOR:
            return ALL
        overwrites = {o["id"]: o for o in (parent or channel).get("permission_overwrites", [])}
        value = base
        if (everyone := overwrites.get(self.guild_id)) is not None:
            value = (value & ~int(everyone["deny"])) | int(everyone["allow"])
        allow = deny = 0
        for rid in self.members.get(user_id, []):
            if (o := overwrites.get(rid)) is not None and o["type"] == ROLE:
                allow, deny = allow | int(o["allow"]), deny | int(o["deny"])
        value = (value & ~deny) | allow
        if (own := overwrites.get(user_id)) is not None and own["type"] == MEMBER:
            value = (value & ~int(own["deny"])) | int(own["allow"])
        return value if value & VIEW_CHANNEL else 0

    def offers(self, command: Json, user_id: str, channel_perms: int) -> bool:
        """Whether Discord shows (and sends) `command` to this member: Integrations overrides for the user,
        then for their roles (any allow wins, else any deny), then default_member_permissions."""
        if user_id == self.owner_id or self.base(user_id) & ADMINISTRATOR:
            return True
        if user_id in self.command_overrides:
            return self.command_overrides[user_id]
        roles = [r for r in self.members.get(user_id, []) if r in self.command_overrides]
        if roles:
            return any(self.command_overrides[r] for r in roles)
        if self.guild_id in self.command_overrides:
            return self.command_overrides[self.guild_id]
        wanted = command.get("default_member_permissions")
        if wanted is None:
            return True
        return int(wanted) != 0 and channel_perms & int(wanted) == int(wanted)


def overwrite(target_id: str, kind: int, *, allow: int = 0, deny: int = 0) -> Json:
    return {"id": str(target_id), "type": kind, "allow": str(allow), "deny": str(deny)}


CONTEXTS = {0, 1, 2}  # GUILD, BOT_DM, PRIVATE_CHANNEL
INSTALLS = {0, 1}  # GUILD_INSTALL, USER_INSTALL


def stored_command(c: Json) -> Json:
    """A command as Discord keeps (and returns) it, or ValueError for a field Discord would refuse with 50035.
    default_member_permissions comes back as a string (or null); contexts and integration_types as sent."""
    dmp = c.get("default_member_permissions")
    if dmp is not None and not str(dmp).isdecimal():
        raise ValueError("default_member_permissions: not a permission bit set")
    contexts = c.get("contexts")
    if contexts is not None and (not isinstance(contexts, list) or not set(contexts) <= CONTEXTS):
        raise ValueError("contexts: not a list of interaction context types")
    installs = c.get("integration_types")
    if installs is not None and (not isinstance(installs, list) or not set(installs) <= INSTALLS):
        raise ValueError("integration_types: not a list of installation types")
    if not isinstance(c.get("dm_permission", True), bool):
        raise ValueError("dm_permission: not a boolean")
    _check_options(c.get("options") or [], c.get("name", ""))
    return {**c, "default_member_permissions": None if dmp is None else str(int(dmp)),
            "dm_permission": c.get("dm_permission", True), "contexts": contexts, "integration_types": installs}


# https://discord.com/developers/docs/interactions/application-commands#application-command-object:
# "options: Parameters for the command, max of 25"; names 1-32 characters, descriptions 1-100.
MAX_OPTIONS, MAX_NAME, MAX_DESCRIPTION = 25, 32, 100


def _check_options(options: list[Json], where: str) -> None:
    if len(options) > MAX_OPTIONS:
        raise ValueError(f"{where}.options: must be {MAX_OPTIONS} or fewer in length")
    for o in options:
        name = f"{where}.{o.get('name', '')}"
        if not 1 <= len(o.get("name", "")) <= MAX_NAME:
            raise ValueError(f"{name}: name must be 1-{MAX_NAME} characters")
        if not 1 <= len(o.get("description", "")) <= MAX_DESCRIPTION:
            raise ValueError(f"{name}: description must be 1-{MAX_DESCRIPTION} characters")
        _check_options(o.get("options") or [], name)


def usable_in_dm(command: Json) -> bool:
    """contexts wins when present (dm_permission is then ignored); else dm_permission, default true."""
    if command.get("contexts") is not None:
        return 1 in command["contexts"]
    return bool(command.get("dm_permission", True))
