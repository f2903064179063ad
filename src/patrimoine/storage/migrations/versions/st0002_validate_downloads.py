"""Validation results are about the downloaded files: forget those computed on a rebuilt copy.

Until now a version was validated on a CSV rebuilt for the check (technical column names
aside, its own spellings); since, the badge and its report are computed on the files a
download gives (CSV and XLSX). Results kept before are dropped so that they are computed
again, on those files, the next time they are asked for.

Revision ID: st0002
Revises: st0001
"""

from collections.abc import Sequence

from alembic import op

revision: str = "st0002"
down_revision: str | None = "st0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("DELETE FROM schema_validation")


def downgrade() -> None:
    # The results are recomputed on demand either way: nothing to restore.
    pass
