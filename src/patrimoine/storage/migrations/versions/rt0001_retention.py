"""retention: dataset retention rules, elimination slips with their visa, retention actions

Revision ID: rt0001
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import patrimoine.core.db

revision: str = "rt0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("retention",)
depends_on: str | Sequence[str] | None = None

_UNIT = sa.Enum("days", "months", "years", name="durationunit", native_enum=False, length=40)
_EVENT = sa.Enum("created", "updated", "relationship_end", "file_closed", "date_column",
                 name="startevent", native_enum=False, length=40)
_FATE = sa.Enum("archives", "destruction", "sorting", "anonymisation", name="finalfate",
                native_enum=False, length=40)
_STATUS = sa.Enum("awaiting_visa", "approved", "refused", "executed", name="slipstatus",
                  native_enum=False, length=40)


def _at() -> patrimoine.core.db.UTCDateTime:
    return patrimoine.core.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "dataset_retention",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("duration", sa.Integer(), nullable=False),
        sa.Column("unit", _UNIT, nullable=False),
        sa.Column("start_event", _EVENT, nullable=False),
        sa.Column("final_fate", _FATE, nullable=False),
        sa.Column("event_date", sa.Date(), nullable=True),
        sa.Column("date_column", sa.String(length=200), nullable=True),
        sa.Column("legal_reference", sa.String(length=300), nullable=True),
        sa.Column("anonymisation", sa.JSON(), nullable=False),
        sa.Column("transferred_at", _at(), nullable=True),
        sa.Column("set_by", sa.String(length=300), nullable=False),
        sa.Column("updated_at", _at(), nullable=False),
        sa.ForeignKeyConstraint(["dataset_id"], ["dataset.id"],
                                name=op.f("fk_dataset_retention_dataset_id_dataset"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_retention")),
        sa.UniqueConstraint("dataset_id", name=op.f("uq_dataset_retention_dataset_id")),
    )
    op.create_table(
        "elimination_slip",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("status", _STATUS, nullable=False),
        sa.Column("service", sa.String(length=600), nullable=False),
        sa.Column("created_at", _at(), nullable=False),
        sa.Column("created_by", sa.String(length=300), nullable=False),
        sa.Column("visa_by", sa.String(length=300), nullable=True),
        sa.Column("visa_at", _at(), nullable=True),
        sa.Column("visa_reference", sa.String(length=200), nullable=True),
        sa.Column("visa_recorded_by", sa.String(length=300), nullable=True),
        sa.Column("refusal_reason", sa.Text(), nullable=True),
        sa.Column("executed_at", _at(), nullable=True),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"],
                                name=op.f("fk_elimination_slip_organisation_id_organisation"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_elimination_slip")),
        sa.UniqueConstraint("organisation_id", "reference",
                            name=op.f("uq_elimination_slip_organisation_id")),
    )
    with op.batch_alter_table("elimination_slip", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_elimination_slip_organisation_id"),
                              ["organisation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_elimination_slip_status"), ["status"], unique=False)
    op.create_table(
        "elimination_slip_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slip_id", sa.Integer(), nullable=False),
        sa.Column("item_key", sa.String(length=200), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=True),
        sa.Column("service", sa.String(length=600), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("date_start", sa.Date(), nullable=True),
        sa.Column("date_end", sa.Date(), nullable=True),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("legal_reference", sa.String(length=300), nullable=True),
        sa.Column("fate", sa.String(length=40), nullable=False),
        sa.Column("target", sa.JSON(), nullable=False),
        sa.Column("executed_at", _at(), nullable=True),
        sa.ForeignKeyConstraint(["dataset_id"], ["dataset.id"],
                                name=op.f("fk_elimination_slip_item_dataset_id_dataset"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["slip_id"], ["elimination_slip.id"],
                                name=op.f("fk_elimination_slip_item_slip_id_elimination_slip"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_elimination_slip_item")),
    )
    with op.batch_alter_table("elimination_slip_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_elimination_slip_item_item_key"), ["item_key"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_elimination_slip_item_slip_id"), ["slip_id"],
                              unique=False)
    op.create_table(
        "retention_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", _at(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=True),
        sa.Column("activity_reference", sa.String(length=40), nullable=True),
        sa.Column("item_key", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("fate", sa.String(length=40), nullable=False),
        sa.Column("slip_id", sa.Integer(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_label", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["account.id"],
                                name=op.f("fk_retention_action_actor_id_account"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["dataset_id"], ["dataset.id"],
                                name=op.f("fk_retention_action_dataset_id_dataset"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"],
                                name=op.f("fk_retention_action_organisation_id_organisation"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["slip_id"], ["elimination_slip.id"],
                                name=op.f("fk_retention_action_slip_id_elimination_slip"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_action")),
    )
    with op.batch_alter_table("retention_action", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_retention_action_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_retention_action_organisation_id"),
                              ["organisation_id"], unique=False)


def downgrade() -> None:
    op.drop_table("retention_action")
    op.drop_table("elimination_slip_item")
    op.drop_table("elimination_slip")
    op.drop_table("dataset_retention")
