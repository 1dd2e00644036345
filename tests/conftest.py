"""Shared fixtures. Fixture modules live in tests/support/ so each test file stays readable."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import Core, build_core
from bot.settings import Settings
from tests.support.db import Database, make_database, temporary_pg_database

# Replies go out at once in tests unless a test sets a hold (tests/test_undo_send.py): the Undo window
# (TIKETTI_UNDO_SECONDS, default 10 s) would otherwise keep every reply's mail from the SMTP sink for 10 s.
os.environ.setdefault("TIKETTI_UNDO_SECONDS", "0")
# New tickets are not offered the example articles of config/kb (a suggestion is one more message in the
# thread); tests/test_kb.py gives its helpdesks a folder of their own and turns suggestions on.
os.environ.setdefault("TIKETTI_KB_SUGGESTIONS", "0")


@pytest.fixture(params=["sqlite", "postgres"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh empty database, once on SQLite and once on PostgreSQL."""
    async for db in make_database(request.param, tmp_path):
        yield db


@pytest.fixture
async def sqlite_database(tmp_path: Path) -> AsyncIterator[Database]:
    async for db in make_database("sqlite", tmp_path):
        yield db


@pytest.fixture(params=["sqlite", "postgres"])
async def cli_env(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    """The environment a `tiketti` process (tests/support/cli.py) is started with: a store of its own,
    once on SQLite and once in a fresh PostgreSQL database."""
    base = {"TIKETTI_SUPPORT_ADDRESS": "support@helpdesk.test", "TIKETTI_OUTBOUND_DIR": str(tmp_path / "out")}
    if request.param == "sqlite":
        yield {**base, "TIKETTI_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"}
    else:
        async for url in temporary_pg_database():
            yield {**base, "TIKETTI_DATABASE_URL": url}


def make_settings(db: Database, tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": db.url,
        "secret_key": "test-secret-key",
        "support_address": "support@helpdesk.test",
        "support_name": "Helpdesk",
        "outbound_dir": tmp_path / "outbound",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
async def core(database: Database, tmp_path: Path) -> AsyncIterator[Core]:
    """The wired core (store migrated, handlers' context) on each database."""
    c = await build_core(make_settings(database, tmp_path), engine=database.engine())
    yield c
    await c.close()
