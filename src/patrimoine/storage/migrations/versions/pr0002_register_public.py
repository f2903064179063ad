"""protection: activities the authority publishes in its public register

Revision ID: pr0002
Revises: pr0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "pr0002"
down_revision: str | None = "pr0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("processing_activity", schema=None) as batch_op:
        batch_op.add_column(sa.Column("public", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("processing_activity", schema=None) as batch_op:
        batch_op.drop_column("public")
