"""Agents in Discord: /ticket with ephemeral answers after a defer, autocomplete, assign, mentions, edits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.adapters.commands import SPECS
from bot.domain.model import MessageKind
from tests.support.db import Database
from tests.support.discord_bot import ANA, BEN, EVA, DiscordBot, running_discord_bot
from tests.support.mails import messages, raw_mail, ticket
from tests.support.slack_bot import eventually


@pytest.fixture
async def bot(sqlite_database: Database, tmp_path: Path) -> AsyncIterator[DiscordBot]:
    async with running_discord_bot(sqlite_database, tmp_path) as b:
        yield b


async def test_ticket_command_is_registered_in_the_guild_with_every_subcommand(bot: DiscordBot) -> None:
    ticket, toolkit = bot.discord.commands  # Discord holds 25 subcommands a command: the toolkit is /helpdesk
    assert (ticket["name"], toolkit["name"]) == ("ticket", "helpdesk")
    subs = [o["name"] for c in (ticket, toolkit) for o in c["options"]]
    assert len(subs) == len(set(subs)) and set(subs) == set(SPECS)  # the shared grammar, every verb once


async def test_slash_commands_defer_then_answer_only_the_caller(bot: DiscordBot) -> None:
    number = await bot.mail(raw_mail(subject="VPN down"))
    await bot.settled()
    claimed = await bot.slash("claim", ANA, number=number)
    assert claimed.kind == 5 and claimed.ephemeral  # deferred at once, "thinking", only Ana sees it
    assert claimed.followups[0]["flags"] & 64 and "claimed by Ana Agent" in claimed.followups[0]["content"]
    mine = await bot.slash("mine", ANA)
    assert f"#{number}" in mine.followups[0]["content"] and "VPN down" in mine.followups[0]["content"]
    shown = await bot.slash("show", BEN, number=number)
    assert "VPN down" in shown.followups[0]["content"] and "Hello, the printer" in shown.followups[0]["content"]
    await bot.slash("priority", ANA, number=number, level="urgent")
    await bot.slash("status", ANA, number=number, status="waiting_on_third_party")
    t = await ticket(bot.core, number)
    assert t is not None and t.priority.value == "urgent" and t.status.value == "waiting_on_third_party"
    helped = await bot.slash("help", BEN)
    assert "/ticket claim N" in helped.followups[0]["content"]


async def test_errors_are_shown_to_the_caller_alone(bot: DiscordBot) -> None:
    missing = await bot.slash("claim", ANA, number=999)
    assert "ticket #999 does not exist" in missing.followups[0]["content"]
    assert missing.followups[0]["flags"] & 64
    nowhere = await bot.slash("close", ANA)  # no number, and not in a ticket's thread
    assert "which ticket?" in nowhere.followups[0]["content"]


async def test_in_a_thread_the_number_may_be_left_out_and_assign_picks_a_member(bot: DiscordBot) -> None:
    number = await bot.mail(raw_mail())
    await bot.settled()
    thread = await bot.thread_of(number)
    answer = await bot.slash("assign", ANA, channel=thread, member=BEN["id"])
    assert "assigned to Ben Agent" in answer.followups[0]["content"]
    note = await bot.slash("note", ANA, channel=thread, text="checked the logs")
    assert "note saved" in note.followups[0]["content"]
    notes = [m.body_text for m in await messages(bot.core, number) if m.kind == MessageKind.NOTE]
    assert notes == ["checked the logs"]


async def test_autocomplete_offers_matching_ticket_numbers(bot: DiscordBot) -> None:
    first = await bot.mail(raw_mail(subject="Invoice wrong", message_id="<a@customer.example>"))
    await bot.mail(raw_mail(subject="Password reset", message_id="<b@customer.example>"))
    token = await bot.interact(4, bot.command_data("claim", {"number": "inv"}, focused="number"), ANA,
                               bot.discord.tickets_channel)
    response = await bot.response(token)
    assert response.kind == 8
    assert response.data["choices"] == [{"name": f"#{first} Invoice wrong", "value": first}]


async def test_mentioning_a_colleague_adds_them_and_posts_a_summary(bot: DiscordBot) -> None:
    number = await bot.mail(raw_mail(subject="Strange invoice"))
    await bot.settled()
    thread = await bot.thread_of(number)
    await bot.say(thread["id"], ANA, f"<@{EVA['id']}> can you check the invoice?", mentions=[EVA])

    def summary() -> list[str]:
        return [m["content"] for m in bot.thread_messages(thread) if "you were added to" in m["content"]]

    [text] = await eventually(summary)
    assert f"<@{EVA['id']}>" in text and "Strange invoice" in text
    async with bot.core.ctx.uow() as uow:
        assert len(await uow.collaborators.for_ticket(number)) == 1


async def test_editing_a_thread_message_updates_the_note(bot: DiscordBot) -> None:
    number = await bot.mail(raw_mail())
    await bot.settled()
    thread = await bot.thread_of(number)
    said = await bot.say(thread["id"], ANA, "first thought")

    async def note_text() -> str:
        found = [m.body_text for m in await messages(bot.core, number) if m.kind == MessageKind.NOTE]
        assert found
        return found[0]

    assert await eventually(note_text) == "first thought"
    await bot.discord.dispatch("MESSAGE_UPDATE", {**said, "content": "second thought"})
    await eventually(lambda: _is(note_text, "second thought"))


async def _is(fn: object, value: str) -> bool:
    return await fn() == value  # type: ignore[operator]


async def test_the_team_workflow_commands_work_in_discord_too(bot: DiscordBot) -> None:
    first = await bot.mail(raw_mail(subject="Login fails"))
    second = await bot.mail(raw_mail(subject="Still cannot log in"))
    await bot.settled()
    said = await bot.slash("category", ANA, number=first, name="Technical")
    assert "category: — → technical" in said.followups[0]["content"]
    said = await bot.slash("tag", ANA, number=first, tags="+vip")
    assert "tags: vip" in said.followups[0]["content"]
    said = await bot.slash("task", ANA, number=first, text="in 2h call back")
    assert "task 1 added" in said.followups[0]["content"]
    assert "call back" in (await bot.slash("tasks", ANA)).followups[0]["content"]
    assert "done" in (await bot.slash("done", ANA, task=1)).followups[0]["content"]
    said = await bot.slash("child", ANA, number=first, subject="Reset the SSO token")
    assert "child ticket" in said.followups[0]["content"]
    await bot.slash("close", ANA, number=second + 1)  # the child: a ticket with open children cannot be merged
    said = await bot.slash("merge", ANA, number=first, into=second)
    assert f"#{first} merged into #{second}" in said.followups[0]["content"]
    t = await ticket(bot.core, first)
    assert t is not None and t.merged_into == second and t.category == "technical" and t.tags == ["vip"]


async def test_reactions_on_a_ticket_s_card_claim_and_solve_it(bot: DiscordBot) -> None:
    number = await bot.mail(raw_mail(subject="Reacted to"))
    await bot.settled()
    thread = await bot.thread_of(number)
    starter = bot.starter(thread)
    assert await bot.react(starter["channel_id"], starter["id"], ANA, "👀"), "the bot asked for reactions"

    async def state() -> tuple[str | None, str]:
        t = await ticket(bot.core, number)
        assert t is not None
        async with bot.core.ctx.uow() as uow:
            agent = await uow.agents.get(t.assignee_id) if t.assignee_id else None
        return (agent.chat_user_id if agent else None, str(t.status))

    await eventually(lambda: _equals(state, (ANA["id"], "open")))
    await bot.react(starter["channel_id"], starter["id"], ANA, "✅")
    await eventually(lambda: _equals(state, (ANA["id"], "solved")))


async def _equals(fn: object, value: object) -> bool:
    return await fn() == value  # type: ignore[operator]
