"""standards: Table Schema declarations and validation results

Revision ID: st0001
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import patrimoine.core.db

revision: str = "st0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("standards",)
depends_on: str | Sequence[str] | None = ("ds0001",)


def upgrade() -> None:
    op.create_table(
        "schema_declaration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.Column("schema_name", sa.String(length=200), nullable=True),
        sa.Column("descriptor", sa.JSON(), nullable=True),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("declared_at", patrimoine.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("declared_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["dataset.id"],
            name=op.f("fk_schema_declaration_dataset_id_dataset"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"], ["dataset_version.id"],
            name=op.f("fk_schema_declaration_version_id_dataset_version"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["declared_by"], ["account.id"],
            name=op.f("fk_schema_declaration_declared_by_account"), ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schema_declaration")),
    )
    with op.batch_alter_table("schema_declaration", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_schema_declaration_dataset_id"), ["dataset_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_schema_declaration_version_id"), ["version_id"], unique=False
        )
    op.create_table(
        "schema_validation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("schema_digest", sa.String(length=64), nullable=False),
        sa.Column("schema_title", sa.String(length=500), nullable=False),
        sa.Column("valid", sa.Boolean(), nullable=False),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.Column("truncated", sa.Boolean(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("validated_at", patrimoine.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"], ["dataset_version.id"],
            name=op.f("fk_schema_validation_version_id_dataset_version"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schema_validation")),
        sa.UniqueConstraint("version_id", "schema_digest",
                            name=op.f("uq_schema_validation_version_id")),
    )
    with op.batch_alter_table("schema_validation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_schema_validation_version_id"), ["version_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("schema_validation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_schema_validation_version_id"))
    op.drop_table("schema_validation")
    with op.batch_alter_table("schema_declaration", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_schema_declaration_version_id"))
        batch_op.drop_index(batch_op.f("ix_schema_declaration_dataset_id"))
    op.drop_table("schema_declaration")
