"""registers: one counter row per register, organisation and year, for safe references

Revision ID: rg0001
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "rg0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("registers",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # No rows to seed: a counter starts above the references in use at its first draw.
    op.create_table(
        "register_counter",
        sa.Column("register", sa.String(length=60), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"],
                                name=op.f("fk_register_counter_organisation_id_organisation"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("register", "organisation_id", "year",
                                name=op.f("pk_register_counter")),
    )


def downgrade() -> None:
    op.drop_table("register_counter")
