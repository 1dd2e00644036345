"""Mail in over SMTP and LMTP: a real client (stdlib smtplib, in a thread) talks to the listener on 127.0.0.1.

Runs on SQLite and PostgreSQL; the client only hears 250 once the mail is stored.
"""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from bot.app import Core, build_core
from bot.mail.listener import InboundListener
from bot.mail.pipeline import MailPipeline
from tests.conftest import make_settings
from tests.support.db import Database
from tests.support.net import free_port

SUPPORT = "support@helpdesk.test"
GARBAGE = b"\x00\xff this is not a mail\r\njust line noise from a broken script\r\n"


def customer_mail(subject: str, n: int = 1) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "Mia <mia@customer.test>", SUPPORT, subject
    msg["Message-ID"] = f"<smtp-{n}@customer.test>"
    msg.set_content("The printer smokes again.")
    return msg


def send(port: int, payload: EmailMessage | bytes, *, lmtp: bool = False) -> dict[str, tuple[int, bytes]]:
    """What an MTA does: one SMTP (or LMTP) transaction; raises on any refusal."""
    client = smtplib.LMTP("127.0.0.1", port, timeout=20) if lmtp else smtplib.SMTP("127.0.0.1", port, timeout=20)
    with client:
        if isinstance(payload, bytes):
            return client.sendmail("mia@customer.test", [SUPPORT], payload)
        return client.send_message(payload)


@pytest.fixture(params=[False, True], ids=["smtp", "lmtp"])
async def listener(request: pytest.FixtureRequest, core: Core) -> AsyncIterator[InboundListener]:
    server = InboundListener(core.ctx, MailPipeline(core.ctx), "127.0.0.1", 0, lmtp=request.param)
    await server.start()
    yield server
    await server.stop()


async def subjects(core: Core) -> list[str]:
    async with core.ctx.uow() as uow:
        return [t.subject for t in await uow.tickets.active(limit=100)]


async def test_mail_over_the_wire_becomes_a_ticket(core: Core, listener: InboundListener) -> None:
    assert listener.port != 0, "the real port is known after start"
    refused = await asyncio.to_thread(send, listener.port, customer_mail("Printer smokes again"), lmtp=listener.lmtp)
    assert refused == {}
    assert await subjects(core) == ["Printer smokes again"]

    # The MTA retries (say the 250 got lost): the same mail is stored once.
    await asyncio.to_thread(send, listener.port, customer_mail("Printer smokes again"), lmtp=listener.lmtp)
    assert await subjects(core) == ["Printer smokes again"]


async def test_garbage_is_accepted_and_kept_in_quarantine(core: Core, listener: InboundListener) -> None:
    assert await asyncio.to_thread(send, listener.port, GARBAGE, lmtp=listener.lmtp) == {}
    async with core.ctx.uow() as uow:
        (item,) = await uow.quarantine.unresolved()
    assert item.source == "smtp" and item.reason.startswith("unparseable")
    assert item.raw.rstrip(b"\r\n") == GARBAGE.rstrip(b"\r\n"), "kept whole, byte for byte"
    assert await subjects(core) == []


async def test_oversized_mail_is_refused_with_552(core: Core) -> None:
    server = InboundListener(core.ctx, MailPipeline(core.ctx), "127.0.0.1", 0, max_message_bytes=20_000)
    await server.start()
    try:
        big = customer_mail("Huge scan")
        big.add_attachment(b"x" * 60_000, maintype="application", subtype="octet-stream", filename="scan.bin")
        with pytest.raises(smtplib.SMTPResponseException) as refused:
            await asyncio.to_thread(send, server.port, big)
        assert refused.value.smtp_code == 552
        assert await subjects(core) == []
    finally:
        await server.stop()


async def test_store_unreachable_answers_451_so_the_sender_retries(sqlite_database: Database, tmp_path: Path) -> None:
    dead_db = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nowhere"
    core = await build_core(make_settings(sqlite_database, tmp_path, database_url=dead_db), migrate=False)
    server = InboundListener(core.ctx, MailPipeline(core.ctx), "127.0.0.1", 0)
    await server.start()
    try:
        with pytest.raises(smtplib.SMTPDataError) as refused:
            await asyncio.to_thread(send, server.port, customer_mail("Lost?"))
        assert refused.value.smtp_code == 451
    finally:
        await server.stop()
        await core.close()


async def test_lmtp_answers_each_recipient_and_refuses_smtp_greetings(core: Core) -> None:
    server = InboundListener(core.ctx, MailPipeline(core.ctx), "127.0.0.1", 0, lmtp=True)
    await server.start()
    try:
        with pytest.raises(smtplib.SMTPHeloError):
            await asyncio.to_thread(send, server.port, customer_mail("Wrong protocol"))

        # Postfix's LMTP client waits for one reply per recipient after the final dot.
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)

        async def reply() -> bytes:
            line = await asyncio.wait_for(reader.readline(), 20)
            while line[3:4] == b"-":
                line = await asyncio.wait_for(reader.readline(), 20)
            return line

        async def say(command: bytes) -> bytes:
            writer.write(command + b"\r\n")
            return await reply()

        assert (await reply()).startswith(b"220")
        assert (await say(b"LHLO mta.test")).startswith(b"250")
        assert (await say(b"MAIL FROM:<mia@customer.test>")).startswith(b"250")
        assert (await say(b"RCPT TO:<support@helpdesk.test>")).startswith(b"250")
        assert (await say(b"RCPT TO:<billing@helpdesk.test>")).startswith(b"250")
        assert (await say(b"DATA")).startswith(b"354")
        writer.write(customer_mail("Two of your addresses", 7).as_bytes().replace(b"\n", b"\r\n") + b".\r\n")
        assert [(await reply())[:3] for _ in range(2)] == [b"250", b"250"]
        await say(b"QUIT")
        writer.close()
        await writer.wait_closed()
        assert await subjects(core) == ["Two of your addresses"], "stored once for both recipients"
    finally:
        await server.stop()


async def test_a_burst_over_many_connections_is_stored_in_groups_and_every_sender_hears_250(
        core: Core, listener: InboundListener, monkeypatch: pytest.MonkeyPatch) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from bot.handlers import intake

    sizes: list[int] = []
    real = intake.receive_together

    async def counted(ctx, mails, **kw):  # type: ignore[no-untyped-def]
        sizes.append(len(mails))
        return await real(ctx, mails, **kw)

    monkeypatch.setattr(intake, "receive_together", counted)
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(max_workers=20) as senders:  # an MTA's parallel deliveries
        refused = await asyncio.gather(*[
            loop.run_in_executor(senders, lambda i=i: send(listener.port, customer_mail(f"Question {i}", i),
                                                           lmtp=listener.lmtp)) for i in range(20)])
    assert refused == [{}] * 20
    assert sorted(await subjects(core)) == sorted(f"Question {i}" for i in range(20))
    assert sum(sizes) == 20 and max(sizes) > 1, f"stored one by one: {sizes}"
