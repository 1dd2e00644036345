"""What a failed store operation means: the store is away (try again later), or this one item is bad.

A mail is retried only when the failure says nothing about the mail: the connection is gone,
the server is shutting down or out of resources, a lock or a deadlock got in the way. Anything
else (a value the database refuses, a bug) is the item's own problem and retrying it would
stall everything queued behind it. Drivers are told apart by what they report (SQLSTATE, the
class names and SQLAlchemy's `connection_invalidated`), so no driver needs importing here.

`describe` names a failure without its message: driver messages quote the values they refused
("invalid input for query argument $1: 'Dear support…'"), and mail text must not reach logs.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import exc as sa_exc

# SQLSTATE classes and codes (PostgreSQL appendix A) that describe the server, not the statement.
_UNREACHABLE_CLASSES = ("08", "53", "58", "57P")  # connection, resources, system I/O, shutting down
_TRANSIENT_STATES = {"40001", "40P01", "55P03", "57014"}  # serialization, deadlock, lock wait, timeout
# sqlite3.OperationalError messages that are about the database file, not the statement.
_SQLITE_AWAY = ("database is locked", "database is busy", "unable to open", "disk i/o", "disk is full",
                "readonly database", "no active connection", "database table is locked")
_UNREACHABLE_NAMES = {"PostgresConnectionError", "ConnectionDoesNotExistError", "ConnectionFailureError",
                      "CannotConnectNowError", "ClientCannotConnectError", "ConnectionRejectionError",
                      "TooManyConnectionsError", "AdminShutdownError", "CrashShutdownError"}


def chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, then whatever caused it (a DBAPIError's driver error too), each once."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None) if isinstance(current, sa_exc.DBAPIError) else None
        todo += [e for e in (orig, current.__cause__ or current.__context__) if isinstance(e, BaseException)]


def store_unreachable(exc: BaseException) -> bool:
    """A connection-level failure: the store did not get to judge the statement at all."""
    return any(_away(e) for e in chain(exc))


def retry_later(exc: BaseException) -> bool:
    """Worth trying the same work again: the store is away, or a lock/deadlock/timeout got in the way."""
    return any(_away(e) or _sqlstate(e) in _TRANSIENT_STATES for e in chain(exc))


def _away(e: BaseException) -> bool:
    if isinstance(e, sa_exc.DBAPIError) and e.connection_invalidated:
        return True
    if isinstance(e, (OSError, sa_exc.TimeoutError)):  # sockets, refused connections; a full pool
        return True
    if type(e).__name__ in _UNREACHABLE_NAMES:
        return True
    state = _sqlstate(e)
    if state and state.startswith(_UNREACHABLE_CLASSES):
        return True
    return type(e).__module__ == "sqlite3" and any(m in str(e).lower() for m in _SQLITE_AWAY)


def _sqlstate(e: BaseException) -> str:
    state = getattr(e, "sqlstate", None) or getattr(e, "pgcode", None)
    return state if isinstance(state, str) else ""


def describe(exc: BaseException) -> str:
    """'DBAPIError (CharacterNotInRepertoireError, SQLSTATE 22021)': what failed, never the values involved.

    Safe for logs at any level. OS errors keep their strerror ("Connection refused"), which
    names no data; every other message is left out.
    """
    names: list[str] = []
    state = ""
    reason = ""
    for e in chain(exc):
        name = type(e).__name__
        if name not in names:
            names.append(name)
        state = state or _sqlstate(e)
        if isinstance(e, OSError) and not reason and e.strerror:
            reason = e.strerror
    head, rest = names[0], [*names[1:4]]
    if state:
        rest.append(f"SQLSTATE {state}")
    if reason:
        rest.append(reason)
    return f"{head} ({', '.join(rest)})" if rest else head


def detail(exc: BaseException, limit: int = 300) -> str:
    """`describe` plus the first line of the message, for the quarantine row agents read (not for logs).

    SQLAlchemy's "[SQL: …]" tail is dropped; what is left may quote the mail's own data, which
    is where it belongs: next to the mail, shown to the people who may read it.
    """
    first = str(exc).split("\n", 1)[0].split("[SQL:", 1)[0].strip()
    text = describe(exc) + (f": {first}" if first else "")
    return text if len(text) <= limit else text[:limit - 1] + "…"
