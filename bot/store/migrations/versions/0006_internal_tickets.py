"""tickets without a requester (internal child tickets); link codes counted per mailed address

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.alter_column("requester_id", existing_type=PK, nullable=True)
    op.create_index("ix_link_codes_email", "link_codes", ["email", "created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_link_codes_email", table_name="link_codes")
    # An internal ticket has no customer to give back; downgrading needs them gone (or given one) first.
    with op.batch_alter_table("tickets") as batch:
        batch.alter_column("requester_id", existing_type=PK, nullable=False)
