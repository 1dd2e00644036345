"""notices written with the change that causes them, delivered once per chat platform; one note per chat message

A chat message is stored as a note once (messages.chat_ref unique): two instances handling the same
redelivered message at once can no longer both insert it. Duplicates an older race left keep their
first copy's link to the chat message.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.execute("UPDATE messages SET chat_ref = NULL WHERE chat_ref IS NOT NULL AND id NOT IN "
               "(SELECT MIN(id) FROM messages WHERE chat_ref IS NOT NULL GROUP BY chat_ref)")
    with op.batch_alter_table("messages") as batch_op:
        batch_op.drop_index("ix_messages_chat_ref")
        batch_op.create_index("ix_messages_chat_ref", ["chat_ref"], unique=True)
    op.create_table(
        "notices",
        sa.Column("id", PK, autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
        sa.UniqueConstraint("key", name="uq_notices_key"),
    )
    op.create_index("ix_notices_created_at", "notices", ["created_at"], unique=False)
    op.create_table(
        "notice_deliveries",
        sa.Column("notice_id", PK, nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=True),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.Column("given_up_at", sa.DateTime(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["notice_id"], ["notices.id"], ondelete="CASCADE",
                                name=op.f("fk_notice_deliveries_notice_id_notices")),
        sa.PrimaryKeyConstraint("notice_id", "platform", name=op.f("pk_notice_deliveries")),
    )


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch_op:
        batch_op.drop_index("ix_messages_chat_ref")
        batch_op.create_index("ix_messages_chat_ref", ["chat_ref"], unique=False)
    op.drop_table("notice_deliveries")
    op.drop_index("ix_notices_created_at", table_name="notices")
    op.drop_table("notices")
