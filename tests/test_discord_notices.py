"""Notices on Discord are posted once: after a crash, through Discord's 5xx, and past a deleted thread.

The notices come from the real handlers (an SLA breach from `sla.check_sla`, a task from
`tasks.remind_due`, quarantined mail from `intake.quarantine`) with the clock moved; the bot is the
real runtime over HTTP and a websocket against the fake Discord, which keeps nonces only for minutes
and per author, returns none with fetched messages, and can lose an answer after doing the work.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.adapters.discord.notices import same_notice
from bot.app import Core, build_core
from bot.chat import notices as delivery
from bot.handlers import intake, sla, tasks
from bot.store import orm
from tests.support.db import Database
from tests.support.discord_bot import ANA, DiscordBot, running_discord_bot
from tests.support.fake_discord import FakeDiscord
from tests.support.mails import raw_mail
from tests.support.slack_bot import eventually
from tests.test_slack_sla import WORKFLOW

Json = dict[str, Any]
MESSAGES = "POST /channels/{channel}/messages"


@asynccontextmanager
async def desk(db: Database, tmp_path: Path, fake: FakeDiscord, *, forum: bool = False) -> AsyncIterator[DiscordBot]:
    path = tmp_path / "workflow.toml"
    path.write_text(WORKFLOW)
    async with running_discord_bot(db, tmp_path, fake=fake, forum=forum, workflow_file=path) as bot:
        yield bot


async def claimed_ticket(bot: DiscordBot, subject: str) -> tuple[int, Json]:
    """A ticket Ana took (so its notices go into its thread, mentioning her): its number and thread."""
    number = await bot.mail(raw_mail(subject=subject, message_id=f"<{subject.replace(' ', '.')}@customer.example>"))
    await bot.slash("claim", ANA, number=number)
    await bot.settled()
    return number, await bot.thread_of(number)


def move_clock(core: Core, minutes: float) -> None:
    before = core.ctx.clock
    core.ctx.clock = lambda: before() + timedelta(minutes=minutes)


def breaches(fake: FakeDiscord, thread: Json) -> list[str]:
    """Every breach notice Discord shows anywhere (the ticket's thread, the tickets channel)."""
    return [m["content"] for c in list(fake.messages) for m in fake.in_channel(c) if "SLA breached" in m["content"]
            and f"#{thread['name'].split()[0][1:]}" in m["content"]]


def posts_to(fake: FakeDiscord, channel_id: str) -> int:
    return sum(1 for name, path in fake.calls if name == MESSAGES and path.endswith(f"/channels/{channel_id}/messages"))


async def deliveries(core: Core) -> list[Any]:
    d = orm.notice_deliveries.c
    async with core.engine.connect() as conn:
        query = select(orm.notice_deliveries).where(d.platform == "discord").order_by(d.notice_id)
        return list((await conn.execute(query)).all())


async def test_a_breach_committed_while_the_bot_was_down_is_posted_once_when_it_is_back(database: Database,
                                                                                         tmp_path: Path) -> None:
    async with FakeDiscord() as fake:
        async with desk(database, tmp_path, fake) as bot:
            number, thread = await claimed_ticket(bot, "Server down")
            settings = bot.core.settings
        core = await build_core(settings, engine=database.engine())  # the scheduler's commit, with no bot running
        try:
            move_clock(core, 70)
            assert await sla.check_sla(core.ctx) == 1
        finally:
            await core.close()
        assert breaches(fake, thread) == []
        for _ in ("back", "restarted"):
            async with desk(database, tmp_path, fake) as again:
                await again.settled()
                [breach] = breaches(fake, thread)
                assert breach in [m["content"] for m in again.thread_messages(thread)]  # in the ticket's thread
                assert breach.startswith(f"🚨 <@{ANA['id']}> SLA breached on #{number}")
                [row] = await deliveries(again.core)
                assert row.delivered_at is not None and row.attempts == 1


async def test_a_crash_between_the_post_and_its_record_does_not_post_it_again(
        database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The task reminder reaches Discord, then the process dies before the delivery is recorded. Minutes
    later (Discord has forgotten the nonce) the bot is back: it finds its post instead of posting again."""
    crashed: list[bool] = []

    async def died(*args: object) -> None:
        crashed.append(True)
        raise ConnectionError("the process died here")

    async with FakeDiscord() as fake:
        async with desk(database, tmp_path, fake) as bot:
            number, thread = await claimed_ticket(bot, "Call back")
            said = await bot.slash("task", ANA, number=number, text="in 30m call the customer back")
            assert "task" in str(said.data) + str(said.followups), said
            monkeypatch.setattr(delivery.notices, "delivered", died)
            move_clock(bot.core, 31)
            assert await tasks.remind_due(bot.core.ctx) == 1

            def reminders() -> list[str]:
                return [m["content"] for m in bot.thread_messages(thread) if "task due" in m["content"]]

            await eventually(reminders)
            await eventually(lambda: crashed)  # the post landed and the record died (not undone before it ran)
            monkeypatch.undo()
        fake.nonces.forget()
        async with desk(database, tmp_path, fake) as again:
            move_clock(again.core, 31 + 5)  # past the dead process's lease
            await again.settled()
            [reminder] = [m for m in again.thread_messages(thread) if "task due" in m["content"]]
            assert reminder["content"].startswith(f"⏰ <@{ANA['id']}> task due on #{number}: call the customer back")
            [row] = await deliveries(again.core)
            assert row.delivered_at is not None and row.ref == reminder["id"] and row.attempts >= 2


@pytest.mark.parametrize("status", [500, 503], ids=["500-retried-by-discord.py", "503-retried-by-tiketti"])
async def test_a_notice_whose_post_answers_5xx_after_landing_is_posted_once(database: Database, tmp_path: Path,
                                                                            status: int) -> None:
    """Discord documents 5xx as "the server had an error processing your request" (the write may have
    happened). discord.py sends a request answered 500 again itself, a second later, with the same body
    and so the same nonce: Discord answers with the first message. A 503 reaches Tiketti, which tries
    again after its backoff, when Discord may have forgotten the nonce: it finds its post in the thread."""
    async with FakeDiscord() as fake, desk(database, tmp_path, fake) as bot:
        _, thread = await claimed_ticket(bot, "Server down")
        path = f"/api/v10/channels/{thread['id']}/messages"
        fake.lose_answer[path] = status
        before = posts_to(fake, thread["id"])
        move_clock(bot.core, 70)
        assert await sla.check_sla(bot.core.ctx) == 1
        await eventually(lambda: breaches(fake, thread))
        assert path not in fake.lose_answer, "the post landed, and its answer was a 5xx"
        if status == 503:
            await eventually(lambda: _tried(bot))  # the failure is recorded: the next try is due after the backoff
            fake.nonces.forget()
            move_clock(bot.core, 1)
        await bot.settled()
        [row] = await deliveries(bot.core)
        assert row.delivered_at is not None and row.attempts == (1 if status == 500 else 2)
        assert len(breaches(fake, thread)) == 1
        # discord.py sent the 500's request again (the nonce made it the same message); after the 503 Tiketti
        # found its post in the thread's history instead of posting again
        assert posts_to(fake, thread["id"]) - before == (2 if status == 500 else 1)


async def _tried(bot: DiscordBot) -> bool:
    return any(r.last_error for r in await deliveries(bot.core))


async def test_a_notice_discord_refuses_for_good_is_given_up_and_the_others_are_posted(
        database: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async with FakeDiscord() as fake, desk(database, tmp_path, fake) as bot:
        _, gone = await claimed_ticket(bot, "Deleted thread")
        _, kept = await claimed_ticket(bot, "Kept thread")
        await fake.delete_channel(gone["id"])  # someone deleted the ticket's thread: 404 Unknown Channel
        before = posts_to(fake, gone["id"])
        move_clock(bot.core, 70)
        with caplog.at_level(logging.ERROR, logger="bot.chat.notices"):
            assert await sla.check_sla(bot.core.ctx) == 2
            await bot.settled()
        [given_up, delivered] = await deliveries(bot.core)
        assert given_up.given_up_at is not None and given_up.attempts == 1 and "10003" in given_up.last_error
        assert delivered.delivered_at is not None and len(breaches(fake, kept)) == 1
        [error] = [r for r in caplog.records if r.levelno == logging.ERROR and "gave up" in r.getMessage()]
        assert "discord" in error.getMessage() and "Unknown Channel" in error.getMessage()
        move_clock(bot.core, 60)
        await bot.settled()
        assert posts_to(fake, gone["id"]) - before == 1, "tried once, not again"


async def test_in_a_forum_quarantined_mail_is_a_post_of_its_own_found_again_after_a_503(database: Database,
                                                                                        tmp_path: Path) -> None:
    """A forum takes posts, not messages, and a post carries no nonce: a retry finds it by title and words."""
    async with FakeDiscord(forum=True) as fake, desk(database, tmp_path, fake, forum=True) as bot:
        fake.lose_answer["POST /channels/{channel}/threads"] = 503
        item = await intake.quarantine(bot.core.ctx, b"junk", "no From header", source="pipe", sender="x@spam.test",
                                       subject="WIN A PRIZE")

        def posts() -> list[Json]:
            return [t for t in fake.threads() if t["name"] == f"Mail quarantined as #{item}"]

        await eventually(posts)
        await eventually(lambda: _tried(bot))
        move_clock(bot.core, 1)
        await bot.settled()
        [post] = posts()
        assert post["parent_id"] == fake.tickets_channel["id"]
        assert "tiketti quarantine show" in fake.message(post["id"], post["id"])["content"]
        [row] = await deliveries(bot.core)
        assert row.delivered_at is not None and row.ref == post["id"]


def test_a_warning_found_again_is_known_though_its_time_left_moved_on() -> None:
    """A warning posted before a crash said "due in 25 min"; the retry would say less: the same notice."""
    posted = f"⏳ <@{ANA['id']}> #5: first reply due in 25 min"
    assert same_notice(posted, f"⏳ <@{ANA['id']}> #5: first reply due in 1 h 5 min")
    assert same_notice(posted, f"⏳ <@{ANA['id']}> #5: first reply overdue by 3 min")
    assert not same_notice(posted, f"⏳ <@{ANA['id']}> #6: first reply due in 25 min")
    assert not same_notice(posted, f"⏳ <@{ANA['id']}> #5: resolution due in 25 min")
