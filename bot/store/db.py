"""Engine construction: the one place that knows SQLite and PostgreSQL differ."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from bot.store import sqlite_driver


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


# A burst (a hundred clicks in a second) queues for a connection; waiting is better than failing
# work that Slack was already told succeeded. 30 s, SQLAlchemy's default, dropped notes in bench/slack.py.
POOL_TIMEOUT_SECONDS = 300
# A connection's execution option: its transaction only reads (bot.store.uow's read-only unit of work).
READ_ONLY = "tiketti_read_only"


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    kwargs.setdefault("pool_timeout", POOL_TIMEOUT_SECONDS)
    # A failed statement's message would otherwise quote its parameters (a mail's text, subject and
    # addresses) into every log line and traceback that shows the error. The statement stays visible.
    kwargs.setdefault("hide_parameters", True)
    if is_sqlite(url):
        # WAL lets readers run beside the single writer; busy_timeout makes a second
        # writer wait instead of failing at once (two processes on one file: CLI + bot).
        kwargs.setdefault("module", sqlite_driver.dbapi())  # one thread hand-off per statement, not four
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy's "begin" hook below issue BEGIN itself (the documented pysqlite recipe).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _begin_immediate(conn: Any) -> None:
            # Take the write lock at BEGIN: a read-then-write transaction can otherwise
            # fail with "database is locked" when another writer got in between. A transaction
            # that only reads (a search) begins deferred: under WAL it then never waits for the
            # writer nor holds it up, and reads one consistent snapshot all the same.
            conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")

        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
