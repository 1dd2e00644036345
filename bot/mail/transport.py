"""How a finished mail leaves: an SMTP relay, or a folder when there is no relay.

A transport only says whether trying again could help: TransientError (the relay
is down, busy or said 4xx) or PermanentError (it said 5xx: this mail will never
go). The outbox worker decides what that means for the row.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import aiosmtplib

from bot.settings import Settings


class TransientError(Exception):
    """Sending may work later: connection refused or timed out, SMTP 4xx."""


class PermanentError(Exception):
    """Sending will not work however often we try: SMTP 5xx, e.g. recipient unknown."""


class Transport(Protocol):
    async def send(self, raw: bytes, *, sender: str, recipients: list[str]) -> None: ...


class SmtpTransport:
    """One SMTP session per mail: simple, and a relay restart never leaves a stale connection."""

    def __init__(self, host: str, port: int = 587, *, user: str = "", password: str = "", starttls: bool = True,
                 timeout: float = 30.0) -> None:
        self.host, self.port, self.user, self.timeout = host, port, user, timeout
        self._password = password
        # Port 465 speaks TLS from the first byte; elsewhere STARTTLS only when configured
        # (aiosmtplib would otherwise upgrade on its own whenever the server offers it).
        self.implicit_tls = port == 465
        self.starttls = starttls and not self.implicit_tls

    def __repr__(self) -> str:  # never shows the password
        return f"SmtpTransport({self.host}:{self.port}, user={self.user!r}, starttls={self.starttls})"

    async def send(self, raw: bytes, *, sender: str, recipients: list[str]) -> None:
        try:
            errors, _ = await aiosmtplib.send(
                raw,
                sender=sender,
                recipients=recipients,
                hostname=self.host,
                port=self.port,
                username=self.user or None,
                password=(self._password or None) if self.user else None,
                use_tls=self.implicit_tls,
                start_tls=self.starttls,
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise _classify([(r.code, f"{r.recipient}: {r.message}") for r in exc.recipients]) from exc
        except aiosmtplib.SMTPAuthenticationError as exc:
            # A login problem is ours to fix in the settings; the mail itself is fine.
            raise TransientError(f"SMTP login refused: {exc.code} {exc.message}") from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise _classify([(exc.code, exc.message)]) from exc
        except (TimeoutError, aiosmtplib.SMTPException, OSError) as exc:
            raise TransientError(f"{type(exc).__name__}: {exc}") from exc
        refused = [(r.code, f"{addr}: {r.message}") for addr, r in errors.items() if not 200 <= r.code < 300]
        if refused:
            # Some recipients took the mail: resending would duplicate it for them, so this is final.
            raise PermanentError("; ".join(f"{code} {text}" for code, text in refused))


def _classify(replies: list[tuple[int, str]]) -> TransientError | PermanentError:
    text = "; ".join(f"{code} {msg}" for code, msg in replies)
    if any(500 <= code < 600 for code, _ in replies):
        return PermanentError(text)
    return TransientError(text)


class FolderTransport:
    """Writes each mail to `<timestamp>-<n>.eml`; the embedded default when no relay is set.

    Written to a temporary name first and renamed, so a reader never sees half a mail.
    """

    _counter = itertools.count(1)

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)

    def __repr__(self) -> str:
        return f"FolderTransport({self.directory})"

    async def send(self, raw: bytes, *, sender: str, recipients: list[str]) -> None:
        try:
            await asyncio.to_thread(self._write, raw)
        except OSError as exc:
            raise TransientError(f"cannot write to {self.directory}: {exc}") from exc

    def _write(self, raw: bytes) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(raw)
                fh.flush()
                os.fsync(fh.fileno())
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
            while True:
                target = self.directory / f"{stamp}-{next(self._counter)}.eml"
                try:
                    # link, unlike rename, never replaces a mail another process wrote under that name.
                    os.link(tmp, target)
                    return target
                except FileExistsError:
                    continue
        finally:
            Path(tmp).unlink(missing_ok=True)


def transport_from_settings(settings: Settings) -> Transport:
    if settings.smtp_host is None:
        return FolderTransport(settings.outbound_dir)
    return SmtpTransport(
        settings.smtp_host,
        settings.smtp_port,
        user=settings.smtp_user,
        password=settings.smtp_password.get_secret_value(),
        starttls=settings.smtp_starttls,
        timeout=settings.smtp_timeout,
    )
