"""Tiketti running for real with its Discord adapter, against the fake Discord and an SMTP sink.

`running_discord_bot` patches discord.py's REST base and gateway URL to the fake,
starts the whole runtime, and hands back a `DiscordBot` that acts only as
Discord would: gateway events (MESSAGE_CREATE, INTERACTION_CREATE) and raw mail.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import discord
import yarl

from bot.app import Core, build_core
from bot.runtime import Runtime
from tests.conftest import make_settings
from tests.support import discord_payloads as p
from tests.support.db import Database
from tests.support.fake_discord import FakeDiscord, Response
from tests.support.mails import deliver
from tests.support.slack_bot import eventually
from tests.support.smtp_sink import SmtpSink

Json = dict[str, Any]
ANA = p.user(1_000_000_000_000_000_001, "Ana Agent")
BEN = p.user(1_000_000_000_000_000_002, "Ben Agent")
EVA = p.user(1_000_000_000_000_000_003, "Eva Expert")
LEE = p.user(1_000_000_000_000_000_004, "Lee Light")
MIA = p.user(1_000_000_000_000_000_009, "Mia Member")

# The roster of `roster_discord_bot`: {helpdesk} is a role id (billing's agents), {lee} a user id.
ROSTER = """
default_team = "billing"

[[teams]]
name = "billing"
members = ["{helpdesk}"]

[[teams]]
name = "vault"

[roles]
light = ["{lee}"]

[[macros]]
name = "refund-approved"
title = "Refund approved"
tags = ["+refund"]
priority = "low"
note = "Refund approved"
"""


@dataclass
class DiscordBot:
    core: Core
    runtime: Runtime
    discord: FakeDiscord
    sink: SmtpSink

    async def mail(self, raw: bytes) -> int:
        return (await deliver(self.core, raw)).ticket_number  # type: ignore[attr-defined]

    async def settled(self) -> None:
        adapter = self.runtime.discord
        assert adapter is not None
        for _ in range(3):
            for queue in (adapter.publisher.queue, adapter.dms.queue):
                await queue.sweep()
                await queue.drained()
            await adapter.notices.deliver_due()
            await self.runtime.drain_outbox()

    # ---- what people see -----------------------------------------------------------

    async def thread_of(self, number: int) -> Json:
        def find() -> Json | None:
            return next((t for t in self.discord.threads() if t["name"].startswith(f"#{number} ")), None)
        return await eventually(find)

    def in_forum(self, thread: Json) -> bool:
        return self.discord.channels[int(thread["parent_id"])]["type"] == 15

    def starter(self, thread: Json) -> Json:
        """The ticket's starter message (in a forum, inside the thread; else in the channel)."""
        where = thread["id"] if self.in_forum(thread) else thread["parent_id"]
        return self.discord.message(where, thread["id"])

    def thread_messages(self, thread: Json) -> list[Json]:
        return [m for m in self.discord.in_channel(thread["id"]) if m["id"] != thread["id"]]

    # ---- what people do ------------------------------------------------------------

    async def say(self, channel_id: int | str, author: Json, content: str, *, mentions: list[Json] = (),  # type: ignore[assignment]
                  files: dict[str, str] | None = None) -> Json:
        """A person types a message (in a thread, or in a DM with the bot: they share the server with it),
        maybe with `files` attached (name -> text)."""
        assert self.discord.is_member(author), "Discord lets only people who share a server with the bot write to it"
        message = self.discord.post(int(channel_id), author, {"content": content, "mentions": list(mentions)}, files)
        await self.discord.dispatch("MESSAGE_CREATE", message)
        return message

    async def react(self, channel_id: int | str, message_id: int | str, user: Json, emoji: str) -> bool:
        """A member reacts with a unicode emoji. Discord sends MESSAGE_REACTION_ADD only to a session that
        identified with GUILD_MESSAGE_REACTIONS (1 << 10), with the reacting member
        (https://discord.com/developers/docs/topics/gateway#list-of-intents,
        https://discord.com/developers/docs/topics/gateway-events#message-reaction-add). False: not sent."""
        if not getattr(self.discord, "intents", 0) & (1 << 10):
            return False
        await self.discord.dispatch("MESSAGE_REACTION_ADD", {
            "user_id": user["id"], "channel_id": str(channel_id), "message_id": str(message_id),
            "guild_id": str(self.discord.guild_id), "member": p.member(user, self.discord.server.members[user["id"]]),
            "emoji": {"id": None, "name": emoji}, "burst": False, "type": 0})
        return True

    async def interact(self, kind: int, data: Json, user: Json, channel: Json, message: Json | None = None, *,
                       forged: bool = False) -> str:
        """Dispatch an interaction as Discord would (NotOffered if it would not let `user` do this here)."""
        payload = self.discord.interaction(kind, data, user, channel, message, forged=forged)
        await self.discord.dispatch("INTERACTION_CREATE", payload)
        return payload["token"]

    async def response(self, token: str, *, followups: int = 0) -> Response:
        def answered() -> Response | None:
            r = self.discord.responses.get(token)
            return r if r is not None and len(r.followups) >= followups else None
        return await eventually(answered)

    async def click(self, custom_id: str, thread: Json, user: Json) -> Response:
        """`user` clicks `custom_id` (a control's, e.g. `controls.CLAIM`) on the ticket's card: the button
        the card shows for it (its id names the ticket), else the id as given (a card drawn before)."""
        starter = self.starter(thread)
        custom_id = on_card(starter, custom_id)
        channel = thread if self.in_forum(thread) else self.discord.channels[int(thread["parent_id"])]
        token = await self.interact(3, {"custom_id": custom_id, "component_type": 2}, user, channel, starter)
        response = await self.response(token)
        return await self.response(token, followups=1) if response.kind == 5 else response

    async def choose(self, custom_id: str, thread: Json, user: Json, values: list[str]) -> Response:
        """`user` picks `values` in the select `custom_id` on the ticket's card (a member picker resolves the
        chosen members, as Discord sends them); the final answer."""
        starter = self.starter(thread)
        custom_id = on_card(starter, custom_id)
        shown = [c for row in starter["components"] for c in row["components"] if c.get("custom_id") == custom_id]
        kind = shown[0]["type"] if shown else 3
        data: Json = {"custom_id": custom_id, "component_type": kind, "values": values}
        if kind == 5:
            users = {u: self.discord.users[u] for u in values}
            data["resolved"] = {"users": users, "members": {
                u: {k: v for k, v in self.discord.member_json(x, self.discord.tickets_channel).items() if k != "user"}
                for u, x in users.items() if self.discord.is_member(x)}}
        channel = thread if self.in_forum(thread) else self.discord.channels[int(thread["parent_id"])]
        token = await self.interact(3, data, user, channel, starter)
        response = await self.response(token)
        return await self.response(token, followups=1) if response.kind == 5 else response

    async def press(self, message: Json, user: Json, *, custom_id: str | None = None) -> Response:
        """`user` clicks a button of `message` (the first, or the one with `custom_id`) where it was shown;
        the final answer. Also for a button passed on to someone else (a forged interaction: Discord shows
        an ephemeral message to its caller alone)."""
        buttons = [c for row in message.get("components", []) for c in row.get("components", []) if c["type"] == 2]
        button = next(b for b in buttons if custom_id in (None, b["custom_id"]))
        channel = self.discord.channels[int(message["channel_id"])]
        token = await self.interact(3, {"custom_id": button["custom_id"], "component_type": 2}, user, channel, message)
        response = await self.response(token)
        return await self.response(token, followups=1) if response.kind == 5 else response

    async def slash(self, sub: str, user: Json, channel: Json | None = None, *, forged: bool = False,
                    **options: Any) -> Response:
        """`/ticket sub option:value …`; the final answer (after the defer, if the bot deferred)."""
        token = await self.interact(2, self.command_data(sub, options), user, channel or self.discord.tickets_channel,
                                    forged=forged)
        first = await self.response(token)
        return await self.response(token, followups=1) if first.kind == 5 else first

    async def autocomplete(self, sub: str, user: Json, focused: str, typed: str, **options: Any) -> list[Json]:
        """The choices the bot offers while `user` types `typed` into option `focused` of `/ticket sub`."""
        data = self.command_data(sub, {**options, focused: typed}, focused=focused)
        token = await self.interact(4, data, user, self.discord.tickets_channel)
        response = await self.response(token)
        assert response.kind == 8, response
        return response.data["choices"]

    def command_data(self, sub: str, options: dict[str, Any], focused: str | None = None) -> Json:
        # `/ticket` or `/helpdesk` (the toolkit: Discord holds 25 subcommands in one command)
        command = next(c for c in self.discord.commands if any(o["name"] == sub for o in c["options"]))
        sub_spec = next(o for o in command["options"] if o["name"] == sub)
        kinds = {o["name"]: o["type"] for o in sub_spec.get("options", [])}
        opts = [{"name": k, "type": kinds[k], "value": v, **({"focused": True} if k == focused else {})}
                for k, v in options.items()]
        data: Json = {"id": command["id"], "name": command["name"], "type": 1, "guild_id": str(self.discord.guild_id),
                      "options": [{"name": sub, "type": 1, "options": opts}]}
        members = [v for k, v in options.items() if kinds.get(k) == 6]
        if members:
            users = {u: self.discord.users[u] for u in members}
            data["resolved"] = {"users": users, "members": {
                u: {k: v for k, v in self.discord.member_json(x, self.discord.tickets_channel).items() if k != "user"}
                for u, x in users.items() if self.discord.is_member(x)}}
        return data

    async def submit_modal(self, modal: Response, user: Json, channel: Json, text: str = "", *,
                           fields: dict[str, str] | None = None) -> Response:
        """`user` submits the form: every field says `text`, or each its own (`fields`, by custom id). Beside
        a required field, an optional one not in `fields` is left empty, as people mostly leave them (the
        Reply form's Time spent)."""
        shown = [c for row in modal.data["components"] for c in row.get("components", [row.get("component")]) if c]
        some_required = any(f.get("required", True) for f in shown)
        values = {f["custom_id"]: (fields or {}).get(
            f["custom_id"], "" if some_required and not f.get("required", True) else text) for f in shown}
        data = {"custom_id": modal.data["custom_id"], "components": [
            {"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]} for k, v in values.items()]}
        token = await self.interact(5, data, user, channel)
        first = await self.response(token)
        return await self.response(token, followups=1) if first.kind == 5 else first


def on_card(card: Json, control_id: str) -> str:
    """The custom id the card shows for the control `control_id` (`tiketti:claim` → `tiketti:claim:12`)."""
    shown = [c["custom_id"] for row in card.get("components", []) for c in row["components"] if c.get("custom_id")]
    return next((c for c in shown if action_of(c) == control_id), control_id)


def action_of(custom_id: str) -> str:
    """A card control's id without the ticket number it carries."""
    return re.sub(r":[0-9]+$", "", custom_id)


@asynccontextmanager
async def running_discord_bot(db: Database, tmp_path: Path, *, forum: bool = False,
                              fake: FakeDiscord | None = None, **overrides: Any) -> AsyncIterator[DiscordBot]:
    async with _fake(fake, forum) as discord_api:
        saved = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
        discord.http.Route.BASE = discord_api.api_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(discord_api.gateway_url)
        sink = SmtpSink()
        await sink.start()
        settings = make_settings(db, tmp_path, discord_token=p.TOKEN, discord_channel=discord_api.tickets_channel["id"],
                                 discord_guild=str(discord_api.guild_id), http_port=0, smtp_host=sink.host,
                                 smtp_port=sink.port, smtp_starttls=False, **overrides)
        core = await build_core(settings, engine=db.engine())
        runtime = Runtime(core)
        try:
            await runtime.start()
            yield DiscordBot(core, runtime, discord_api, sink)
        finally:
            await runtime.stop()
            await core.close()
            await sink.stop()
            discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved


@asynccontextmanager
async def roster_discord_bot(db: Database, tmp_path: Path, *, fake: FakeDiscord | None = None,
                             workflow: str = ROSTER, **overrides: Any) -> AsyncIterator[DiscordBot]:
    """A helpdesk with a roster: Ben holds the Helpdesk role (billing's agent), Lee is named a light agent;
    Ana, Eva and Lee hold only Support (Discord shows them /ticket, and they see the tickets channel), so
    Ana and Eva are strangers. Give `fake` to run the bot again against the same server (a restart)."""
    async with _fake(fake, False) as server:
        helpdesk = next((r for r in server.server.roles.values() if r["name"] == "Helpdesk"), None) \
            or await server.add_role("Helpdesk")
        server.join(BEN, [server.support_role["id"], helpdesk["id"]])
        server.join(LEE, [server.support_role["id"]])
        path = tmp_path / "workflow.toml"
        path.write_text(workflow.format(helpdesk=helpdesk["id"], lee=LEE["id"]))
        async with running_discord_bot(db, tmp_path, fake=server, workflow_file=path, **overrides) as bot:
            yield bot


@asynccontextmanager
async def _fake(given: FakeDiscord | None, forum: bool) -> AsyncIterator[FakeDiscord]:
    if given is not None:
        _staff(given)
        yield given
        return
    async with FakeDiscord(forum=forum) as fake:
        _staff(fake)
        yield fake


def _staff(fake: FakeDiscord) -> None:
    """The people of the tests' server (unless a test seated them otherwise): Ana, Ben and Eva hold the
    Support role (so Discord shows them /ticket); Mia is an ordinary member. @everyone sees and writes in
    the tickets channel, so with no roster configured all of them are agents."""
    for person in (ANA, BEN, EVA):
        if not fake.is_member(person):
            fake.join(person, [fake.support_role["id"]])
    if not fake.is_member(MIA):
        fake.join(MIA)
