"""audit: a hash format per entry (format 2 covers every column) and the published heads

Revision ID: au0001
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from patrimoine.core.db import UTCDateTime

revision: str = "au0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("audit",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Entries already written keep the formula they were hashed with (1): nothing is
    # re-hashed, which would legitimise whatever the chain holds today.
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hash_format", sa.Integer(), server_default="1",
                                      nullable=False))
    op.create_table(
        "audit_head",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_audit_head")),
    )


def downgrade() -> None:
    op.drop_table("audit_head")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_column("hash_format")
