"""Database fixtures: every test gets a fresh, migrated store on SQLite and on PostgreSQL.

PostgreSQL runs at 127.0.0.1:5432 (trust auth, database `test`); each test gets
its own schema so parallel runs never collide. Outside CI a missing server skips
the PostgreSQL half; under CI=true it fails, so a broken setup is never green.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.db import create_engine

PG_HOST = os.environ.get("TIKETTI_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("TIKETTI_TEST_PG_PORT", "5432"))
PG_BASE = f"postgresql+asyncpg://{os.environ.get('TIKETTI_TEST_PG_USER', 'postgres')}@{PG_HOST}:{PG_PORT}/test"


def postgres_available() -> bool:
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=1):
            return True
    except OSError:
        return False


def require_postgres() -> None:
    if postgres_available():
        return
    message = f"PostgreSQL is not reachable at {PG_HOST}:{PG_PORT}"
    if os.environ.get("CI") == "true":
        pytest.fail(message + " (CI=true: a missing server is a failure, not a skip)")
    pytest.skip(message)


class Database:
    """A database URL plus the engine options that confine it to its own schema."""

    def __init__(self, kind: str, url: str, schema: str | None = None) -> None:
        self.kind, self.url, self.schema = kind, url, schema

    def engine(self) -> AsyncEngine:
        if self.schema:
            return create_engine(self.url, connect_args={"server_settings": {"search_path": self.schema}})
        return create_engine(self.url)


async def make_database(kind: str, tmp_path: Path) -> AsyncIterator[Database]:
    if kind == "sqlite":
        yield Database("sqlite", f"sqlite+aiosqlite:///{tmp_path / 'tiketti.db'}")
        return
    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_BASE)
    async with admin.begin() as conn:
        await conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield Database("postgres", PG_BASE, schema)
    finally:
        async with admin.begin() as conn:
            await conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        await admin.dispose()


async def temporary_pg_database() -> AsyncIterator[str]:
    """A whole PostgreSQL database of its own, for tests that start the CLI as another process."""
    require_postgres()
    name = f"tiketti_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_BASE, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield PG_BASE.rsplit("/", 1)[0] + "/" + name
    finally:
        async with admin.connect() as conn:
            await conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.dispose()
