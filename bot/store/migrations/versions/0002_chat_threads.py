"""chat threads, chat posts, collaborators; tickets indexed by updated_at

Where each ticket is shown in chat (root message, posted messages) and who was
pulled into it: what the Slack adapter needs to post every root exactly once.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_index(op.f("ix_tickets_updated_at"), "tickets", ["updated_at"], unique=False)
    op.create_table(
        "chat_threads",
        sa.Column("id", PK, autoincrement=True, nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("ticket_id", PK, nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("root_ref", sa.String(length=64), nullable=True),
        sa.Column("post_attempts", sa.Integer(), nullable=False),
        sa.Column("rendered_at", sa.DateTime(), nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_chat_threads_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_threads")),
        sa.UniqueConstraint("platform", "ticket_id", name="uq_chat_threads_platform_ticket"),
    )
    op.create_index("ix_chat_threads_root", "chat_threads", ["platform", "channel", "root_ref"], unique=False)
    op.create_table(
        "chat_posts",
        sa.Column("id", PK, autoincrement=True, nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("message_id", PK, nullable=False),
        sa.Column("ticket_id", PK, nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], name=op.f("fk_chat_posts_message_id_messages")),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_chat_posts_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_posts")),
        sa.UniqueConstraint("platform", "message_id", name="uq_chat_posts_platform_message"),
    )
    op.create_index(op.f("ix_chat_posts_ticket_id"), "chat_posts", ["ticket_id"], unique=False)
    op.create_table(
        "collaborators",
        sa.Column("id", PK, autoincrement=True, nullable=False),
        sa.Column("ticket_id", PK, nullable=False),
        sa.Column("agent_id", PK, nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.Column("added_by", sa.String(length=400), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name=op.f("fk_collaborators_agent_id_agents")),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_collaborators_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collaborators")),
        sa.UniqueConstraint("ticket_id", "agent_id", name="uq_collaborators_ticket_agent"),
    )
    op.create_index(op.f("ix_collaborators_ticket_id"), "collaborators", ["ticket_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_collaborators_ticket_id"), table_name="collaborators")
    op.drop_table("collaborators")
    op.drop_index(op.f("ix_chat_posts_ticket_id"), table_name="chat_posts")
    op.drop_table("chat_posts")
    op.drop_index("ix_chat_threads_root", table_name="chat_threads")
    op.drop_table("chat_threads")
    op.drop_index(op.f("ix_tickets_updated_at"), table_name="tickets")
