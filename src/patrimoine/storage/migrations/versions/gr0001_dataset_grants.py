"""grants: who may read a restricted dataset, why, until when, which rows and columns

Revision ID: gr0001
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import patrimoine.core.db

revision: str = "gr0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("grants",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dataset_grant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("grantee_kind", sa.Enum("account", "organisation", "partner",
                                          name="granteekind", native_enum=False, length=16),
                  nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("grantee_label", sa.String(length=300), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("valid_from", patrimoine.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("valid_until", patrimoine.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("row_filter", sa.JSON(), nullable=True),
        sa.Column("hidden_columns", sa.JSON(), nullable=False),
        sa.Column("granted_by_id", sa.Integer(), nullable=True),
        sa.Column("granted_by_label", sa.String(length=300), nullable=False),
        sa.Column("created_at", patrimoine.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", patrimoine.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by_label", sa.String(length=300), nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["dataset_id"], ["dataset.id"],
                                name=op.f("fk_dataset_grant_dataset_id_dataset"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"],
                                name=op.f("fk_dataset_grant_account_id_account"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"],
                                name=op.f("fk_dataset_grant_organisation_id_organisation"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["granted_by_id"], ["account.id"],
                                name=op.f("fk_dataset_grant_granted_by_id_account"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_grant")),
    )
    with op.batch_alter_table("dataset_grant", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dataset_grant_dataset_id"), ["dataset_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_dataset_grant_account_id"), ["account_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_dataset_grant_organisation_id"),
                              ["organisation_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("dataset_grant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataset_grant_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_dataset_grant_account_id"))
        batch_op.drop_index(batch_op.f("ix_dataset_grant_dataset_id"))
    op.drop_table("dataset_grant")
