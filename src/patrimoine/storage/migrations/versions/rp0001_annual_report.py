"""charter: editions of the annual report (drafts, and published editions frozen with their
figures and HTML)

Revision ID: rp0001
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import patrimoine.core.db

revision: str = "rp0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATUS = sa.Enum("draft", "published", name="editionstatus", native_enum=False, length=40)


def _at() -> patrimoine.core.db.UTCDateTime:
    return patrimoine.core.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "annual_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("edition", sa.Integer(), nullable=False),
        sa.Column("status", _STATUS, nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("preface", sa.Text(), nullable=False),
        sa.Column("highlights", sa.Text(), nullable=False),
        sa.Column("chapters", sa.JSON(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=True),
        sa.Column("snapshot", sa.JSON(), nullable=True),
        sa.Column("html", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=300), nullable=False),
        sa.Column("created_at", _at(), nullable=False),
        sa.Column("updated_at", _at(), nullable=False),
        sa.Column("published_by", sa.String(length=300), nullable=True),
        sa.Column("published_at", _at(), nullable=True),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"],
                                name=op.f("fk_annual_report_organisation_id_organisation"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_annual_report")),
    )
    with op.batch_alter_table("annual_report", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_annual_report_organisation_id"),
                              ["organisation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_annual_report_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_annual_report_year"), ["year"], unique=False)
    op.create_index("uq_annual_report_edition", "annual_report",
                    [sa.text("coalesce(organisation_id, 0)"), "year", "edition"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_annual_report_edition", table_name="annual_report")
    with op.batch_alter_table("annual_report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_annual_report_year"))
        batch_op.drop_index(batch_op.f("ix_annual_report_status"))
        batch_op.drop_index(batch_op.f("ix_annual_report_organisation_id"))
    op.drop_table("annual_report")
