"""`tiketti run` with Slack as an operator starts it, Socket Mode, and what agents are told about mail trouble."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import smtplib
import sys
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qsl

import aiohttp
import pytest

from bot.adapters.slack import ticket_blocks
from tests.support.db import Database
from tests.support.mails import raw_mail
from tests.support.net import free_port
from tests.support.slack_bot import CHANNEL, SECRET, TOKEN, SlackBot, block_text, eventually, fake_slack, running_bot
from tests.support.slack_requests import SlackRequests
from tests.support.smtp_sink import SmtpSink


def run_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TIKETTI_", "SLACK_"))}
    env.update({"TIKETTI_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.db'}",
                "TIKETTI_SUPPORT_ADDRESS": "support@helpdesk.test", "TIKETTI_OUTBOUND_DIR": str(tmp_path / "out"),
                "TIKETTI_HTTP_PORT": str(free_port()), **extra})
    return env


def send_mail(port: int) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "ana@customer.test", "support@helpdesk.test", "Badge does not open door"
    msg["Message-ID"] = "<badge-1@customer.test>"
    msg.set_content("My badge stopped working this morning.")
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.send_message(msg)


async def test_run_starts_mail_outbox_and_slack_together(tmp_path: Path) -> None:
    async with fake_slack() as slack:
        smtp_port = free_port()
        env = run_env(tmp_path, SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=slack.base_url,
                      TIKETTI_SLACK_CHANNEL=CHANNEL, TIKETTI_INBOUND_SMTP_PORT=str(smtp_port))
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", env=env, cwd=tmp_path,
                                                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        try:
            await eventually(lambda: _connects(smtp_port), timeout=30)
            await asyncio.to_thread(send_mail, smtp_port)
            [root] = await eventually(lambda: slack.roots(CHANNEL), timeout=20)
            assert "Badge does not open door" in root.text
            assert "badge stopped working" in block_text((await eventually(lambda: slack.thread(CHANNEL, root.ts)))[0].blocks)
            requests = SlackRequests(SECRET, channel_id=CHANNEL, response_url_base=slack.hooks_url)
            url = f"http://127.0.0.1:{env['TIKETTI_HTTP_PORT']}/slack/events"
            async with aiohttp.ClientSession() as http:
                reply = await requests.click(root.payload(), ticket_blocks.CLAIM, user="U0ANA").post(http, url)
                assert reply.status == 200
                assert (await requests.click(root.payload(), ticket_blocks.CLAIM, user="U0ANA").forged().post(http, url)).status == 401
            await eventually(lambda: "<@U0ANA>" in block_text(slack.message(CHANNEL, root.ts).blocks), timeout=10)
            await eventually(lambda: list((tmp_path / "out").glob("*.eml")), timeout=20)  # the acknowledgement
        finally:
            proc.send_signal(signal.SIGTERM)
            out, _ = await asyncio.wait_for(proc.communicate(), timeout=30)
        assert proc.returncode == 0, out.decode()
        assert TOKEN.encode() not in out and SECRET.encode() not in out, "secrets must never be logged"
        assert b"badge stopped working" not in out, "mail bodies must not appear in info logs"


async def _connects(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.close()
    return True


async def test_run_with_half_a_slack_setup_says_what_is_missing(tmp_path: Path) -> None:
    env = run_env(tmp_path, SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET)
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", env=env, cwd=tmp_path,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 78
    assert b"TIKETTI_SLACK_CHANNEL" in out


@pytest.fixture
async def socket_bot(sqlite_database: Database, tmp_path: Path) -> AsyncIterator[SlackBot]:
    async with running_bot(sqlite_database, tmp_path, slack_app_token="xapp-test-token") as b:
        yield b


async def test_socket_mode_receives_events_and_commands_without_a_public_url(socket_bot: SlackBot) -> None:
    bot, socket = socket_bot, socket_bot.slack.socket_mode
    number = await bot.mail(raw_mail(subject="Over the socket"))
    await bot.settled()
    root = await bot.root_of(number)
    event = json.loads(bot.requests.event(bot.requests.message("a note by socket", user="U0ANA", thread_ts=root.ts)).body)
    await socket.send("events_api", event)
    command = dict(parse_qsl(bot.requests.command(f"claim {number}", user="U0BEN").body))
    ack = await socket.send("slash_commands", command)
    assert ack["envelope_id"]
    await eventually(lambda: "<@U0BEN>" in bot.root_text(root))
    answer = await eventually(lambda: bot.slack.responses)
    assert "claimed by Ben" in answer[0]["text"]
    shown = await eventually(lambda: _notes(bot, number))
    assert shown == ["a note by socket"]


async def _notes(bot: SlackBot, number: int) -> list[str]:
    from tests.support.mails import messages

    return [m.body_text for m in await messages(bot.core, number) if m.kind.value == "note"]


@pytest.fixture
async def bot(sqlite_database: Database, tmp_path: Path) -> AsyncIterator[SlackBot]:
    async with running_bot(sqlite_database, tmp_path) as b:
        yield b


async def test_a_quarantined_mail_is_announced_in_the_tickets_channel(bot: SlackBot) -> None:
    from bot.mail.pipeline import MailPipeline

    processed = await MailPipeline(bot.core.ctx).process(b"\x00\x01 this is not a mail at all", source="pipe")
    assert not processed.ok and processed.quarantine_id is not None
    notice = await eventually(lambda: [m for m in bot.roots() if "quarantined" in m.text.lower()])
    shown = block_text(notice[0].blocks)
    assert f"#{processed.quarantine_id}" in shown and "tiketti quarantine show" in shown


async def test_an_undeliverable_reply_is_shown_in_the_thread_and_on_the_root(bot: SlackBot) -> None:
    bot.sink.refuse("mia@customer.example")
    number = await bot.mail(raw_mail())
    await bot.settled()
    root = await bot.root_of(number)
    await bot.send(bot.requests.command(f"reply {number} Here is your answer", user="U0ANA"))
    await eventually(lambda: [m for m in bot.thread(root) if "could not be delivered" in block_text(m.blocks)])
    await bot.settled()
    assert "Mail could not be delivered" in bot.root_text(root)


async def test_sink_is_real(tmp_path: Path) -> None:
    """The SMTP sink refuses what it is told to, like a real relay (guards the test above)."""
    sink = SmtpSink()
    await sink.start()
    sink.refuse("x@y.test")
    try:
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            await asyncio.to_thread(_send_to, sink.port, "x@y.test")
    finally:
        await sink.stop()


def _send_to(port: int, rcpt: str) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.sendmail("a@b.test", [rcpt], b"Subject: x\r\n\r\nx")
