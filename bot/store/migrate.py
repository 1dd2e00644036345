"""Schema upgrades through Alembic, callable from the CLI, `tiketti run` and tests.

Alembic itself is imported only when the schema must change: loading it and running its
environment costs more than storing a mail, and `tiketti ingest` (one process per mail, from
an MTA) nearly always finds the schema a running instance already upgraded. `ensure_schema`
therefore compares the revision recorded in the database with the head read from the
migration files, and calls Alembic only when they differ.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
_REVISION = re.compile(r"^revision\s*(?::[^=]*)?=\s*['\"]([^'\"]+)['\"]", re.M)
_DOWN_REVISION = re.compile(r"^down_revision\s*(?::[^=]*)?=\s*(.*)$", re.M)
_QUOTED = re.compile(r"['\"]([^'\"]+)['\"]")


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


@cache
def head_revisions() -> frozenset[str]:
    """The revisions no migration builds on, read from the files' `revision`/`down_revision` lines.

    The same answer as Alembic's ScriptDirectory.get_heads() (tests/test_schema_check.py checks it),
    without importing Alembic or executing the migration modules.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        rev = _REVISION.search(source)
        if rev is None:
            continue
        revisions.add(rev.group(1))
        down = _DOWN_REVISION.search(source)
        if down is not None:
            parents.update(_QUOTED.findall(down.group(1)))
    return frozenset(revisions - parents)


async def current_revisions(engine: AsyncEngine) -> frozenset[str] | None:
    """What `alembic_version` says the database is at; None when there is no such table yet."""
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
    except DBAPIError as exc:
        if _missing_table(exc):
            return None
        raise  # unreachable database and the like: the caller's failure classification applies
    return frozenset(rows)


def _missing_table(exc: DBAPIError) -> bool:
    message = str(exc.orig).lower()
    return "no such table" in message or "does not exist" in message or "undefinedtable" in type(exc.orig).__name__.lower()


async def ensure_schema(engine: AsyncEngine) -> bool:
    """Upgrade to head only when the database is not there already; True when Alembic ran."""
    if await current_revisions(engine) == head_revisions():
        return False
    await upgrade(engine)
    return True


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema to `revision` on an existing engine (one connection, one transaction).

    On PostgreSQL an advisory lock makes concurrent starts of several instances
    take turns instead of racing to create the same tables.
    """
    from alembic import command

    def _upgrade(connection: Any) -> None:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7405311)")
        cfg = alembic_config(str(engine.url.render_as_string(hide_password=False)))
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)

    async with engine.begin() as conn:
        await conn.run_sync(_upgrade)
