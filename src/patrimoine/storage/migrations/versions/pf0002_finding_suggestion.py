"""personal data: the decision the scanner suggests for a finding (a public place's address)

Revision ID: pf0002
Revises: pf0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "pf0002"
down_revision: str | None = "pf0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("personal_data_finding", schema=None) as batch_op:
        batch_op.add_column(sa.Column("suggestion", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("personal_data_finding", schema=None) as batch_op:
        batch_op.drop_column("suggestion")
