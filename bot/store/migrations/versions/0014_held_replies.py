"""replies held for undo before the outbox may send them (issue 14)

One row per reply whose mail waits out its undo window, with what the reply changed on its
ticket (bot.handlers.undo); rows go once the window is over.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "held_replies",
        sa.Column("message_id", PK, nullable=False),
        sa.Column("ticket_id", PK, nullable=False),
        sa.Column("outbox_id", PK, nullable=False),
        sa.Column("agent_id", PK, nullable=False),
        sa.Column("held_until", sa.DateTime(), nullable=False),
        sa.Column("status_before", sa.String(length=32), nullable=True),
        sa.Column("status_label_before", sa.String(length=64), nullable=True),
        sa.Column("status_after", sa.String(length=32), nullable=True),
        sa.Column("first_response", sa.Boolean(), nullable=False),
        sa.Column("took_assignee", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], name=op.f("fk_held_replies_message_id_messages")),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_held_replies_ticket_id_tickets")),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.id"], name=op.f("fk_held_replies_outbox_id_outbox")),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name=op.f("fk_held_replies_agent_id_agents")),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_held_replies")),
    )
    op.create_index(op.f("ix_held_replies_ticket_id"), "held_replies", ["ticket_id"], unique=False)
    op.create_index(op.f("ix_held_replies_held_until"), "held_replies", ["held_until"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_held_replies_held_until"), table_name="held_replies")
    op.drop_index(op.f("ix_held_replies_ticket_id"), table_name="held_replies")
    op.drop_table("held_replies")
