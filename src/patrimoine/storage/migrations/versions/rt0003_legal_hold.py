"""retention: legal holds (gel juridique), the holds a slip names, its archives service

Revision ID: rt0003
Revises: rt0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import patrimoine.core.db

revision: str = "rt0003"
down_revision: str | None = "rt0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_KIND = sa.Enum("litigation", "cada", "audit", "other", name="holdkind", native_enum=False,
                length=40)


def _at() -> patrimoine.core.db.UTCDateTime:
    return patrimoine.core.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "legal_hold",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=True),
        sa.Column("kind", _KIND, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("review_on", sa.Date(), nullable=True),
        sa.Column("placed_by", sa.String(length=300), nullable=False),
        sa.Column("placed_at", _at(), nullable=False),
        sa.Column("released_at", _at(), nullable=True),
        sa.Column("released_by", sa.String(length=300), nullable=True),
        sa.Column("release_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["dataset_id"], ["dataset.id"],
                                name=op.f("fk_legal_hold_dataset_id_dataset"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"],
                                name=op.f("fk_legal_hold_organisation_id_organisation"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_hold")),
    )
    with op.batch_alter_table("legal_hold", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_legal_hold_dataset_id"), ["dataset_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_legal_hold_organisation_id"), ["organisation_id"],
                              unique=False)
    with op.batch_alter_table("elimination_slip", schema=None) as batch_op:
        batch_op.add_column(sa.Column("holds", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("archives_service", sa.String(length=300),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("elimination_slip", schema=None) as batch_op:
        batch_op.drop_column("archives_service")
        batch_op.drop_column("holds")
    with op.batch_alter_table("legal_hold", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_legal_hold_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_legal_hold_dataset_id"))
    op.drop_table("legal_hold")
