"""IMAP intake against a real IMAP server (pymap on 127.0.0.1) and the real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.app import Core, build_core
from bot.handlers.intake import InTransaction
from bot.handlers.ports import UnitOfWork
from bot.mail import pipeline as pipeline_module
from bot.mail.imap import ImapFetcher
from bot.mail.pipeline import MailPipeline, Processed
from tests.conftest import make_settings
from tests.support.db import Database
from tests.support.imap_server import ImapServer, start_imap_server

WAIT = 20.0  # a guard against hanging, not a performance claim


@pytest.fixture(scope="session")
def imap_server() -> Iterator[ImapServer]:
    yield from start_imap_server(idle=True)


@pytest.fixture(scope="session")
def imap_server_no_idle() -> Iterator[ImapServer]:
    yield from start_imap_server(idle=False)


@pytest.fixture
def folder(imap_server: ImapServer) -> str:
    return imap_server.new_folder()


def mail(n: int, subject: str, *, in_reply_to: str | None = None, sender: str | None = "alice@customer.test") -> bytes:
    lines = [f"Message-ID: <m{n}@customer.test>", f"Subject: {subject}", "To: support@helpdesk.test",
             "Date: Mon, 3 Jun 2024 10:00:00 +0000", "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8"]
    if sender:
        lines.insert(0, f"From: Alice <{sender}>")
    if in_reply_to:
        lines += [f"In-Reply-To: {in_reply_to}", f"References: {in_reply_to}"]
    return ("\r\n".join(lines) + f"\r\n\r\nHello, this is mail {n}.\r\n").encode()


def fetcher(core: Core, server: ImapServer, folder: str, *, pipeline: MailPipeline | None = None,
            poll_seconds: float = 600, password: str | None = None) -> ImapFetcher:
    return ImapFetcher(core.ctx, pipeline or MailPipeline(core.ctx), host=server.host, port=server.port,
                       user=server.user, password=password or server.password, ssl=False, folder=folder,
                       poll_seconds=poll_seconds)


async def tickets(core: Core) -> dict[str, int]:
    """Subject -> number of messages on that ticket, for every open ticket."""
    async with core.ctx.uow() as uow:
        return {t.subject: len(await uow.messages.for_ticket(t.number)) for t in await uow.tickets.active(limit=100)}


async def cursor_of(core: Core, f: ImapFetcher) -> tuple[int, int]:
    async with core.ctx.uow() as uow:
        c = await uow.cursors.get(f.mailbox)
        assert c is not None
        return c.uidvalidity, c.last_uid


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    async def poll() -> None:
        while not await check():
            await asyncio.sleep(0.05)
    try:
        await asyncio.wait_for(poll(), WAIT)
    except TimeoutError:
        pytest.fail(f"never happened: {what}")


async def test_new_mail_becomes_tickets_once_and_cursor_remembers(core: Core, imap_server: ImapServer, folder: str) -> None:
    imap_server.append(folder, mail(1, "Printer on fire"), mail(2, "Invoice missing"), mail(3, "Password reset"))
    f = fetcher(core, imap_server, folder)
    try:
        assert await f.fetch_once() == 3
        assert await tickets(core) == {"Printer on fire": 1, "Invoice missing": 1, "Password reset": 1}
        uidvalidity, last_uid = await cursor_of(core, f)
        assert last_uid == max(imap_server.uids(folder))
        assert await f.fetch_once() == 0
        assert await cursor_of(core, f) == (uidvalidity, last_uid)
    finally:
        await f.close()
    # A restarted bot, configured from settings, starts where the cursor says.
    settings = core.settings.model_copy(update=dict(
        imap_host=imap_server.host, imap_port=imap_server.port, imap_user=imap_server.user,
        imap_password=SecretStr(imap_server.password), imap_ssl=False, imap_folder=folder,
    ))
    again = ImapFetcher.from_settings(core.ctx, MailPipeline(core.ctx), settings)
    assert again.mailbox == f.mailbox
    try:
        assert await again.fetch_once() == 0
    finally:
        await again.close()
    assert len(await tickets(core)) == 3


async def test_reply_arriving_later_lands_on_the_same_ticket(core: Core, imap_server: ImapServer, folder: str) -> None:
    imap_server.append(folder, mail(1, "VPN down"))
    f = fetcher(core, imap_server, folder)
    try:
        await f.fetch_once()
        imap_server.append(folder, mail(2, "Re: VPN down", in_reply_to="<m1@customer.test>"))
        assert await f.fetch_once() == 1
    finally:
        await f.close()
    assert await tickets(core) == {"VPN down": 2}


class SimulatedCrash(BaseException):
    """The process dying: not an error the pipeline may handle (it would retry or quarantine an Exception)."""


class CrashOnce(MailPipeline):
    """The process dies in the `crash_at`-th transaction that moves the cursor, after the mail
    was parsed and routed, before that transaction commits."""

    def __init__(self, core: Core, crash_at: int) -> None:
        super().__init__(core.ctx)
        self.transactions, self.crash_at = 0, crash_at

    async def process_many(self, items: Sequence[tuple[bytes, InTransaction | None]], *, source: str) -> list[Processed]:
        return await super().process_many([(raw, self._counted(also)) for raw, also in items], source=source)

    def _counted(self, step: InTransaction | None) -> InTransaction:
        assert step is not None

        async def counted(uow: UnitOfWork) -> None:
            await step(uow)
            self.transactions += 1
            if self.transactions == self.crash_at:
                raise SimulatedCrash("simulated crash before commit")

        return counted


async def test_crash_before_commit_loses_nothing_and_doubles_nothing(core: Core, imap_server: ImapServer, folder: str,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline_module, "GROUP", 2)  # two mails commit together, then the third alone
    imap_server.append(folder, mail(1, "First"), mail(2, "Second"), mail(3, "Third"))
    crashing = fetcher(core, imap_server, folder, pipeline=CrashOnce(core, crash_at=2))
    try:
        with pytest.raises(SimulatedCrash):
            await crashing.fetch_once()
    finally:
        await crashing.close()
    assert await tickets(core) == {"First": 1, "Second": 1}

    restarted = fetcher(core, imap_server, folder)
    try:
        assert await restarted.fetch_once() == 1
    finally:
        await restarted.close()
    assert await tickets(core) == {"First": 1, "Second": 1, "Third": 1}


async def test_a_crash_in_a_group_rolls_back_the_whole_group_and_the_restart_stores_each_mail_once(
        core: Core, imap_server: ImapServer, folder: str) -> None:
    imap_server.append(folder, mail(1, "First"), mail(2, "Second"), mail(3, "Re: First", in_reply_to="<m1@customer.test>"))
    crashing = fetcher(core, imap_server, folder, pipeline=CrashOnce(core, crash_at=1))
    try:
        with pytest.raises(SimulatedCrash):
            await crashing.fetch_once()
    finally:
        await crashing.close()
    assert await tickets(core) == {}

    restarted = fetcher(core, imap_server, folder)
    try:
        assert await restarted.fetch_once() == 3
        assert await restarted.fetch_once() == 0
    finally:
        await restarted.close()
    assert await tickets(core) == {"First": 2, "Second": 1}  # the reply, in the same group, found its ticket


async def test_unparseable_mail_is_quarantined_whole_and_skipped(core: Core, imap_server: ImapServer, folder: str) -> None:
    broken = mail(1, "Nobody sent this", sender=None)
    imap_server.append(folder, broken)
    f = fetcher(core, imap_server, folder)
    try:
        assert await f.fetch_once() == 1
        imap_server.append(folder, mail(2, "A proper question"))
        assert await f.fetch_once() == 1
    finally:
        await f.close()
    async with core.ctx.uow() as uow:
        [held] = await uow.quarantine.unresolved()
        assert held.raw == broken
        assert held.source == f"imap:{folder}"
    assert await tickets(core) == {"A proper question": 1}


async def test_a_bad_mail_among_good_ones_is_quarantined_and_the_others_stored(core: Core, imap_server: ImapServer,
                                                                              folder: str) -> None:
    broken = mail(2, "Nobody sent this", sender=None)
    imap_server.append(folder, mail(1, "Printer"), broken, mail(3, "Re: Printer", in_reply_to="<m1@customer.test>"))
    f = fetcher(core, imap_server, folder)
    try:
        assert await f.fetch_once() == 3
        assert await f.fetch_once() == 0
    finally:
        await f.close()
    async with core.ctx.uow() as uow:
        [held] = await uow.quarantine.unresolved()
        assert held.raw == broken
    assert await tickets(core) == {"Printer": 2}


async def test_uidvalidity_change_reads_the_folder_again_without_duplicates(core: Core, imap_server: ImapServer, folder: str) -> None:
    imap_server.append(folder, mail(1, "Alpha"), mail(2, "Beta"))
    f = fetcher(core, imap_server, folder)
    try:
        await f.fetch_once()
        uidvalidity, last_uid = await cursor_of(core, f)
        async with core.ctx.uow() as uow:  # what the server renumbering its folder looks like to us
            c = await uow.cursors.get(f.mailbox)
            assert c is not None
            c.uidvalidity = uidvalidity + 1
            await uow.commit()
        assert await f.fetch_once() == 2
    finally:
        await f.close()
    assert await cursor_of(core, f) == (uidvalidity, last_uid)
    assert await tickets(core) == {"Alpha": 1, "Beta": 1}


@pytest.mark.parametrize("idle", [True, False], ids=["idle", "polling"])
async def test_run_picks_up_mail_while_waiting_and_stops_cleanly(
    core: Core, request: pytest.FixtureRequest, idle: bool
) -> None:
    server: ImapServer = request.getfixturevalue("imap_server" if idle else "imap_server_no_idle")
    box = server.new_folder()
    # With IDLE the poll interval is long: only the server's push can deliver the mail in time.
    f = fetcher(core, server, box, poll_seconds=600 if idle else 0.1)
    stop = asyncio.Event()
    task = asyncio.create_task(f.run(stop))
    try:
        await asyncio.wait_for(f.waiting.wait(), WAIT)
        server.append(box, mail(1, "Arrived while idle"))

        async def arrived() -> bool:
            return "Arrived while idle" in await tickets(core)
        await eventually(arrived, "the mail became a ticket")
    finally:
        stop.set()
        await asyncio.wait_for(task, WAIT)  # returns, does not raise
    assert task.done() and task.exception() is None


async def test_bad_login_is_logged_without_password_and_retried(
    sqlite_database: Database, tmp_path: Path, imap_server: ImapServer, folder: str, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "wrong-Secret-42"
    core = await build_core(make_settings(sqlite_database, tmp_path), engine=sqlite_database.engine())
    f = fetcher(core, imap_server, folder, password=secret)
    stop = asyncio.Event()
    with caplog.at_level(logging.WARNING, logger="bot.mail.imap"):
        task = asyncio.create_task(f.run(stop))

        async def warned_twice() -> bool:
            return sum(r.levelno == logging.WARNING for r in caplog.records) >= 2
        try:
            await eventually(warned_twice, "a second login attempt after backing off")
        finally:
            stop.set()
            await asyncio.wait_for(task, WAIT)
            await core.close()
    assert task.exception() is None
    assert f.label in caplog.text and "AUTHENTICATIONFAILED" in caplog.text
    assert secret not in caplog.text
