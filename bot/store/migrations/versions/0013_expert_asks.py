"""questions mailed to outside experts (issue 14)

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "expert_asks",
        sa.Column("id", PK, autoincrement=True, nullable=False),
        sa.Column("ticket_id", PK, nullable=False),
        sa.Column("expert", sa.String(length=320), nullable=False),
        sa.Column("mail_message_id", sa.String(length=998), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("asked_by", sa.String(length=400), nullable=True),
        sa.Column("message_id", PK, nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_expert_asks_ticket_id_tickets")),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], name=op.f("fk_expert_asks_message_id_messages")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_expert_asks")),
        sa.UniqueConstraint("mail_message_id", name=op.f("uq_expert_asks_mail_message_id")),
    )
    op.create_index(op.f("ix_expert_asks_expert"), "expert_asks", ["expert"], unique=False)
    op.create_index("ix_expert_asks_ticket_expert", "expert_asks", ["ticket_id", "expert"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_expert_asks_ticket_expert", table_name="expert_asks")
    op.drop_index(op.f("ix_expert_asks_expert"), table_name="expert_asks")
    op.drop_table("expert_asks")
