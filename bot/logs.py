"""Logging set-up shared by every command."""

from __future__ import annotations

import logging
import sys


def configure(level: str = "INFO") -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # Library chatter (SQL, IMAP protocol, SMTP sessions) can carry personal data: keep it at warning.
    for noisy in ("sqlalchemy", "aiosqlite", "mail.log", "imap_tools", "aiosmtplib", "alembic", "asyncio"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
