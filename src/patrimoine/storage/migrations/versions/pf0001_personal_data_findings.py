"""protection: personal-data findings of dataset versions, decisions, anonymisations

Revision ID: pf0001
Revises: 0001
Depends on: ds0001 (dataset_version)
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import patrimoine.core.db

revision: str = "pf0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("findings",)
depends_on: str | Sequence[str] | None = ("ds0001",)


def upgrade() -> None:
    op.create_table(
        "personal_data_scan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("scanned_at", patrimoine.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sampled_rows", sa.Integer(), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("scanned_by", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"], ["dataset_version.id"],
            name=op.f("fk_personal_data_scan_version_id_dataset_version"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_personal_data_scan")),
        sa.UniqueConstraint("version_id", name=op.f("uq_personal_data_scan_version_id")),
    )
    op.create_table(
        "personal_data_finding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("column", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("share", sa.Float(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("sampled", sa.Integer(), nullable=False),
        sa.Column("examples", sa.JSON(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("origin", sa.String(length=20), nullable=False),
        sa.Column("cleared_by", sa.String(length=20), nullable=True),
        sa.Column("created_at", patrimoine.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["dataset.id"],
            name=op.f("fk_personal_data_finding_dataset_id_dataset"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["version_id"], ["dataset_version.id"],
            name=op.f("fk_personal_data_finding_version_id_dataset_version"),
            ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_personal_data_finding")),
        sa.UniqueConstraint("version_id", "column", "kind",
                            name=op.f("uq_personal_data_finding_version_id")),
    )
    with op.batch_alter_table("personal_data_finding", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_personal_data_finding_dataset_id"),
                              ["dataset_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_personal_data_finding_version_id"),
                              ["version_id"], unique=False)
    op.create_table(
        "personal_data_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("column", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_at", patrimoine.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_by_label", sa.String(length=300), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["dataset.id"],
            name=op.f("fk_personal_data_decision_dataset_id_dataset"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["account.id"],
            name=op.f("fk_personal_data_decision_decided_by_account"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_personal_data_decision")),
        sa.UniqueConstraint("dataset_id", "column", "kind",
                            name=op.f("uq_personal_data_decision_dataset_id")),
    )
    with op.batch_alter_table("personal_data_decision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_personal_data_decision_dataset_id"),
                              ["dataset_id"], unique=False)
    op.create_table(
        "anonymisation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("source_version_id", sa.Integer(), nullable=True),
        sa.Column("result_version_id", sa.Integer(), nullable=False),
        sa.Column("source_number", sa.Integer(), nullable=False),
        sa.Column("operations", sa.JSON(), nullable=False),
        sa.Column("key_id", sa.String(length=100), nullable=True),
        sa.Column("created_at", patrimoine.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_by_label", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["account.id"],
            name=op.f("fk_anonymisation_created_by_account"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["dataset.id"],
            name=op.f("fk_anonymisation_dataset_id_dataset"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["result_version_id"], ["dataset_version.id"],
            name=op.f("fk_anonymisation_result_version_id_dataset_version"),
            ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["source_version_id"], ["dataset_version.id"],
            name=op.f("fk_anonymisation_source_version_id_dataset_version"),
            ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_anonymisation")),
        sa.UniqueConstraint("result_version_id",
                            name=op.f("uq_anonymisation_result_version_id")),
    )
    with op.batch_alter_table("anonymisation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_anonymisation_dataset_id"), ["dataset_id"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("anonymisation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_anonymisation_dataset_id"))
    op.drop_table("anonymisation")
    with op.batch_alter_table("personal_data_decision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_personal_data_decision_dataset_id"))
    op.drop_table("personal_data_decision")
    with op.batch_alter_table("personal_data_finding", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_personal_data_finding_version_id"))
        batch_op.drop_index(batch_op.f("ix_personal_data_finding_dataset_id"))
    op.drop_table("personal_data_finding")
    op.drop_table("personal_data_scan")
