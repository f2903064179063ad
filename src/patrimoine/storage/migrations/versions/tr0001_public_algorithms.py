"""transparency: the public algorithms register, the datasets they use, requests for their rules

Revision ID: tr0001
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import patrimoine.core.db

revision: str = "tr0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("transparency",)
# The algorithm links to a DPIA of the GDPR register.
depends_on: str | Sequence[str] | None = "pr0001"

_AUTOMATION = sa.Enum("fully_automated", "decision_support", name="automation",
                      native_enum=False, length=40)
_KIND = sa.Enum("rules", "statistical", "machine_learning", name="algorithmkind",
                native_enum=False, length=40)
_STATUS = sa.Enum("draft", "published", "withdrawn", name="algorithmstatus",
                  native_enum=False, length=40)
_REQUEST = sa.Enum("received", "answered", "withdrawn", name="algorithmrequeststatus",
                   native_enum=False, length=40)


def _at() -> patrimoine.core.db.UTCDateTime:
    return patrimoine.core.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "public_algorithm",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("department", sa.String(length=300), nullable=True),
        sa.Column("contact", sa.String(length=300), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("decisions_per_year", sa.Integer(), nullable=True),
        sa.Column("public_concerned", sa.Text(), nullable=False),
        sa.Column("automation", _AUTOMATION, nullable=False),
        sa.Column("kind", _KIND, nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("operations", sa.Text(), nullable=False),
        sa.Column("human_oversight", sa.Text(), nullable=False),
        sa.Column("appeal", sa.Text(), nullable=False),
        sa.Column("risks", sa.Text(), nullable=False),
        sa.Column("dpia_id", sa.Integer(), nullable=True),
        sa.Column("supplier", sa.String(length=300), nullable=True),
        sa.Column("source_code_url", sa.String(length=1000), nullable=True),
        sa.Column("source_code_licence", sa.String(length=200), nullable=True),
        sa.Column("documents", sa.JSON(), nullable=False),
        sa.Column("status", _STATUS, nullable=False),
        sa.Column("published_on", sa.Date(), nullable=True),
        sa.Column("review_on", sa.Date(), nullable=True),
        sa.Column("created_at", _at(), nullable=False),
        sa.Column("updated_at", _at(), nullable=False),
        sa.ForeignKeyConstraint(["dpia_id"], ["dpia.id"],
                                name=op.f("fk_public_algorithm_dpia_id_dpia"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"],
                                name=op.f("fk_public_algorithm_organisation_id_organisation"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_public_algorithm")),
        sa.UniqueConstraint("organisation_id", "reference",
                            name=op.f("uq_public_algorithm_organisation_id")),
    )
    with op.batch_alter_table("public_algorithm", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_public_algorithm_organisation_id"),
                              ["organisation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_public_algorithm_status"), ["status"],
                              unique=False)
    op.create_table(
        "public_algorithm_dataset",
        sa.Column("algorithm_id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["algorithm_id"], ["public_algorithm.id"],
            name=op.f("fk_public_algorithm_dataset_algorithm_id_public_algorithm"),
            ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["dataset_id"], ["dataset.id"],
                                name=op.f("fk_public_algorithm_dataset_dataset_id_dataset"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("algorithm_id", "dataset_id",
                                name=op.f("pk_public_algorithm_dataset")),
    )
    op.create_table(
        "algorithm_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("algorithm_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("requester", sa.String(length=300), nullable=False),
        sa.Column("decision", sa.Text(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("status", _REQUEST, nullable=False),
        sa.Column("answered_on", sa.Date(), nullable=True),
        sa.Column("contribution", sa.Text(), nullable=True),
        sa.Column("data_and_sources", sa.Text(), nullable=True),
        sa.Column("parameters_applied", sa.Text(), nullable=True),
        sa.Column("operations", sa.Text(), nullable=True),
        sa.Column("created_at", _at(), nullable=False),
        sa.Column("updated_at", _at(), nullable=False),
        sa.ForeignKeyConstraint(["algorithm_id"], ["public_algorithm.id"],
                                name=op.f("fk_algorithm_request_algorithm_id_public_algorithm"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"],
                                name=op.f("fk_algorithm_request_organisation_id_organisation"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_algorithm_request")),
        sa.UniqueConstraint("organisation_id", "reference",
                            name=op.f("uq_algorithm_request_organisation_id")),
    )
    with op.batch_alter_table("algorithm_request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_algorithm_request_algorithm_id"), ["algorithm_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_algorithm_request_organisation_id"),
                              ["organisation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_algorithm_request_received_on"), ["received_on"],
                              unique=False)


def downgrade() -> None:
    op.drop_table("algorithm_request")
    op.drop_table("public_algorithm_dataset")
    op.drop_table("public_algorithm")
