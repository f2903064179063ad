"""datastore: each version keeps the file it was loaded from (path, media type, size).

Revision ID: ds0002
Revises: ds0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ds0002"
down_revision: str | None = "ds0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dataset_version", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_path", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("source_media_type", sa.String(length=100),
                                      nullable=False, server_default=""))
        batch_op.add_column(sa.Column("source_size", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dataset_version", schema=None) as batch_op:
        batch_op.drop_column("source_size")
        batch_op.drop_column("source_media_type")
        batch_op.drop_column("source_path")
