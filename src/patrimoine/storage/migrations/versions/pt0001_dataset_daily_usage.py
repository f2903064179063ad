"""portal: daily view and download counters per dataset (no personal data)

Revision ID: pt0001
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "pt0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("portal",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dataset_daily_usage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.Column("downloads", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["dataset.id"],
            name=op.f("fk_dataset_daily_usage_dataset_id_dataset"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_daily_usage")),
        sa.UniqueConstraint("dataset_id", "day", name=op.f("uq_dataset_daily_usage_dataset_id")),
    )
    with op.batch_alter_table("dataset_daily_usage", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dataset_daily_usage_dataset_id"), ["dataset_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_dataset_daily_usage_day"), ["day"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("dataset_daily_usage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataset_daily_usage_day"))
        batch_op.drop_index(batch_op.f("ix_dataset_daily_usage_dataset_id"))
    op.drop_table("dataset_daily_usage")
