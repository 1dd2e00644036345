"""The digest and `/ticket report` as a manager sees them in Slack, through the fake Web API.

The charts travel Slack's files.uploadV2 flow (getUploadURLExternal, the upload
itself, completeUploadExternal) into the digest's thread; what arrives must be PNG.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.handlers import reports
from tests.support.db import Database
from tests.support.mails import raw_mail
from tests.support.slack_bot import SlackBot, block_text, eventually, running_bot

MANAGERS = "C0MANAGERS"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
async def bot(sqlite_database: Database, tmp_path: Path) -> AsyncIterator[SlackBot]:
    async with running_bot(sqlite_database, tmp_path) as b:
        assert b.runtime.slack is not None
        b.runtime.slack.digest.channel = MANAGERS
        yield b


async def test_the_digest_is_posted_to_the_managers_with_its_charts(bot: SlackBot) -> None:
    await bot.mail(raw_mail(subject="Printer"))
    await bot.settled()
    await reports.publish_digest(bot.core.ctx)
    (digest,) = bot.slack.roots(MANAGERS)
    text = block_text(digest.blocks)
    assert "Daily digest" in text and "Backlog" in text and "First response" in text
    assert [c.method for c in bot.slack.calls_to("files.getUploadURLExternal", ok_only=True)] == [
        "files.getUploadURLExternal"] * 2
    assert bot.slack.calls_to("files.completeUploadExternal", ok_only=True)
    (files_post,) = bot.slack.thread(MANAGERS, digest.ts)
    names = sorted(f["name"] for f in files_post.files)
    assert names == ["backlog-trend.png", "volume-by-hour.png"]
    for f in files_post.files:
        content = bot.slack.file_content(f["id"])
        assert content is not None and content.startswith(PNG)


async def test_report_week_answers_the_caller_alone(bot: SlackBot) -> None:
    await bot.mail(raw_mail(subject="Printer"))
    await bot.mail(raw_mail(subject="Scanner", frm="bo@customer.example"))
    await bot.settled()
    before = len(bot.slack.responses)
    reply = await bot.send(bot.requests.command("report week", user="U0ANA"))
    assert reply.status == 200
    (answer, *_) = await eventually(lambda: bot.slack.responses[before:])
    assert answer["response_type"] == "ephemeral"
    shown = block_text(answer["blocks"])
    assert "*New* 2" in shown and "*Backlog* 2" in shown and "Oldest open" in shown
    assert bot.slack.roots(MANAGERS) == []
