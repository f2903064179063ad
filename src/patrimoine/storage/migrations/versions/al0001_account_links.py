"""access: one-time links (invitations, password resets), stored hashed

Revision ID: al0001
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "al0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("account_links",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "account_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.Enum("invitation", "reset", name="linkpurpose",
                                     native_enum=False, length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"],
                                name=op.f("fk_account_link_account_id_account"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_link")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_account_link_secret_hash")),
    )
    op.create_index(op.f("ix_account_link_account_id"), "account_link", ["account_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_account_link_account_id"), table_name="account_link")
    op.drop_table("account_link")
