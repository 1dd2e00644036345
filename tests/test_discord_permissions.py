"""Who may work tickets from Discord: the facts the door hands the core, and the command surface.

The real discord.py client against the fake Discord, whose server has roles,
members and channel overwrites as the API sends them: the bot computes with
`permissions_for` who sees and writes in the tickets channel (the default
roster's agents) and which roles a member holds (a roster's role ids). Refused
people get an ephemeral answer and nothing else: no change in the store, no
Discord write but that answer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.discord import commands, controls
from tests.support import discord_guild as g
from tests.support import discord_payloads as p
from tests.support.db import Database
from tests.support.discord_bot import ANA, BEN, EVA, MIA, DiscordBot, running_discord_bot
from tests.support.discord_doors import refusals as audited_refusals
from tests.support.fake_discord import FakeDiscord, NotOffered
from tests.support.mails import messages, outbox, raw_mail, ticket
from tests.support.slack_bot import eventually

OSCAR = p.user(1_000_000_000_000_000_010, "Oscar Outsider")  # holds Support (sees /ticket), not the tickets channel


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as f:
        general = f.add_channel("general")
        f.join(OSCAR, [f.support_role["id"]])
        f.tickets_channel["permission_overwrites"] = [g.overwrite(OSCAR["id"], g.MEMBER, deny=g.VIEW_CHANNEL)]
        f.general = general  # type: ignore[attr-defined]
        yield f


@pytest.fixture
async def bot(database: Database, tmp_path: Path, fake: FakeDiscord) -> AsyncIterator[DiscordBot]:
    async with running_discord_bot(database, tmp_path, fake=fake) as b:
        yield b


async def state(bot: DiscordBot, number: int) -> tuple[Any, ...]:
    """What a refused action must leave as it was: the ticket, its messages, its mail (queued and sent), and
    Discord's channels (every REST write but interaction answers)."""
    t = await ticket(bot.core, number)
    assert t is not None
    writes = [c for c in bot.discord.calls if c[0].split()[0] != "GET" and "/interactions/" not in c[0]
              and "/webhooks/" not in c[0]]
    return (t.status, t.assignee_id, t.priority, t.updated_at, len(await messages(bot.core, number)),
            len(await outbox(bot.core, number)), len(bot.sink.received), len(writes))


async def refusals(bot: DiscordBot, number: int) -> list[str]:
    async with bot.core.ctx.uow() as uow:
        t = await uow.tickets.get(number)
        assert t is not None and t.id is not None
        return [f"{a.actor} {a.field}" for a in await uow.audit.for_ticket(t.id) if a.action == "refused"]


async def test_ticket_is_registered_for_the_server_only_and_hidden_from_ordinary_members(bot: DiscordBot) -> None:
    assert [c["name"] for c in bot.discord.commands] == ["ticket", "helpdesk"]  # the toolkit: /helpdesk
    for command in bot.discord.commands:
        assert command["contexts"] == [0] and command["dm_permission"] is False and command["integration_types"] == [0]
        assert command["default_member_permissions"] == str(g.MANAGE_THREADS) == str(commands.DEFAULT_PERMISSIONS.value)
    with pytest.raises(NotOffered):  # Mia holds no role that may manage threads: Discord does not show it to her
        await bot.slash("queue", MIA)
    bot.discord.allow_command(bot.discord.guild_id)  # a server admin opens /ticket to everyone …
    queue = await bot.slash("queue", MIA)  # … and she is an agent by default: she sees the tickets channel
    assert queue.followups[0]["flags"] & 64 and "Queue" in queue.followups[0]["content"]


async def test_default_roster_a_member_who_cannot_see_the_tickets_channel_is_refused_with_no_effect(
        bot: DiscordBot) -> None:
    number = await bot.mail(raw_mail(subject="VPN down"))
    await bot.settled()
    before = await state(bot, number)
    for sub, options in (("claim", {}), ("show", {}), ("reply", {"text": "Try turning it off"}),
                         ("note", {"text": "psst"}), ("close", {})):
        answer = await bot.slash(sub, OSCAR, channel=bot.discord.general, number=number, **options)
        text = answer.followups[0]["content"]
        assert answer.ephemeral and answer.followups[0]["flags"] & 64 and "only the helpdesk's agents" in text
        assert "VPN down" not in text
    await bot.settled()
    assert await state(bot, number) == before
    assert len(await refusals(bot, number)) == 5
    claimed = await bot.slash("claim", ANA, number=number)  # Ana sees the channel: an agent
    assert "claimed by Ana Agent" in claimed.followups[0]["content"]


async def test_the_channel_decides_as_it_changes_overwrites_grant_and_revoke(bot: DiscordBot) -> None:
    number = await bot.mail(raw_mail(subject="Printer jam"))
    await bot.settled()
    channel = bot.discord.tickets_channel
    await bot.discord.set_overwrite(channel, OSCAR["id"], g.MEMBER, allow=g.VIEW_CHANNEL)  # let in: an agent
    shown = await bot.slash("show", OSCAR, number=number)
    assert "Printer jam" in shown.followups[0]["content"]
    await bot.discord.set_overwrite(channel, OSCAR["id"], g.MEMBER, deny=g.SEND_MESSAGES)  # sees, may not write
    refused = await bot.slash("claim", OSCAR, number=number)
    assert "only the helpdesk's agents" in refused.followups[0]["content"]
    t = await ticket(bot.core, number)
    assert t is not None and t.assignee_id is None


async def test_forum_agents_need_send_messages_in_threads(database: Database, tmp_path: Path) -> None:
    async with FakeDiscord(forum=True) as fake:
        fake.join(OSCAR, [fake.support_role["id"]])
        fake.tickets_channel["permission_overwrites"] = [
            g.overwrite(OSCAR["id"], g.MEMBER, deny=g.SEND_MESSAGES_IN_THREADS)]
        async with running_discord_bot(database, tmp_path, fake=fake) as bot:
            number = await bot.mail(raw_mail(subject="Forum post"))
            await bot.settled()
            thread = await bot.thread_of(number)
            refused = await bot.click(controls.CLAIM, thread, OSCAR)  # he sees the post and its buttons
            assert refused.ephemeral and "only the helpdesk's agents" in refused.followups[0]["content"]
            claimed = await bot.click(controls.CLAIM, thread, BEN)
            assert "claimed by Ben Agent" in claimed.followups[0]["content"]


async def test_assigning_someone_who_cannot_work_the_ticket_is_refused(bot: DiscordBot) -> None:
    number = await bot.mail(raw_mail(subject="Broken chair"))
    await bot.settled()
    refused = await bot.slash("assign", ANA, number=number, member=OSCAR["id"])
    assert "not an agent" in refused.followups[0]["content"]
    t = await ticket(bot.core, number)
    assert t is not None and t.assignee_id is None
    done = await bot.slash("assign", ANA, number=number, member=BEN["id"])
    assert "Ben Agent" in done.followups[0]["content"]


async def test_a_dm_cannot_reach_ticket(bot: DiscordBot) -> None:
    number = await bot.mail(raw_mail(subject="Secret"))
    await bot.settled()
    dm = bot.discord.dm_channel(ANA)  # even an agent, in a DM
    with pytest.raises(NotOffered):
        await bot.slash("show", ANA, channel=dm, number=number)
    before = await state(bot, number)
    forged = await bot.slash("claim", ANA, channel=dm, number=number, forged=True)
    assert forged.kind == 4 and forged.ephemeral and forged.data["content"] == commands.OUTSIDE_THE_SERVER
    assert await state(bot, number) == before


ROSTER = """
[roles]
agents = ["{helpdesk}"]
"""


@pytest.fixture
async def roster_bot(database: Database, tmp_path: Path) -> AsyncIterator[DiscordBot]:
    """A roster names the Helpdesk role: Ben holds it; Ana and Eva hold only Support (they see /ticket and
    the tickets channel, but the roster does not name them: strangers)."""
    async with FakeDiscord() as fake:
        helpdesk = await fake.add_role("Helpdesk")
        fake.join(BEN, [fake.support_role["id"], helpdesk["id"]])
        path = tmp_path / "workflow.toml"
        path.write_text(ROSTER.format(helpdesk=helpdesk["id"]))
        async with running_discord_bot(database, tmp_path, fake=fake, workflow_file=path) as b:
            yield b


async def test_a_role_named_in_the_roster_makes_agents_and_only_them(roster_bot: DiscordBot) -> None:
    bot = roster_bot
    number = await bot.mail(raw_mail(subject="Refund please"))
    await bot.settled()
    thread = await bot.thread_of(number)
    before = await state(bot, number)
    refused = await bot.click(controls.CLAIM, thread, EVA)
    assert refused.ephemeral and "only the helpdesk's agents" in refused.followups[0]["content"]
    no_form = await bot.click(controls.REPLY, thread, EVA)  # asked before the form: no modal for her
    assert no_form.kind == 4 and no_form.ephemeral and "only the helpdesk's agents" in no_form.data["content"]
    shown = await bot.slash("show", ANA, number=number)
    assert "Refund please" not in shown.followups[0]["content"]
    await bot.settled()
    assert await state(bot, number) == before
    claimed = await bot.click(controls.CLAIM, thread, BEN)
    assert "claimed by Ben Agent" in claimed.followups[0]["content"]
    form = await bot.click(controls.REPLY, thread, BEN)
    assert form.kind == 9
    sent = await bot.submit_modal(form, BEN, bot.discord.tickets_channel, "Refunded today.")
    assert sent.followups[0]["content"].startswith("✉️")
    assert [m.body_text for m in await messages(bot.core, number) if m.kind.value == "reply"] == ["Refunded today."]


async def test_a_form_opened_by_an_agent_is_checked_again_on_submit(roster_bot: DiscordBot) -> None:
    bot = roster_bot
    number = await bot.mail(raw_mail(subject="Late parcel"))
    await bot.settled()
    form = await bot.click(controls.REPLY, await bot.thread_of(number), BEN)
    before = await state(bot, number)
    refused = await bot.submit_modal(form, EVA, bot.discord.tickets_channel, "I am not an agent")
    assert refused.ephemeral and "only the helpdesk's agents" in refused.followups[0]["content"]
    await bot.settled()
    assert await state(bot, number) == before


async def test_autocomplete_gives_a_stranger_nothing_and_audits_no_keystroke(roster_bot: DiscordBot) -> None:
    bot = roster_bot
    number = await bot.mail(raw_mail(subject="Payroll question"))
    await bot.settled()
    for typed in ("", "P", "Pay", str(number)):  # every keystroke asks again
        assert await bot.autocomplete("show", EVA, "number", typed) == []
    assert await audited_refusals(bot.core) == 0  # typing is not trying: no audit row per keystroke
    choices = await bot.autocomplete("show", BEN, "number", "")
    assert [c["value"] for c in choices] == [number] and "Payroll question" in choices[0]["name"]


async def test_a_strangers_message_in_a_ticket_thread_is_not_a_note_and_they_are_told_by_dm(
        roster_bot: DiscordBot) -> None:
    bot = roster_bot
    number = await bot.mail(raw_mail(subject="Lost password"))
    await bot.settled()
    thread = await bot.thread_of(number)
    before = await state(bot, number)
    await bot.say(thread["id"], EVA, "let me peek")
    await bot.say(thread["id"], EVA, "and again")
    dm = bot.discord.dm_channel(EVA)

    def told() -> list[dict]:
        return [m for m in bot.discord.in_channel(dm["id"]) if m["author"]["id"] == bot.discord.bot["id"]]

    async def both_refused() -> bool:
        return len(await refusals(bot, number)) == 2
    await eventually(both_refused)  # each attempt audited by the core
    [notice] = await eventually(lambda: told() or None)
    assert f"#{number}" in notice["content"] and "not saved" in notice["content"]
    await bot.settled()
    assert await state(bot, number) == before[:-1] + (before[-1] + 2,)  # only the DM (open it, send once)
    assert len(told()) == 1  # told once per thread, however often she writes
    await bot.say(thread["id"], BEN, "a real note")

    async def notes() -> list[str] | None:
        return [m.body_text for m in await messages(bot.core, number) if m.kind.value == "note"] or None
    assert await eventually(notes) == ["a real note"]


async def test_an_edit_counts_only_while_its_author_may_still_write_notes(roster_bot: DiscordBot) -> None:
    bot = roster_bot
    number = await bot.mail(raw_mail(subject="Odd invoice"))
    await bot.settled()
    thread = await bot.thread_of(number)
    said = await bot.say(thread["id"], BEN, "first thought")

    async def note() -> str | None:
        found = [m.body_text for m in await messages(bot.core, number) if m.kind.value == "note"]
        return found[0] if found else None
    assert await eventually(note) == "first thought"
    bot.discord.join(BEN, [bot.discord.support_role["id"]])  # Helpdesk taken away: the edit carries his roles
    await bot.discord.dispatch("MESSAGE_UPDATE", {**said, "content": "second thought",
                                                  "member": p.partial_member(bot.discord.member_json(BEN))})

    async def refused() -> bool:
        return any(r.endswith(" note") for r in await refusals(bot, number))
    await eventually(refused)
    assert await note() == "first thought"
