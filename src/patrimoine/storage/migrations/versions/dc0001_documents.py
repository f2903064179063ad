"""documents: files kept for register entries (an algorithm's four documents)

Revision ID: dc0001
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import patrimoine.core.db

revision: str = "dc0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("documents",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stored_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("public", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("uploaded_by", sa.String(length=300), nullable=False),
        sa.Column("uploaded_at", patrimoine.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"],
                                name=op.f("fk_stored_document_organisation_id_organisation"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stored_document")),
        sa.UniqueConstraint("uid", name=op.f("uq_stored_document_uid")),
    )
    with op.batch_alter_table("stored_document") as batch:
        batch.create_index(batch.f("ix_stored_document_organisation_id"), ["organisation_id"])
        batch.create_index(batch.f("ix_stored_document_sha256"), ["sha256"])


def downgrade() -> None:
    op.drop_table("stored_document")
