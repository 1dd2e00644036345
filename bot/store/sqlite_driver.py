"""SQLAlchemy's aiosqlite adapter with one trip to the database thread per statement instead of four.

aiosqlite runs sqlite3 in a thread of its own so a busy database never blocks the
event loop. SQLAlchemy's adapter asks that thread separately to open a cursor, to
execute, to fetch the rows and to close the cursor; each trip is two thread
wake-ups (about 40 us here, plus the event loop's own work), and the ingest path
runs about ten statements per mail. Here the whole statement is one function run
on that same thread, so SQLite sees exactly the same calls in the same order and
on the same connection; only the hand-offs are fewer.

Used through `create_async_engine(..., module=dbapi())` by `bot.store.db`; the
rest of SQLAlchemy's aiosqlite dialect (pool, pragmas, transactions, errors) is
unchanged. Server-side cursors (`stream()`) keep SQLAlchemy's own class.
"""

from __future__ import annotations

import collections
import sqlite3
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_


def _run(conn: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> tuple[Any, int, Any, list[Any] | None]:
    """One statement from start to finish, on aiosqlite's thread: what the four trips did, in one."""
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        rows = cursor.fetchall() if cursor.description else None
        return cursor.description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """Results are fetched whole and buffered, as SQLAlchemy's own (client-side) cursor does too."""

    __slots__ = ("_description", "_rowcount", "_lastrowid", "_arraysize")

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]  # no aiosqlite cursor object: nothing to open or close
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: Any = None
        self._arraysize = 1

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    async def _async_soft_close(self) -> None:
        return None  # the sqlite3 cursor was closed on the database thread already

    def close(self) -> None:
        self._rows.clear()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        try:
            return await_(self._trip(operation, parameters, many=False))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        try:
            return await_(self._trip(operation, seq_of_parameters, many=True))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    async def _trip(self, operation: Any, parameters: Any, many: bool) -> None:
        async with self._adapt_connection._execute_mutex:
            conn = self._connection
            result = await conn._execute(_run, conn._conn, operation, parameters, many)  # noqa: SLF001
        self._description, self._rowcount, self._lastrowid, rows = result
        self._rows = collections.deque(rows) if rows is not None else collections.deque()


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneTripCursor


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        adapted = super().connect(*arg, **kw)
        return OneTripConnection(self, adapted._connection)


def dbapi() -> OneTripDBAPI:
    return OneTripDBAPI(aiosqlite, sqlite3)
