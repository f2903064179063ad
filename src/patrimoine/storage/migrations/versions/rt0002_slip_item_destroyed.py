"""retention: what the execution of a slip's item destroyed (versions, rows, files, bytes)

Revision ID: rt0002
Revises: rt0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "rt0002"
down_revision: str | None = "rt0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("elimination_slip_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("destroyed", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("elimination_slip_item", schema=None) as batch_op:
        batch_op.drop_column("destroyed")
