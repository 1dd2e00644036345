"""Undo send on Discord: the held reply's ephemeral answer carries *Undo*; a click takes the reply back and
answers with the Reply form filled with its text, through the fake Discord (real discord.py talks to it).

A long hold keeps the window open for the test; the window's end is tested with a clock moved by hand on
the console (tests/test_undo_send.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.adapters.discord import controls
from bot.adapters.discord.reply_form import REPLY_TEXT
from bot.domain.status import Status
from tests.support.db import Database
from tests.support.discord_bot import ANA, EVA, running_discord_bot
from tests.support.fake_discord import FakeDiscord
from tests.support.mails import outbox, raw_mail, ticket

Json = dict[str, Any]
TEXT = "Your refund is on its way."


def undo_of(answer: Json) -> Json:
    [button] = [c for row in answer.get("components", []) for c in row["components"] if c.get("label") == "Undo"]
    return button


def private(response: Any) -> Json:
    """The answer only the presser sees: the message itself, or the follow-up after a deferral."""
    said = response.followups[0] if response.followups else response.data
    assert said["flags"] & 64, said
    return said


def form_text(modal_data: Json) -> str | None:
    fields = [c for row in modal_data["components"] for c in row.get("components", [row.get("component")]) if c]
    return next((f.get("value") for f in fields if f.get("custom_id") == REPLY_TEXT), None)


async def test_undo_on_the_reply_answer_opens_the_form_with_the_text(database: Database, tmp_path: Path) -> None:
    async with running_discord_bot(database, tmp_path, undo_seconds=120) as bot:
        number = await bot.mail(raw_mail())
        await bot.settled()
        done = await bot.slash("reply", ANA, number=number, text=TEXT)
        [said] = done.followups
        assert said["flags"] & 64 and f"Sending #{number}'s reply to mia@customer.example in 120 s" in said["content"]
        assert undo_of(said)["custom_id"].startswith(f"tiketti:undo:{number}:")

        refused = await bot.press(said, EVA)  # the button passed on to someone else: not theirs to press
        assert private(refused)["content"].startswith("⚠️")
        assert [m.kind for m in await outbox(bot.core, number)] == ["ack", "reply"]

        form = await bot.press(said, ANA)
        assert form.kind == 9 and form.data["title"] == f"Reply to #{number}"
        assert form_text(form.data) == TEXT, "the text is back in the form"
        await bot.settled()
        assert [m.kind for m in await outbox(bot.core, number)] == ["ack"]
        t = await ticket(bot.core, number)
        assert t is not None and t.status == Status.NEW and t.first_response_at is None
        thread = await bot.thread_of(number)
        assert any("took back their reply" in str(m) for m in bot.thread_messages(thread))

        again = await bot.press(said, ANA)
        assert "taken back already" in private(again)["content"]


async def test_the_reply_forms_answer_has_undo_and_it_works_after_a_restart(database: Database, tmp_path: Path) -> None:
    async with FakeDiscord() as fake:
        async with running_discord_bot(database, tmp_path, fake=fake, undo_seconds=120) as bot:
            number = await bot.mail(raw_mail())
            await bot.settled()
            thread = await bot.thread_of(number)
            modal = await bot.click(controls.REPLY, thread, ANA)
            done = await bot.submit_modal(modal, ANA, thread, TEXT)
            [said] = done.followups
            assert said["flags"] & 64 and "Sending" in said["content"] and undo_of(said)
        async with running_discord_bot(database, tmp_path, fake=fake, undo_seconds=120) as bot:
            form = await bot.press(said, ANA)
            assert form.kind == 9 and form_text(form.data) == TEXT
            assert [m.kind for m in await outbox(bot.core, number)] == ["ack"]
