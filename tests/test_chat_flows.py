"""The chat flows, once, on the console surface: what agents see in a ticket's thread and in the channel.

Mail comes in through the real pipeline; agents type lines (thread notes, `/ticket` commands) as
on the console; SLA checks, task reminders and quarantine are the real handlers. `ThreadSync`
and `NoticeDelivery` run their own workers over `ConsoleSurface`, as they do over Slack and
Discord, and the tests read the channel and the threads as an agent would. On SQLite and
PostgreSQL. Slack's and Discord's own tests then only prove their translation and rendering.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.adapters.console.surface import BOT
from bot.domain.model import MessageKind
from bot.handlers import collision, intake, sla, tasks
from bot.handlers.context import Actor
from tests.support.console_desk import Desk, console_desk
from tests.support.db import Database
from tests.support.mails import deliver, messages, outbox, raw_mail

WORKFLOW = """
default_team = "support"

[[teams]]
name = "support"
members = ["U0ANA", "U0BEN"]

[roles]
light = ["U0LEE"]

[sla]
timezone = "UTC"
workdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
hours = "00:00-23:59"
warn_before_minutes = 30

[sla.targets]
normal = { first_response = "60m", resolution = "8h" }
"""

ANA, BEN, LEE = Actor("U0ANA", "Ana"), Actor("U0BEN", "Ben"), Actor("U0LEE", "Lee")


@pytest.fixture
async def desk(database: Database, tmp_path: Path) -> AsyncIterator[Desk]:
    async with console_desk(database, tmp_path, WORKFLOW) as d:
        yield d
        assert d.surface.repeated == [], "a key was posted again by a caller that expected no earlier post"


async def mail(desk: Desk, **kw: str) -> int:
    number = (await deliver(desk.core, raw_mail(**kw))).ticket_number
    assert number is not None
    await desk.settled()
    return number


def shown(texts: list[str], words: str) -> list[str]:
    return [t for t in texts if words in t]


async def test_a_ticket_from_mail_gets_a_root_and_its_first_message(desk: Desk) -> None:
    n = await mail(desk, subject="Printer is broken")
    [root] = desk.surface.channel()
    assert root.startswith(f"● #{n} Printer is broken\n  from Mia Customer <mia@customer.example>")
    assert "status: new · priority: normal · assignee: nobody" in root and "[claim]" in root
    [first] = desk.surface.thread(n)
    assert "✉ from Mia Customer" in first and "prints only blank pages" in first
    # The same customer writes about something else: that thread starts with her other ticket.
    other = await mail(desk, subject="Invoice question", body="Why was I billed twice?")
    assert shown(desk.surface.thread(other)[0:1], f"other recent tickets from mia@customer.example: #{n}")
    assert shown(desk.surface.thread(other), "billed twice")
    # A restart's catch-up (a sweep over every ticket) posts nothing more.
    await desk.sync.sweep()
    await desk.settled()
    assert len(desk.surface.channel()) == 2 and len(desk.surface.thread(n)) == 1


async def test_a_note_typed_in_the_thread_shows_once_and_is_never_posted_back(desk: Desk) -> None:
    n = await mail(desk)
    said = await desk.type(ANA, f"/open {n}", "Checked the warranty: still valid. REPLY TO HER NOW")
    assert "✗" not in said
    [typed] = [p for p in desk.surface.posts(n) if "warranty" in p.text]
    assert typed.author == ANA.chat_user_id, "the thread shows Ana's own line, not a copy by the bot"
    assert "🔒 internal note by Ana" in typed.text
    await desk.sync.sweep()  # a restart's catch-up does not post it either
    await desk.settled()
    assert len(shown(desk.surface.thread(n), "warranty")) == 1
    kinds = {m.body_text: m.kind for m in await messages(desk.core, n)}
    assert kinds["Checked the warranty: still valid. REPLY TO HER NOW"] == MessageKind.NOTE
    assert [m.kind for m in await outbox(desk.core, n)] == ["ack"], "a line typed in a thread is never mailed"
    # A note made with /ticket note was typed nowhere in the thread: the bot posts it there.
    await desk.type(ANA, f"/ticket note {n} Ordered a fuser unit.")
    [posted] = [p for p in desk.surface.posts(n) if "fuser unit" in p.text]
    assert posted.author == BOT


async def test_mentioning_a_colleague_pulls_them_in(desk: Desk) -> None:
    n = await mail(desk)
    refused = await desk.type(LEE, f"/open {n}")
    assert "✗ a light agent can read only the tickets they were pulled into" in refused
    said = await desk.type(ANA, f"/open {n}", "@U0LEE can you check with the bank? mia@customer.example says twice")
    assert "✗" not in said
    [pulled] = shown(desk.surface.thread(n), "pulled into")
    assert pulled.startswith(f"  ↳ #{n} 👋 @U0LEE pulled into #{n} Printer is broken\n"), "an address is no mention"
    assert "asked: Hello, the printer on floor 2" in pulled and "everything typed here stays internal" in pulled
    said = await desk.type(LEE, f"/open {n}", "The bank confirms a double charge.")
    assert "✗" not in said
    [lee] = [p for p in desk.surface.posts(n) if "double charge" in p.text]
    assert lee.author == LEE.chat_user_id and "internal note by Lee" in lee.text
    # Pulled in to help: a light agent reads and writes notes, but never mails the customer.
    said = await desk.type(LEE, f"/ticket reply {n} Refund is on its way.")
    assert f"you were pulled into #{n} to help" in said
    assert not shown(desk.surface.thread(n), "Refund is on its way")


async def test_a_reply_while_a_colleague_has_the_reply_form_open_is_held(desk: Desk) -> None:
    n = await mail(desk)
    await collision.reply_opened(desk.core.ctx, BEN, n)  # Ben pressed Reply: his form is open
    said = await desk.type(ANA, f"/ticket reply {n} The technician comes tomorrow.")
    assert f"✗ not sent to #{n}'s customer: a colleague is answering too" in said
    assert "· Ben is writing a reply too (opened just now)" in said
    assert f"to send it anyway: /ticket reply {n} --anyway …" in said
    assert not shown(desk.surface.thread(n), "technician") and len(await outbox(desk.core, n)) == 1
    said = await desk.type(ANA, f"/ticket reply {n} --anyway The technician comes tomorrow.")
    assert "✗" not in said
    [reply] = shown(desk.surface.thread(n), "technician comes tomorrow")
    assert "↩ reply sent to mia@customer.example by Ana" in reply and "--anyway" not in reply
    assert [m.kind for m in await outbox(desk.core, n)] == ["ack", "reply"]


async def test_claim_and_close_render_the_root_again(desk: Desk) -> None:
    n = await mail(desk)
    await desk.type(ANA, f"/ticket claim {n}")
    [root] = desk.surface.channel()
    assert "status: open · priority: normal · assignee: Ana" in root and "[claim]" in root
    await desk.type(ANA, f"/ticket close {n}")
    [root] = desk.surface.channel()  # the same root, updated in place: nothing posted twice
    assert "status: solved" in root and "[reopen]" in root and "[claim]" not in root
    assert desk.surface.root(n) == root and len(desk.surface.thread(n)) == 1


async def test_merging_shows_the_merge_notice_in_both_threads(desk: Desk) -> None:
    target = await mail(desk, subject="Printer is broken")
    source = await mail(desk, frm="Leo <leo@other.example>", subject="Printer again", body="Still blank pages.")
    said = await desk.type(ANA, f"/ticket merge {source} into {target} --different-customer")
    assert "✗" not in said
    assert shown(desk.surface.thread(source), f"Merged into #{target} by Ana: the conversation continues there.")
    assert f"merged into: #{target}" in desk.surface.root(source) and "status: closed" in desk.surface.root(source)
    assert shown(desk.surface.thread(target), f"#{source} of another customer (")
    assert shown(desk.surface.thread(target), "Still blank pages."), "the conversation moved into the target"


async def test_sla_warning_and_breach_land_in_the_thread_mentioning_the_assignee(desk: Desk) -> None:
    n = await mail(desk, subject="Server down")
    await desk.type(ANA, f"/ticket claim {n}")
    desk.clock.forward(timedelta(minutes=35))
    assert await sla.check_sla(desk.core.ctx) == 1
    await desk.settled()
    assert shown(desk.surface.thread(n), f"⏳ @U0ANA #{n} Server down: first reply due in 25 min")
    desk.clock.forward(timedelta(minutes=35))
    assert await sla.check_sla(desk.core.ctx) == 1
    await desk.settled()
    assert shown(desk.surface.thread(n), f"🚨 @U0ANA SLA breached on #{n} Server down: first reply was due")
    assert len(desk.surface.channel()) == 1, "only the root at the channel's top level"


async def test_with_nobody_assigned_an_sla_notice_goes_to_the_team_channel_with_a_link(desk: Desk) -> None:
    n = await mail(desk, subject="Server down")
    desk.clock.forward(timedelta(minutes=35))
    assert await sla.check_sla(desk.core.ctx) == 1
    await desk.settled()
    [_, warning] = desk.surface.channel()
    assert warning.startswith(f"⏳ nobody assigned: #{n} Server down: first reply due in 25 min")
    assert warning.endswith(f"→ thread of #{n} in #tickets")
    assert not shown(desk.surface.thread(n), "⏳"), "inside the thread it would reach nobody"


async def test_a_task_reminder_lands_in_the_thread(desk: Desk) -> None:
    n = await mail(desk)
    said = await desk.type(ANA, f"/ticket claim {n}", f"/ticket task {n} in 30m call the customer back")
    assert "task 1 added" in said
    desk.clock.forward(timedelta(minutes=31))
    assert await tasks.remind_due(desk.core.ctx) == 1
    await desk.settled()
    assert shown(desk.surface.thread(n), f"⏰ @U0ANA task due on #{n}: call the customer back (/ticket done 1)")


async def test_quarantined_mail_is_announced_in_the_default_channel(desk: Desk) -> None:
    item = await intake.quarantine(desk.core.ctx, b"junk", "no From header", source="pipe", sender="x@spam.test",
                                   subject="WIN A PRIZE")
    await desk.settled()
    assert desk.surface.channel("tickets") == [
        f"⚠ mail quarantined as #{item}: from x@spam.test, “WIN A PRIZE”\n  reason: no From header\n"
        f"  see: tiketti quarantine show {item}"]


@pytest.mark.parametrize("landed", [False, True], ids=["lost", "landed-but-unanswered"])
async def test_a_notice_whose_post_fails_is_retried_and_shown_once(desk: Desk, landed: bool) -> None:
    desk.surface.fail_next(1, key="quarantine:", landed=landed)
    item = await intake.quarantine(desk.core.ctx, b"junk", "not a mail", source="pipe", sender="x@spam.test")
    await desk.settled()
    assert len(shown(desk.surface.channel(), f"#{item}")) == (1 if landed else 0)
    desk.clock.forward(timedelta(seconds=3))  # past the first backoff
    await desk.settled()
    assert len(shown(desk.surface.channel(), f"quarantined as #{item}")) == 1
    desk.clock.forward(timedelta(minutes=10))
    assert desk.notices is not None and await desk.notices.deliver_due() == 0, "delivered, not tried again"


async def test_a_notice_committed_with_no_deliverer_running_is_shown_once_when_one_starts(
        database: Database, tmp_path: Path) -> None:
    async with console_desk(database, tmp_path, WORKFLOW, notices=False) as desk:
        n = await mail(desk, subject="Server down")
        item = await intake.quarantine(desk.core.ctx, b"junk", "not a mail", source="pipe")
        desk.clock.forward(timedelta(minutes=35))
        assert await sla.check_sla(desk.core.ctx) == 1
        await desk.settled()
        assert desk.surface.channel() == [desk.surface.root(n)], "nobody delivers notices yet"
        desk.start_notices()
        await desk.settled()
        assert len(shown(desk.surface.channel(), f"quarantined as #{item}")) == 1
        assert len(shown(desk.surface.channel(), f"#{n} Server down: first reply due")) == 1
        await desk.stop_notices()
        second = desk.start_notices()  # a restart: a new deliverer, the same channel
        await desk.settled()
        assert await second.deliver_due() == 0 and len(desk.surface.channel()) == 3
        assert desk.surface.repeated == []
