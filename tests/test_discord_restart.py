"""A card's controls and the Reply form survive a restart: their custom ids carry the action and the
ticket's number (`tiketti:claim:12`, `tiketti:reply-form:12:<opened>:<nonce>`), so a process that never
drew them understands a click or a submit from the interaction alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.adapters.discord import controls
from tests.support.db import Database
from tests.support.discord_bot import ANA, BEN, running_discord_bot
from tests.support.fake_discord import FakeDiscord
from tests.support.mails import raw_mail


async def test_a_cards_controls_name_their_ticket_and_work_after_a_restart(database: Database,
                                                                           tmp_path: Path) -> None:
    async with FakeDiscord() as fake:
        async with running_discord_bot(database, tmp_path, fake=fake) as bot:
            number = await bot.mail(raw_mail(subject="Before the restart"))
            await bot.settled()
            thread = await bot.thread_of(number)
            shown = [c["custom_id"] for row in bot.starter(thread)["components"] for c in row["components"]]
            assert f"tiketti:claim:{number}" in shown and f"tiketti:priority:{number}" in shown
        async with running_discord_bot(database, tmp_path, fake=fake) as bot:
            await bot.click(controls.CLAIM, thread, ANA)
            await bot.choose(controls.PRIORITY, thread, ANA, ["urgent"])
            await bot.settled()
            card = _card(bot.starter(thread))
            assert f"Assignee: <@{ANA['id']}>" in card and "urgent" in card


async def test_the_ticket_comes_from_the_custom_id_not_the_message_clicked(database: Database,
                                                                          tmp_path: Path) -> None:
    async with running_discord_bot(database, tmp_path) as bot:
        number = await bot.mail(raw_mail(subject="Named by its id"))
        await bot.settled()
        button = {"type": 2, "style": 1, "label": "Claim", "custom_id": f"tiketti:claim:{number}"}
        other = bot.discord.post(int(bot.discord.tickets_channel["id"]), bot.discord.bot,  # not the ticket's card
                                 {"content": "a copy", "components": [{"type": 1, "components": [button]}]})
        token = await bot.interact(3, {"custom_id": f"tiketti:claim:{number}", "component_type": 2}, BEN,
                                   bot.discord.tickets_channel, other)
        answer = await bot.response(token, followups=1)
        assert "not a ticket" not in answer.followups[0]["content"]
        await bot.settled()
        assert f"Assignee: <@{BEN['id']}>" in _card(bot.starter(await bot.thread_of(number)))


async def test_a_reply_form_opened_before_a_restart_is_sent_after_it(database: Database, tmp_path: Path) -> None:
    async with FakeDiscord() as fake:
        async with running_discord_bot(database, tmp_path, fake=fake) as bot:
            number = await bot.mail(raw_mail(subject="Typed across a restart"))
            await bot.settled()
            thread = await bot.thread_of(number)
            modal = await bot.click(controls.REPLY, thread, ANA)
            assert modal.kind == 9 and modal.data["custom_id"].startswith(f"tiketti:reply-form:{number}:")
        async with running_discord_bot(database, tmp_path, fake=fake) as bot:
            done = await bot.submit_modal(modal, ANA, thread, "Written before the restart.")
            assert "reply sent to mia@customer.example" in done.followups[0]["content"]
            await bot.settled()
            shown = [m["content"] for m in bot.thread_messages(thread)]
            assert sum("Written before the restart." in s for s in shown) == 1


def _card(starter: dict[str, Any]) -> str:
    return "\n".join(f"{f['name']}: {f['value']}" for f in starter["embeds"][0]["fields"])
