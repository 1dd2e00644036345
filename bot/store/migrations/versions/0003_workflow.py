"""ticket workflow: categories, custom status names, child and merged tickets, tasks, reply drafts, thread moves

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("chat_threads") as batch:
        batch.add_column(sa.Column("moved_from_channel", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("moved_from_root", sa.String(length=64), nullable=True))
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("category", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("status_label", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("parent_id", PK, nullable=True))
        batch.add_column(sa.Column("merged_into", PK, nullable=True))
        batch.create_foreign_key(op.f("fk_tickets_parent_id_tickets"), "tickets", ["parent_id"], ["id"])
        batch.create_foreign_key(op.f("fk_tickets_merged_into_tickets"), "tickets", ["merged_into"], ["id"])
        batch.create_index(op.f("ix_tickets_category"), ["category"], unique=False)
        batch.create_index(op.f("ix_tickets_parent_id"), ["parent_id"], unique=False)
    op.create_table(
        "tasks",
        sa.Column("id", PK, autoincrement=True, nullable=False),
        sa.Column("ticket_id", PK, nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=400), nullable=False),
        sa.Column("assignee_id", PK, nullable=True),
        sa.Column("due_at", sa.DateTime(), nullable=True),
        sa.Column("done_at", sa.DateTime(), nullable=True),
        sa.Column("reminded_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["assignee_id"], ["agents.id"], name=op.f("fk_tasks_assignee_id_agents")),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_tasks_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
    )
    op.create_index(op.f("ix_tasks_ticket_id"), "tasks", ["ticket_id"], unique=False)
    op.create_index(op.f("ix_tasks_assignee_id"), "tasks", ["assignee_id"], unique=False)
    op.create_index("ix_tasks_due", "tasks", ["done_at", "reminded_at", "due_at"], unique=False)
    op.create_table(
        "reply_drafts",
        sa.Column("id", PK, autoincrement=True, nullable=False),
        sa.Column("ticket_id", PK, nullable=False),
        sa.Column("agent_id", PK, nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name=op.f("fk_reply_drafts_agent_id_agents")),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_reply_drafts_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reply_drafts")),
        sa.UniqueConstraint("ticket_id", "agent_id", name="uq_reply_drafts_ticket_agent"),
    )
    op.create_index(op.f("ix_reply_drafts_ticket_id"), "reply_drafts", ["ticket_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_reply_drafts_ticket_id"), table_name="reply_drafts")
    op.drop_table("reply_drafts")
    op.drop_index("ix_tasks_due", table_name="tasks")
    op.drop_index(op.f("ix_tasks_assignee_id"), table_name="tasks")
    op.drop_index(op.f("ix_tasks_ticket_id"), table_name="tasks")
    op.drop_table("tasks")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_index(op.f("ix_tickets_parent_id"))
        batch.drop_index(op.f("ix_tickets_category"))
        batch.drop_constraint(op.f("fk_tickets_merged_into_tickets"), type_="foreignkey")
        batch.drop_constraint(op.f("fk_tickets_parent_id_tickets"), type_="foreignkey")
        batch.drop_column("merged_into")
        batch.drop_column("parent_id")
        batch.drop_column("status_label")
        batch.drop_column("category")
    with op.batch_alter_table("chat_threads") as batch:
        batch.drop_column("moved_from_root")
        batch.drop_column("moved_from_channel")
