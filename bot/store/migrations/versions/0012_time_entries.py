"""time spent on tickets (issue 14)

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "time_entries",
        sa.Column("id", PK, autoincrement=True, nullable=False),
        sa.Column("ticket_id", PK, nullable=False),
        sa.Column("agent_id", PK, nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_time_entries_ticket_id_tickets")),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name=op.f("fk_time_entries_agent_id_agents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_time_entries")),
    )
    op.create_index(op.f("ix_time_entries_ticket_id"), "time_entries", ["ticket_id"], unique=False)
    op.create_index(op.f("ix_time_entries_agent_id"), "time_entries", ["agent_id"], unique=False)
    op.create_index(op.f("ix_time_entries_created_at"), "time_entries", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_time_entries_created_at"), table_name="time_entries")
    op.drop_index(op.f("ix_time_entries_agent_id"), table_name="time_entries")
    op.drop_index(op.f("ix_time_entries_ticket_id"), table_name="time_entries")
    op.drop_table("time_entries")
