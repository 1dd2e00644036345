"""A DM customer proves a mail address (`link you@example.com`, then `link <code>`): one history for both channels."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.discord import controls
from bot.domain.chat_contacts import chat_address
from bot.domain.model import Contact
from bot.domain.status import Status
from bot.handlers import contact_link, replies
from bot.handlers.context import Actor
from tests.support.db import Database
from tests.support.discord_bot import ANA, EVA, MIA, DiscordBot, running_discord_bot
from tests.support.mails import header_names, messages, parse_sent, raw_mail, text_body, ticket
from tests.support.slack_bot import eventually

Json = dict[str, Any]


@pytest.fixture
async def bot(database: Database, tmp_path: Path) -> AsyncIterator[DiscordBot]:
    async with running_discord_bot(database, tmp_path) as b:
        yield b


def _answers(bot: DiscordBot, dm: Json) -> list[str]:
    return [m["content"] for m in bot.discord.in_channel(dm["id"]) if m["author"]["bot"]]


async def _command(bot: DiscordBot, dm: Json, user: Json, text: str) -> str:
    """Type `text` in the DM and return the bot's answer to it."""
    before = len(_answers(bot, dm))
    await bot.say(dm["id"], user, text)
    answers = await eventually(lambda: _answers(bot, dm)[before:])
    return answers[-1]


async def _contact(bot: DiscordBot, email: str) -> Contact | None:
    async with bot.core.ctx.uow() as uow:
        return await uow.contacts.by_email(email)


async def _dm_ticket(bot: DiscordBot, user: Json, text: str) -> tuple[Json, int]:
    dm = bot.discord.dm_channel(user)
    await bot.say(dm["id"], user, text)

    def thread() -> Json | None:
        return next((t for t in bot.discord.threads() if text[:20] in t["name"]), None)

    found = await eventually(thread)
    await bot.settled()
    return dm, int(found["name"].split()[0].lstrip("#"))


async def _code(bot: DiscordBot, dm: Json, user: Json, email: str) -> str:
    answer = await _command(bot, dm, user, f"link {email}")
    local, domain = email.split("@")
    assert answer.startswith(f"I sent a code to {local[0]}***@{domain}")
    await bot.settled()
    [mail] = [r for r in bot.sink.received if email in r.rcpt_tos][-1:]
    [code] = re.findall(r"\b\d{6}\b", text_body(parse_sent(mail.raw)))[:1]
    return code


async def test_a_dm_customer_links_their_mail_address_and_both_histories_become_one(bot: DiscordBot) -> None:
    mailed = await bot.mail(raw_mail(frm="Ana Customer <ana@example.com>", subject="Invoice 17 is wrong"))
    dm, number = await _dm_ticket(bot, MIA, "My parcel never arrived")
    ana = await _contact(bot, "ana@example.com")
    assert ana is not None and ana.id is not None
    threads = len(bot.discord.threads())

    answer = await _command(bot, dm, MIA, "LINK ana@example.com")  # any case
    assert answer.startswith("I sent a code to a***@example.com; reply `link 123456`")
    await bot.settled()
    [mail] = [r for r in bot.sink.received if "ana@example.com" in r.rcpt_tos and "code" in r.message["Subject"]]
    sent = parse_sent(mail.raw)
    code = re.findall(r"\b\d{6}\b", text_body(sent))[0]
    assert sent["Auto-Submitted"] == "auto-generated" and "x-auto-response-suppress" in header_names(mail.raw)
    assert code not in answer
    assert len(bot.discord.threads()) == threads  # a command opens no ticket
    assert len(await messages(bot.core, number)) == 1

    answer = await _command(bot, dm, MIA, f"!link {code}")
    assert answer.startswith("Linked: your tickets by mail and here are now one history.")
    t = await ticket(bot.core, number)
    assert t is not None and t.requester_id == ana.id
    assert all(m.author_contact_id == ana.id for m in await messages(bot.core, number))
    async with bot.core.ctx.uow() as uow:
        history = [x.number for x in await uow.tickets.recent_for_requester(ana.id)]
        assert sorted(history) == sorted([mailed, number])
        trail = await uow.audit.for_ticket(number)
        assert any(e.action == "requester_linked" and e.after == "ana@example.com" for e in trail)
        assert await uow.contact_links.contact_for(chat_address("discord", MIA["id"])) == ana.id

    # The DM ticket is still one: the Reply form says the answer goes to the DM, and it does, not by mail.
    modal = await bot.click(controls.REPLY, await bot.thread_of(number), ANA)
    assert "their Discord DM" in str(modal.data) and "ana@example.com" not in str(modal.data)
    mails = len(bot.sink.received)
    await replies.reply(bot.core.ctx, Actor("1000000000000000001", "Ana Agent", in_tickets_channel=True), number, "It is on its way again.")
    await bot.settled()
    assert "It is on its way again." in _answers(bot, dm)[-1]
    assert len(bot.sink.received) == mails

    # Later DMs land on the mail contact: on the DM ticket, never on the mail ticket.
    await bot.say(dm["id"], MIA, "Thanks, got it!")

    async def appended() -> bool:
        return len(await messages(bot.core, number)) == 3

    await eventually(appended)
    assert [m.author_contact_id for m in await messages(bot.core, number)][-1] == ana.id
    assert len(await messages(bot.core, mailed)) == 1
    t = await ticket(bot.core, number)
    assert t is not None and t.requester_id == ana.id

    # A new ticket by DM (the old one closed) belongs to the mail contact too, and lists the mail ticket.
    async with bot.core.ctx.uow() as uow:
        closing = await uow.tickets.get(number, for_update=True)
        assert closing is not None
        closing.status = Status.CLOSED
        await uow.commit()
    await bot.say(dm["id"], MIA, "Something else entirely")

    def new_thread() -> Json | None:
        return next((x for x in bot.discord.threads() if "Something else entirely" in x["name"]), None)

    newest = int((await eventually(new_thread))["name"].split()[0].lstrip("#"))
    t = await ticket(bot.core, newest)
    assert t is not None and t.requester_id == ana.id
    async with bot.core.ctx.uow() as uow:
        assert {x.number for x in await uow.tickets.recent_for_requester(ana.id, exclude=newest)} == {mailed, number}


async def test_a_wrong_code_is_refused_and_five_wrong_tries_kill_the_code(bot: DiscordBot) -> None:
    dm, number = await _dm_ticket(bot, MIA, "Where is my refund")
    code = await _code(bot, dm, MIA, "ana@example.com")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert await _command(bot, dm, MIA, f"link {wrong}") == "That code is not right; 4 tries left."
    assert (await _command(bot, dm, MIA, "link 12345")).startswith("A code has 6 digits")
    for left in (3, 2, 1):
        assert f"{left} tr" in await _command(bot, dm, MIA, f"link {wrong}")
    assert "cannot be used any more" in await _command(bot, dm, MIA, f"link {wrong}")
    assert "no longer valid" in await _command(bot, dm, MIA, f"link {code}")  # dead, even when right
    t = await ticket(bot.core, number)
    chat = await _contact(bot, chat_address("discord", MIA["id"]))
    assert t is not None and chat is not None and t.requester_id == chat.id
    assert await _contact(bot, "ana@example.com") is None
    assert len(bot.discord.threads()) == 1


async def test_a_code_works_only_for_the_chat_user_it_was_sent_for(bot: DiscordBot) -> None:
    dm, number = await _dm_ticket(bot, MIA, "Cannot log in")
    code = await _code(bot, dm, MIA, "ana@example.com")
    eva_dm = bot.discord.dm_channel(EVA)
    assert "no longer valid (or there is none)" in await _command(bot, eva_dm, EVA, f"link {code}")
    async with bot.core.ctx.uow() as uow:
        assert await uow.contact_links.contact_for(chat_address("discord", EVA["id"])) is None
    assert (await _command(bot, dm, MIA, f"link {code}")).startswith("Linked:")


async def test_more_than_three_codes_an_hour_are_refused(bot: DiscordBot) -> None:
    dm = bot.discord.dm_channel(MIA)
    for _ in range(3):
        assert (await _command(bot, dm, MIA, "link ana@example.com")).startswith("I sent a code")
    assert "3 codes in the last hour" in await _command(bot, dm, MIA, "link ana@example.com")
    await bot.settled()
    assert len([r for r in bot.sink.received if "ana@example.com" in r.rcpt_tos]) == 3


@pytest.mark.parametrize("text", [
    "link ana@example.com\r\nBcc: eve@example.com",
    "link ana@example.com\nbob@example.com",
    "link ana@example.com bob@example.com",
    "link ana@example.com, bob@example.com",
    "link ana@localhost",
    "link <ana@example.com>",
    "link 123@discord.invalid",
    "link support@helpdesk.test",
])
async def test_anything_but_one_plain_address_is_refused(bot: DiscordBot, text: str) -> None:
    dm = bot.discord.dm_channel(MIA)
    answer = await _command(bot, dm, MIA, text)
    assert "I sent a code" not in answer and "link you@example.com" in answer
    await bot.settled()
    assert bot.sink.received == []
    assert bot.discord.threads() == []  # still a command: no ticket


def test_what_counts_as_the_command() -> None:
    assert contact_link.command_argument("link ana@example.com") == "ana@example.com"
    assert contact_link.command_argument("  !Link 123456 ") == "123456"
    assert contact_link.command_argument("link my account please") is None  # a customer's message
    assert contact_link.command_argument("please link ana@example.com") is None
    assert contact_link.valid_address("Ana.B+x@Mail.Example.com") == "ana.b+x@mail.example.com"
    assert contact_link.valid_address("ana@example") is None
    assert contact_link.mask("yolanda@example.com") == "y***@example.com"
