"""What a refused action must leave as it was, for every door's permission tests.

`store_state` is everything an action could change in the store except the audit
rows of refusals, which a refusal must write; `refusals` lists those rows.
"""

from __future__ import annotations

from sqlalchemy import select

from bot.app import Core
from bot.handlers.context import Actor
from bot.store import orm

TABLES = (orm.tickets, orm.messages, orm.outbox, orm.tasks, orm.collaborators, orm.contacts, orm.agents,
          orm.reply_drafts, orm.audit_events, orm.time_entries, orm.expert_asks)


async def store_state(core: Core) -> dict[str, list[tuple[object, ...]]]:
    state: dict[str, list[tuple[object, ...]]] = {}
    async with core.engine.connect() as conn:
        for table in TABLES:
            query = select(table).order_by(*table.primary_key.columns)
            if table is orm.audit_events:
                query = query.where(table.c.action != "refused")
            state[table.name] = [tuple(row) for row in (await conn.execute(query)).all()]
    return state


async def refusals(core: Core, actor: Actor | None = None) -> list[tuple[str | None, str | None]]:
    """(what was tried, why it was refused) of each audited refusal, by `actor` or by anyone."""
    a = orm.audit_events.c
    query = select(a.field, a.detail).where(a.action == "refused").order_by(a.id)
    if actor is not None:
        query = query.where(a.actor == actor.audit_name)
    async with core.engine.connect() as conn:
        return [(row[0], row[1]) for row in (await conn.execute(query)).all()]
