"""forecast: orders the canteen service adjusted by hand, with the reason

Revision ID: fc0001
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import patrimoine.core.db

revision: str = "fc0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("forecast",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "forecast_order_adjustment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("site_nom", sa.String(length=200), nullable=False),
        sa.Column("site_type", sa.String(length=20), nullable=False),
        sa.Column("proposed", sa.Integer(), nullable=True),
        sa.Column("adjusted", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=300), nullable=False),
        sa.Column("created_at", patrimoine.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_forecast_order_adjustment_organisation_id",
                    "forecast_order_adjustment", ["organisation_id"])
    op.create_index("ix_forecast_order_adjustment_day", "forecast_order_adjustment", ["day"])


def downgrade() -> None:
    op.drop_table("forecast_order_adjustment")
