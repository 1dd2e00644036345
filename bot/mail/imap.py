"""IMAP intake: read new mail by UID, one message per transaction, the cursor moving with the ticket.

imaplib blocks, so every server round trip runs in a worker thread and the event
loop only awaits. A message counts as read once its ticket (or quarantine entry)
and the cursor committed together: a crash in between reads it again, and
intake's Message-ID dedupe makes that harmless. Nothing here is fatal: errors are
logged (never with the password, never with a mail's text) and the fetcher reconnects with
backoff. A mail that keeps failing does not hold the folder up: the pipeline counts its
failed tries and quarantines it at the third (bot.mail.pipeline), and the cursor moves on
with that quarantine entry.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import socket
import ssl as ssl_lib
from collections.abc import Callable
from typing import Any, Self

from imap_tools import AND, BaseMailBox, MailBox, MailBoxStartTls, MailBoxUnencrypted, U
from imap_tools.errors import MailboxFetchError
from sqlalchemy.exc import SQLAlchemyError

from bot.handlers.context import Context
from bot.mail.imap_cursor import advance_to, mailbox_key, masked, start_uid
from bot.mail.pipeline import MailPipeline
from bot.settings import Settings
from bot.store import failures

log = logging.getLogger(__name__)

BATCH = 50  # UIDs per FETCH: few round trips...
FETCH_BYTES = 20_000_000  # ...and never more than this much mail in memory at once (one bigger mail goes alone)
_SOCKET_TIMEOUT = 60.0  # a silent server must not hang a worker thread forever
_MAX_IDLE_SECONDS = 29 * 60  # RFC 2177: re-issue IDLE at least every 29 minutes
_FIRST_BACKOFF, _MAX_BACKOFF = 1.0, 300.0
_UID = re.compile(rb"\bUID (\d+)", re.IGNORECASE)
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)", re.IGNORECASE)
_DESCRIBE_MAX = 300  # an IMAP error quotes the server's response: enough for the reason, never a mail


class _Connection:
    """One logged-in session with the folder selected. Blocking: use it from one worker thread at a time."""

    def __init__(self, box: BaseMailBox, uidvalidity: int, idle: bool) -> None:
        self.box, self.uidvalidity, self.idle = box, uidvalidity, idle

    @classmethod
    def open(cls, host: str, port: int, user: str, password: str, *, ssl: bool, starttls: bool, folder: str) -> Self:
        box: BaseMailBox
        if ssl:
            box = MailBox(host, port, timeout=_SOCKET_TIMEOUT, ssl_context=ssl_lib.create_default_context())
        elif starttls:
            box = MailBoxStartTls(host, port, timeout=_SOCKET_TIMEOUT, ssl_context=ssl_lib.create_default_context())
        else:
            box = MailBoxUnencrypted(host, port, timeout=_SOCKET_TIMEOUT)
        try:
            if (user + password).isascii():
                box.login(user, password, initial_folder=folder)
            else:  # LOGIN is ASCII-only in imaplib; AUTHENTICATE PLAIN carries UTF-8
                box.login_utf8(user, password, initial_folder=folder)
            uidvalidity = _selected_uidvalidity(box, folder)
            # Many servers (pymap among them) list IDLE only after login, so ask again.
            typ, data = box.client.capability()
            idle = typ == "OK" and b"IDLE" in bytes(data[0] or b"").upper().split()
        except BaseException:
            _close_quietly(box)
            raise
        return cls(box, uidvalidity, idle)

    def new_uids(self, after: int) -> list[int]:
        # Some servers (pymap) show a selected folder's new mail only after a NOOP, the RFC 3501 poll.
        self.box.client.noop()
        # "N:*" always matches the highest UID, even one below N: filter ourselves.
        return sorted(u for u in map(int, self.box.uids(AND(uid=U(after + 1, "*")))) if u > after)

    def sizes(self, uids: list[int]) -> list[tuple[int, int]]:
        """(UID, size in bytes) ascending, so a backlog of big mails is fetched a few at a time."""
        if not uids:
            return []
        typ, data = self.box.client.uid("FETCH", ",".join(map(str, uids)), "(UID RFC822.SIZE)")
        if typ != "OK":
            raise MailboxFetchError(command_result=(typ, data), expected="OK")
        found: dict[int, int] = {}
        for item in data:
            line = item[0] if isinstance(item, tuple) else item
            uid, size = _UID.search(line or b""), _SIZE.search(line or b"")
            if uid and size and int(uid.group(1)) in uids:
                found[int(uid.group(1))] = int(size.group(1))
        return sorted(found.items())

    def fetch(self, uids: list[int]) -> list[tuple[int, bytes]]:
        """The raw bytes of these UIDs, ascending, exactly as the server holds them (quarantine keeps them whole).

        Not box.fetch(bulk=...): it pairs response items two by two, and an unsolicited
        "* n FETCH (FLAGS ...)" in between (pymap sends one for new mail; any server may
        when flags change) shifts every pair after it.
        """
        if not uids:
            return []
        typ, data = self.box.client.uid("FETCH", ",".join(map(str, uids)), "(UID BODY.PEEK[])")
        if typ != "OK":
            raise MailboxFetchError(command_result=(typ, data), expected="OK")
        return sorted(_messages(data, set(uids)))

    def mark_seen(self, uids: list[int]) -> None:
        # Not box.flag(): imap-tools follows it with EXPUNGE, which would purge mail others marked deleted.
        typ, data = self.box.client.uid("STORE", ",".join(map(str, uids)), "+FLAGS.SILENT", r"(\Seen)")
        if typ != "OK":
            raise RuntimeError(f"STORE \\Seen refused: {data!r}")

    def wait(self, timeout: float, started: Callable[[], None]) -> None:
        """IDLE until the server reports a change or `timeout` passes; `started` runs once the server listens."""
        self.box.idle.start()
        try:
            started()
            self.box.idle.poll(timeout=timeout)
        finally:
            self.box.idle.stop()

    def interrupt(self) -> None:
        """Wake a thread blocked in `wait` (safe from any thread): it then fails and the session is dropped."""
        with contextlib.suppress(OSError):
            self.box.client.sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        _close_quietly(self.box)


def _selected_uidvalidity(box: BaseMailBox, folder: str) -> int:
    """From the SELECT response (RFC 3501 requires it there); STATUS only for servers that left it out."""
    seen = box.client.untagged_responses.get("UIDVALIDITY")
    if seen and seen[-1]:
        return int(seen[-1])
    return int(box.folder.status(folder, ["UIDVALIDITY"])["UIDVALIDITY"])


def _by_size(sizes: list[tuple[int, int]], budget: int) -> list[list[int]]:
    """Consecutive groups of UIDs of at most `budget` bytes each (a bigger mail goes alone)."""
    groups: list[list[int]] = []
    total = budget
    for uid, size in sizes:
        if total + size > budget:
            groups.append([])
            total = 0
        groups[-1].append(uid)
        total += size
    return groups


def _messages(data: list[Any], wanted: set[int]) -> list[tuple[int, bytes]]:
    """imaplib gives each literal as (line-so-far, literal) followed by the rest of that line as bytes."""
    found: dict[int, bytes] = {}
    for i, item in enumerate(data):
        if not isinstance(item, tuple):
            continue  # the rest of a line, or an unsolicited response without a body
        after = data[i + 1] if i + 1 < len(data) and isinstance(data[i + 1], bytes) else b""
        match = _UID.search(item[0] + b" " + after)
        if match and int(match.group(1)) in wanted:
            found[int(match.group(1))] = bytes(item[1])
    return list(found.items())


def _close_quietly(box: BaseMailBox) -> None:
    try:
        box.logout()
    except Exception:
        with contextlib.suppress(Exception):
            box.client.shutdown()


class ImapFetcher:
    """Reads one IMAP folder into tickets: IDLE where the server offers it, polling otherwise."""

    def __init__(
        self, ctx: Context, pipeline: MailPipeline, *, host: str, port: int, user: str, password: str,
        ssl: bool, folder: str, poll_seconds: float, starttls: bool = False,
    ) -> None:
        self.ctx, self.pipeline = ctx, pipeline
        self.host, self.port, self.user, self._password = host, port, user, password
        self.ssl, self.starttls, self.folder, self.poll_seconds = ssl, starttls, folder, poll_seconds
        self.mailbox = mailbox_key(user, host, folder)
        self.label = masked(self.mailbox)  # the mailbox as logs show it: the login's address masked
        self.source = f"imap:{folder}"
        # Set while nothing is left to read and the fetcher listens (IDLE acknowledged) or sleeps.
        self.waiting = asyncio.Event()
        self._conn: _Connection | None = None
        self._stop: asyncio.Event | None = None

    @classmethod
    def from_settings(cls, ctx: Context, pipeline: MailPipeline, settings: Settings) -> Self:
        if not settings.imap_host:
            raise ValueError("TIKETTI_IMAP_HOST is not set")
        return cls(
            ctx, pipeline, host=settings.imap_host, port=settings.imap_port, user=settings.imap_user,
            password=settings.imap_password.get_secret_value(), ssl=settings.imap_ssl, folder=settings.imap_folder,
            poll_seconds=settings.imap_poll_seconds, starttls=settings.imap_starttls,
        )

    async def fetch_once(self) -> int:
        """Store every mail that arrived since the cursor, oldest first; return how many were processed.

        Raises on connection or store failure; whatever committed before stays committed.
        """
        conn = await self._connection()
        last = await start_uid(self.ctx, self.mailbox, conn.uidvalidity)
        count = 0
        # Search again after each round: mail that arrived meanwhile is read before we go idle.
        while uids := await asyncio.to_thread(conn.new_uids, last):
            for start in range(0, len(uids), BATCH):
                batch = uids[start:start + BATCH]
                for group in _by_size(await asyncio.to_thread(conn.sizes, batch), FETCH_BYTES):
                    if self._stopping:
                        return count
                    count += await self._process(conn, await asyncio.to_thread(conn.fetch, group))
                last = batch[-1]  # a UID expunged between SEARCH and FETCH is simply gone
        if count:
            log.info("IMAP %s: %d new mail(s) read", self.label, count)
        return count

    async def _process(self, conn: _Connection, fetched: list[tuple[int, bytes]]) -> int:
        """Store what one FETCH brought; the cursor moves in the same transaction as the tickets."""
        if not fetched:
            return 0
        await self.pipeline.process_many(
            [(raw, advance_to(self.mailbox, conn.uidvalidity, uid)) for uid, raw in fetched], source=self.source)
        uids = [uid for uid, _ in fetched]
        try:
            # Courtesy for humans looking at the same mailbox; the cursor, not the flag, is what counts.
            await asyncio.to_thread(conn.mark_seen, uids)
        except Exception as exc:
            log.warning("IMAP %s: could not flag %d mail(s) as seen: %s", self.label, len(uids), self._describe(exc))
        return len(fetched)

    async def run(self, stop: asyncio.Event) -> None:
        """Read mail until `stop` is set. Never raises for the server's or the store's sake."""
        self._stop = stop
        delay = _FIRST_BACKOFF
        try:
            while not stop.is_set():
                try:
                    await self.fetch_once()
                    delay = _FIRST_BACKOFF
                    if not stop.is_set():
                        await self._wait_for_mail(stop)
                except Exception as exc:
                    log.warning("IMAP %s: %s; retrying in %.0f s", self.label, self._describe(exc), delay)
                    await self._disconnect()
                    await _sleep_unless(stop, delay)
                    delay = min(delay * 2, _MAX_BACKOFF)
        finally:
            self.waiting.clear()
            await self._disconnect()

    async def close(self) -> None:
        await self._disconnect()

    async def _wait_for_mail(self, stop: asyncio.Event) -> None:
        conn = await self._connection()
        if not conn.idle:
            self.waiting.set()
            try:
                await _sleep_unless(stop, self.poll_seconds)
            finally:
                self.waiting.clear()
            return
        loop = asyncio.get_running_loop()
        timeout = min(self.poll_seconds, _MAX_IDLE_SECONDS)
        listening = lambda: loop.call_soon_threadsafe(self.waiting.set)  # noqa: E731
        idle = asyncio.ensure_future(asyncio.to_thread(conn.wait, timeout, listening))
        stopped = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({idle, stopped}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:  # cancelled: do not leave a thread blocked on the socket
            await self._abandon(conn, idle)
            raise
        finally:
            self.waiting.clear()
            stopped.cancel()
        if idle.done():
            idle.result()  # a dropped connection surfaces here and run() reconnects
        else:
            await self._abandon(conn, idle)

    async def _abandon(self, conn: _Connection, idle: asyncio.Future[None]) -> None:
        """Stop listening now: wake the IDLE thread by closing its socket and forget the session."""
        if self._conn is conn:
            self._conn = None
        conn.interrupt()
        await asyncio.wait({idle})
        if not idle.cancelled():
            idle.exception()  # retrieved, so asyncio does not report it; the session is gone anyway
        await asyncio.to_thread(conn.close)

    @property
    def _stopping(self) -> bool:
        return self._stop is not None and self._stop.is_set()

    async def _connection(self) -> _Connection:
        if self._conn is None:
            self._conn = await asyncio.to_thread(
                _Connection.open, self.host, self.port, self.user, self._password,
                ssl=self.ssl, starttls=self.starttls, folder=self.folder,
            )
            how = "IDLE" if self._conn.idle else f"polling every {self.poll_seconds:g} s"
            log.info("IMAP %s connected (%s)", self.label, how)
        return self._conn

    async def _disconnect(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await asyncio.to_thread(conn.close)

    def _describe(self, exc: BaseException) -> str:
        """Safe for WARNING: a store failure by its kind only (its message may quote a mail), an IMAP
        failure with the server's words (short, and never with the password)."""
        if any(isinstance(e, SQLAlchemyError) for e in failures.chain(exc)):
            return failures.describe(exc)
        text = f"{type(exc).__name__}: {exc}"
        text = text.replace(self._password, "***") if self._password else text
        return text if len(text) <= _DESCRIBE_MAX else text[:_DESCRIBE_MAX - 1] + "…"


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
