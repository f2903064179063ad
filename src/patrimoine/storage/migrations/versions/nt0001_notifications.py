"""notifications: in-application notifications and each account's e-mail choice per kind

Revision ID: nt0001
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from patrimoine.core.db import UTCDateTime

revision: str = "nt0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("notifications",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("read_at", UTCDateTime(), nullable=True),
        sa.Column("emailed_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"],
                                name=op.f("fk_notification_account_id_account"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
    )
    op.create_index("ix_notification_account_unread", "notification",
                    ["account_id", "read_at"], unique=False)
    op.create_table(
        "notification_preference",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("delivery", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"],
                                name=op.f("fk_notification_preference_account_id_account"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_preference")),
        sa.UniqueConstraint("account_id", "kind",
                            name=op.f("uq_notification_preference_account_id")),
    )
    op.create_index(op.f("ix_notification_preference_account_id"), "notification_preference",
                    ["account_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_notification_preference_account_id"),
                  table_name="notification_preference")
    op.drop_table("notification_preference")
    op.drop_index("ix_notification_account_unread", table_name="notification")
    op.drop_table("notification")
