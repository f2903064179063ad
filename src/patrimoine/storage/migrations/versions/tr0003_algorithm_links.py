"""transparency: an algorithm's contracts and the applications that run it

Revision ID: tr0003
Revises: tr0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "tr0003"
down_revision: str | None = "tr0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = ("sv0001",)


def _link(table: str, other: str, column: str) -> None:
    op.create_table(
        table,
        sa.Column("algorithm_id", sa.Integer(), nullable=False),
        sa.Column(column, sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["algorithm_id"], ["public_algorithm.id"],
            name=op.f(f"fk_{table}_algorithm_id_public_algorithm"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            [column], [f"{other}.id"], name=op.f(f"fk_{table}_{column}_{other}"),
            ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("algorithm_id", column, name=op.f(f"pk_{table}")),
    )


def upgrade() -> None:
    _link("public_algorithm_contract", "contract", "contract_id")
    _link("public_algorithm_application", "application", "application_id")


def downgrade() -> None:
    op.drop_table("public_algorithm_application")
    op.drop_table("public_algorithm_contract")
