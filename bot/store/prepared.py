"""Statements built once, with bind parameters, for the queries every incoming mail asks.

Building a select and its WHERE clause again on each call, and computing its cache key
again, cost more than running it on SQLite (bench/ingest.py). Each is built on first use,
as the ORM classes are mapped only when the store starts.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from sqlalchemy import bindparam, func, select
from sqlalchemy.sql import Executable

from bot.domain.model import Contact, MailState, Ticket
from bot.store import orm


def _prepared(build: Callable[[], Executable]) -> Callable[[], Executable]:
    return functools.cache(build)


CONTACT_BY_EMAIL = _prepared(lambda: select(Contact).where(orm.contacts.c.email == bindparam("email")))
HAS_MAIL_ID = _prepared(lambda: select(orm.messages.c.id).where(orm.messages.c.mail_message_id == bindparam("mid")).limit(1))
TICKETS_OF_MAIL_IDS = _prepared(lambda: select(orm.messages.c.mail_message_id, orm.messages.c.ticket_id).where(
    orm.messages.c.mail_message_id.in_(bindparam("mids", expanding=True))))
CHILD_STATES = _prepared(lambda: select(orm.tickets.c.parent_id, orm.tickets.c.id, orm.tickets.c.status).where(
    orm.tickets.c.parent_id.in_(bindparam("parents", expanding=True))).order_by(orm.tickets.c.id))
RECENT_FOR_REQUESTER = _prepared(lambda: select(Ticket).where(
    orm.tickets.c.requester_id == bindparam("requester"), orm.tickets.c.id != bindparam("exclude"),
).order_by(orm.tickets.c.created_at.desc(), orm.tickets.c.id.desc()).limit(bindparam("limit")))
AUTOMATIC_TO = _prepared(lambda: select(func.count()).select_from(orm.outbox).where(
    orm.outbox.c.to_addr == bindparam("to"), orm.outbox.c.kind.not_in(("reply", "expert")),  # people wrote those
    orm.outbox.c.created_at >= bindparam("since")))
FAILURES = _prepared(lambda: select(orm.outbox.c.ticket_id, orm.outbox.c.to_addr, orm.outbox.c.last_error).where(
    orm.outbox.c.ticket_id.in_(bindparam("tickets", expanding=True)),
    orm.outbox.c.state.in_([MailState.FAILED, MailState.BOUNCED]),
).order_by(orm.outbox.c.id))
