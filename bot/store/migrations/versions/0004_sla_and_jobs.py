"""service levels on tickets; job runs for the scheduler; tickets indexed by the times reports count by

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("sla_policy", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("first_response_due_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("resolution_due_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("sla_paused_since", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("first_response_breached_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("resolution_breached_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("sla_events", sa.JSON(), nullable=False, server_default="[]"))
        batch.create_index(op.f("ix_tickets_first_response_due_at"), ["first_response_due_at"], unique=False)
        batch.create_index(op.f("ix_tickets_resolution_due_at"), ["resolution_due_at"], unique=False)
        batch.create_index(op.f("ix_tickets_first_response_at"), ["first_response_at"], unique=False)
        batch.create_index(op.f("ix_tickets_solved_at"), ["solved_at"], unique=False)
    with op.batch_alter_table("tickets") as batch:
        batch.alter_column("sla_events", server_default=None)
    op.create_table(
        "job_runs",
        sa.Column("id", PK, autoincrement=True, nullable=False),
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column("fire_at", sa.DateTime(), nullable=False),
        sa.Column("instance", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_runs")),
        sa.UniqueConstraint("job", "fire_at", name="uq_job_runs_job_fire_at"),
    )


def downgrade() -> None:
    op.drop_table("job_runs")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_index(op.f("ix_tickets_solved_at"))
        batch.drop_index(op.f("ix_tickets_first_response_at"))
        batch.drop_index(op.f("ix_tickets_resolution_due_at"))
        batch.drop_index(op.f("ix_tickets_first_response_due_at"))
        for column in ("sla_events", "resolution_breached_at", "first_response_breached_at", "sla_paused_since",
                       "resolution_due_at", "first_response_due_at", "sla_policy"):
            batch.drop_column(column)
