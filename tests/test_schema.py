"""The migrations and the ORM's table definitions describe the same schema, on both databases.

If they drift, the code writes to columns the live database does not have (or
misses constraints it relies on), so the first deploy after an upgrade fails.
"""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, DateTime, MetaData
from sqlalchemy.engine import Connection

from bot.app import Core
from bot.handlers import queries
from bot.store import orm
from bot.store.migrate import alembic_config, upgrade
from bot.store.search import outside_orm
from tests.support.mails import deliver, raw_mail
from tests.support.people import OPERATOR


def _differences(connection: Connection) -> list[Any]:
    # The search index (FTS5 tables, tsvector columns) is beside the ORM's schema: bot.store.search.outside_orm
    context = MigrationContext.configure(connection, opts={"compare_type": True, "compare_server_default": True,
                                                           "include_name": outside_orm})
    return list(compare_metadata(context, orm.metadata))


def _revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def test_migrations_produce_exactly_the_orm_schema(core: Core) -> None:
    async with core.engine.connect() as conn:
        assert await conn.run_sync(_differences) == []


async def test_the_comparison_would_notice_a_drift(core: Core) -> None:
    """Guards the test above: a column the migrations never made must show up as a difference."""
    drifted = MetaData()
    for table in orm.metadata.sorted_tables:
        table.to_metadata(drifted)
    drifted.tables["tickets"].append_column(Column("sla_due_at", DateTime(), nullable=True))

    def compare(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_name": outside_orm})
        return list(compare_metadata(context, drifted))

    async with core.engine.connect() as conn:
        diffs = await conn.run_sync(compare)
    assert [(d[0], d[2], d[3].name) for d in diffs] == [("add_column", "tickets", "sla_due_at")]


async def test_migrated_database_is_at_head(core: Core) -> None:
    head = ScriptDirectory.from_config(alembic_config(core.settings.database_url)).get_current_head()
    async with core.engine.connect() as conn:
        assert await conn.run_sync(_revision) == head


async def test_upgrade_is_idempotent_and_keeps_data(core: Core) -> None:
    outcome = await deliver(core, raw_mail(subject="Before the second upgrade"))
    assert outcome.ticket_number is not None
    await upgrade(core.engine)
    await upgrade(core.engine)
    async with core.engine.connect() as conn:
        assert await conn.run_sync(_differences) == []
    details = await queries.show(core.ctx, OPERATOR, outcome.ticket_number)
    assert details.ticket.subject == "Before the second upgrade"
