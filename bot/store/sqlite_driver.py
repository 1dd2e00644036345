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
unchanged, except that the connections of one engine take turns at SQLite's one
writer (WriterTurn) instead of polling for it. Server-side cursors (`stream()`) keep SQLAlchemy's own class.

It subclasses private classes and names (`_execute_mutex`, `_cursor_cls`, `await_`, aiosqlite's
`_execute`), which change between releases: pyproject.toml therefore limits SQLAlchemy and aiosqlite to
the versions the test suite passed with (docs/deployment.md, "Dependency ranges"), and it stays only
while it pays (docs/performance.md, "Dependencies": 13 % less CPU on the grouped IMAP path).
"""

from __future__ import annotations

import collections
import sqlite3
import threading
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

BEGIN = "BEGIN IMMEDIATE"  # how bot.store.db starts every transaction
WAIT_SECONDS = 30  # as long as SQLite's own busy_timeout (bot.store.db)


def _run(conn: sqlite3.Connection, operation: str, parameters: Any, many: bool,
         turn: WriterTurn) -> tuple[Any, int, Any, list[Any] | None]:
    """One statement from start to finish, on aiosqlite's thread: what the four trips did, in one."""
    if operation == BEGIN:
        turn.take()
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
    except BaseException:
        if operation == BEGIN:
            turn.give_back()
        raise
    finally:
        cursor.close()


def _end(conn: sqlite3.Connection, how: str, turn: WriterTurn) -> None:
    """COMMIT or ROLLBACK, and the writer's turn handed on at once, still on the database thread."""
    try:
        conn.commit() if how == "commit" else conn.rollback()
    finally:
        turn.give_back()


class WriterTurn:
    """A connection's place in line for SQLite's one writer, among the connections of one engine.

    Every transaction starts with BEGIN IMMEDIATE (bot.store.db), which takes SQLite's write lock. A
    connection that finds it taken is put to sleep by SQLite's busy handler, in naps growing to 100 ms,
    and whoever asks at the right moment wins: under a burst (bench/slack.py) some transactions waited
    for seconds, among them the one keeping Slack's requests before they are acknowledged (Slack gives
    3 s). Here the connections of one engine wait for a lock on their own database threads instead, and
    the turn is handed on the moment a transaction ends; another process (`tiketti ingest`) still meets
    the busy handler.
    """

    __slots__ = ("gate", "holding")

    def __init__(self, gate: threading.Lock) -> None:
        self.gate = gate
        self.holding = False

    def take(self) -> None:
        if self.holding:
            return
        if not self.gate.acquire(timeout=WAIT_SECONDS):  # as SQLite would say after its busy_timeout
            raise sqlite3.OperationalError("database is locked (by this process's other writers)")
        self.holding = True

    def give_back(self) -> None:
        if self.holding:
            self.holding = False
            self.gate.release()


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
            result = await conn._execute(_run, conn._conn, operation, parameters, many,  # noqa: SLF001
                                         self._adapt_connection.turn)  # type: ignore[attr-defined]
        self._description, self._rowcount, self._lastrowid, rows = result
        self._rows = collections.deque(rows) if rows is not None else collections.deque()


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    """Ends each transaction on the database thread and hands the writer's turn on there (WriterTurn)."""

    __slots__ = ("turn",)
    _cursor_cls = OneTripCursor

    def __init__(self, dbapi: Any, connection: Any, gate: threading.Lock) -> None:
        super().__init__(dbapi, connection)
        self.turn = WriterTurn(gate)

    def commit(self) -> None:
        self._end("commit")

    def rollback(self) -> None:
        self._end("rollback")

    def _end(self, how: str) -> None:
        if not self._connection._connection:  # closed already (aiosqlite's own commit/rollback check this)
            self.turn.give_back()
            return
        try:
            await_(self._connection._execute(_end, self._connection._conn, how, self.turn))  # noqa: SLF001
        except Exception as error:
            self._handle_exception(error)

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.turn.give_back()

    def terminate(self) -> None:  # an invalidated connection (a cancelled task's) must not keep the turn
        try:
            super().terminate()
        finally:
            self.turn.give_back()


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def __init__(self, aiosqlite: Any, sqlite: Any) -> None:
        super().__init__(aiosqlite, sqlite)
        self.writer = threading.Lock()  # one per engine: its connections take turns at writing

    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        adapted = super().connect(*arg, **kw)
        return OneTripConnection(self, adapted._connection, self.writer)


def dbapi() -> OneTripDBAPI:
    return OneTripDBAPI(aiosqlite, sqlite3)
