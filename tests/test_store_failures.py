"""Which failures mean "the store is away, try later" and which mean "this mail is bad", read from
errors the real drivers raise (SQLite and PostgreSQL). Getting it wrong either way hurts: a mail's
own error taken for an outage is retried forever and stalls intake; an outage taken for the mail's
fault quarantines good mail."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bot.store import failures
from bot.store.db import create_engine
from tests.support.db import Database, require_postgres
from tests.support.net import free_port

SECRET = "Dear support, my account mia@customer.example"


async def refused(database: Database, sql: str, params: dict[str, object]) -> DBAPIError:
    engine = database.engine()
    try:
        with pytest.raises(DBAPIError) as caught:
            async with engine.begin() as conn:
                await conn.execute(text(sql), params)
    finally:
        await engine.dispose()
    return caught.value


async def test_a_value_the_database_refuses_is_the_mails_fault(database: Database) -> None:
    if database.kind == "postgres":  # NUL: PostgreSQL's text cannot hold it
        error = await refused(database, "SELECT CAST(:v AS text)", {"v": f"{SECRET}\x00"})
    else:  # a STRICT table (what PostgreSQL always is) refuses text in an integer column
        engine = database.engine()
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE strict_probe (n INTEGER) STRICT"))
        await engine.dispose()
        error = await refused(database, "INSERT INTO strict_probe (n) VALUES (:v)", {"v": SECRET})
    assert not failures.retry_later(error) and not failures.store_unreachable(error)
    assert SECRET not in failures.describe(error)


async def test_more_parameters_than_the_driver_takes_is_the_mails_fault(database: Database) -> None:
    """asyncpg says InterfaceError, SQLite OperationalError: neither is about the connection."""
    count = 40_000 if database.kind == "postgres" else 300_000  # this SQLite build takes up to 250,000
    marks = [f"${i + 1}" for i in range(count)] if database.kind == "postgres" else ["?"] * count
    engine = database.engine()
    try:
        with pytest.raises(DBAPIError) as caught:
            async with engine.connect() as conn:
                await conn.exec_driver_sql(f"SELECT 1 WHERE 'a' IN ({','.join(marks)})",
                                           tuple(f"<id{i}@x>" for i in range(count)))
    finally:
        await engine.dispose()
    assert not failures.retry_later(caught.value)


async def test_a_database_that_does_not_answer_is_away(tmp_path: Path) -> None:
    require_postgres()
    engine = create_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/test")
    try:
        with pytest.raises(Exception) as caught:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
    finally:
        await engine.dispose()
    assert failures.store_unreachable(caught.value) and failures.retry_later(caught.value)
    assert failures.describe(caught.value).startswith("ConnectionRefusedError")


def test_a_locked_sqlite_database_is_tried_again(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    holder, other = sqlite3.connect(path, timeout=0), sqlite3.connect(path, timeout=0)
    try:
        holder.execute("CREATE TABLE t (x)")
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(sqlite3.OperationalError) as caught:
            other.execute("BEGIN IMMEDIATE")
    finally:
        holder.close()
        other.close()
    assert failures.retry_later(caught.value)
    assert failures.describe(caught.value) == "OperationalError"


def test_detail_keeps_the_drivers_first_line_without_the_sql() -> None:
    error = DBAPIError("INSERT INTO tickets (subject) VALUES ($1)", {"subject": SECRET},
                       ValueError("value too long for type character varying(998)"))
    assert "value too long" in failures.detail(error) and "INSERT INTO" not in failures.detail(error)
    assert failures.describe(error) == "DBAPIError (ValueError)"
