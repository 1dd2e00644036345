"""chat users linked to the mail contact whose address they proved (contact_links), and the codes mailed for it

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "contact_links",
        sa.Column("id", PK, autoincrement=True, nullable=False),
        sa.Column("chat_address", sa.String(length=320), nullable=False),
        sa.Column("contact_id", PK, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], name=op.f("fk_contact_links_contact_id_contacts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_links")),
        sa.UniqueConstraint("chat_address", name=op.f("uq_contact_links_chat_address")),
    )
    op.create_index(op.f("ix_contact_links_contact_id"), "contact_links", ["contact_id"], unique=False)
    op.create_table(
        "link_codes",
        sa.Column("id", PK, autoincrement=True, nullable=False),
        sa.Column("chat_address", sa.String(length=320), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_codes")),
    )
    op.create_index("ix_link_codes_chat", "link_codes", ["chat_address", "created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_link_codes_chat", table_name="link_codes")
    op.drop_table("link_codes")
    op.drop_index(op.f("ix_contact_links_contact_id"), table_name="contact_links")
    op.drop_table("contact_links")
