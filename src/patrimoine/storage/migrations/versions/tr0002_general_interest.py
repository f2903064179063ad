"""transparency: requests for data of general interest to private and concession holders

Revision ID: tr0002
Revises: tr0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import patrimoine.core.db

revision: str = "tr0002"
down_revision: str | None = "tr0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KIND = sa.Enum("concession_holder", "company", "association", "public_body",
                name="holderkind", native_enum=False, length=40)
_BASIS = sa.Enum("concession", "voluntary", "other_law", name="generalinterestbasis",
                 native_enum=False, length=40)
_STATE = sa.Enum("asked", "in_discussion", "agreed", "refused", "delivered",
                 name="generalintereststate", native_enum=False, length=40)


def _at() -> patrimoine.core.db.UTCDateTime:
    return patrimoine.core.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "general_interest_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("holder", sa.String(length=300), nullable=False),
        sa.Column("holder_kind", _KIND, nullable=False),
        sa.Column("holder_siren", sa.String(length=9), nullable=True),
        sa.Column("data_asked", sa.Text(), nullable=False),
        sa.Column("basis", _BASIS, nullable=False),
        sa.Column("basis_details", sa.Text(), nullable=False),
        sa.Column("state", _STATE, nullable=False),
        sa.Column("asked_on", sa.Date(), nullable=False),
        sa.Column("discussion_on", sa.Date(), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("delivered_on", sa.Date(), nullable=True),
        sa.Column("agreement_url", sa.String(length=1000), nullable=True),
        sa.Column("public_summary", sa.Text(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("created_at", _at(), nullable=False),
        sa.Column("updated_at", _at(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"],
            name=op.f("fk_general_interest_request_organisation_id_organisation"),
            ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_general_interest_request")),
        sa.UniqueConstraint("organisation_id", "reference",
                            name=op.f("uq_general_interest_request_organisation_id")),
    )
    with op.batch_alter_table("general_interest_request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_general_interest_request_organisation_id"),
                              ["organisation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_general_interest_request_state"), ["state"],
                              unique=False)
    op.create_table(
        "general_interest_dataset",
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["dataset.id"],
            name=op.f("fk_general_interest_dataset_dataset_id_dataset"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["request_id"], ["general_interest_request.id"],
            name=op.f("fk_general_interest_dataset_request_id_general_interest_request"),
            ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("request_id", "dataset_id",
                                name=op.f("pk_general_interest_dataset")),
    )


def downgrade() -> None:
    op.drop_table("general_interest_dataset")
    op.drop_table("general_interest_request")
