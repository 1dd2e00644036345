"""contacts.automatic_mail_stopped_at/_reason: a contact who reported our mail as abuse gets no automatic mail

Set by an ARF abuse report about mail we sent them (bot.handlers.bounces); acknowledgements
check it. Bounced outbox rows use the new state value "bounced" (a plain string column: no change).

Revision ID: 0010
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contacts") as batch_op:
        batch_op.add_column(sa.Column("automatic_mail_stopped_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("automatic_mail_stopped_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contacts") as batch_op:
        batch_op.drop_column("automatic_mail_stopped_reason")
        batch_op.drop_column("automatic_mail_stopped_at")
