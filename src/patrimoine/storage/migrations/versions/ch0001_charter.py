"""charter: engagements, rules, evaluations, deviations, action plan

Revision ID: ch0001
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import patrimoine.core.db

revision: str = "ch0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table("charter_engagement",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("code", sa.String(length=60), nullable=False),
    sa.Column("title", sa.String(length=300), nullable=False),
    sa.Column("text", sa.Text(), nullable=False),
    sa.Column("rank", sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_charter_engagement")),
    sa.UniqueConstraint("code", name=op.f("uq_charter_engagement_code"))
    )
    op.create_table("charter_run",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("at", patrimoine.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column("organisation_ids", sa.JSON(), nullable=True),
    sa.Column("scope", sa.String(length=300), nullable=False),
    sa.Column("actor_label", sa.String(length=300), nullable=False),
    sa.Column("seconds", sa.Float(), nullable=False),
    sa.Column("highest_failed", sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_charter_run"))
    )
    with op.batch_alter_table("charter_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_charter_run_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_charter_run_scope"), ["scope"], unique=False)

    op.create_table("charter_settings",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("title", sa.String(length=300), nullable=False),
    sa.Column("preamble", sa.Text(), nullable=False),
    sa.Column("approver_roles", sa.JSON(), nullable=False),
    sa.Column("publish_deviations", sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column("updated_at", patrimoine.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_charter_settings"))
    )
    op.create_table("charter_action",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("engagement_id", sa.Integer(), nullable=False),
    sa.Column("organisation_id", sa.Integer(), nullable=True),
    sa.Column("title", sa.String(length=300), nullable=False),
    sa.Column("owner", sa.String(length=300), nullable=False),
    sa.Column("due_on", sa.Date(), nullable=False),
    sa.Column("rule_ids", sa.JSON(), nullable=False),
    sa.Column("evidence", sa.Text(), nullable=False),
    sa.Column("started_on", sa.Date(), nullable=True),
    sa.Column("done_on", sa.Date(), nullable=True),
    sa.Column("created_at", patrimoine.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column("updated_at", patrimoine.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["engagement_id"], ["charter_engagement.id"], name=op.f("fk_charter_action_engagement_id_charter_engagement"), ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], name=op.f("fk_charter_action_organisation_id_organisation"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_charter_action"))
    )
    with op.batch_alter_table("charter_action", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_charter_action_engagement_id"), ["engagement_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_charter_action_organisation_id"), ["organisation_id"], unique=False)

    op.create_table("charter_deviation",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("rule_id", sa.String(length=100), nullable=False),
    sa.Column("item", sa.String(length=200), nullable=True),
    sa.Column("item_label", sa.String(length=600), nullable=False),
    sa.Column("organisation_id", sa.Integer(), nullable=True),
    sa.Column("justification", sa.Text(), nullable=False),
    sa.Column("approver_role", sa.String(length=40), nullable=False),
    sa.Column("approved_by", sa.String(length=300), nullable=False),
    sa.Column("starts_on", sa.Date(), nullable=False),
    sa.Column("expires_on", sa.Date(), nullable=False),
    sa.Column("link", sa.String(length=1000), nullable=True),
    sa.Column("created_at", patrimoine.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], name=op.f("fk_charter_deviation_organisation_id_organisation"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_charter_deviation"))
    )
    with op.batch_alter_table("charter_deviation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_charter_deviation_expires_on"), ["expires_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_charter_deviation_organisation_id"), ["organisation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_charter_deviation_rule_id"), ["rule_id"], unique=False)

    op.create_table("charter_failure",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("engagement", sa.String(length=60), nullable=False),
    sa.Column("rule_id", sa.String(length=100), nullable=False),
    sa.Column("item", sa.String(length=200), nullable=False),
    sa.Column("organisation_id", sa.Integer(), nullable=True),
    sa.Column("label", sa.String(length=600), nullable=False),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("link", sa.String(length=600), nullable=False),
    sa.Column("outcome", sa.String(length=20), nullable=False),
    sa.Column("first_failed_at", patrimoine.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column("last_run_id", sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(["last_run_id"], ["charter_run.id"], name=op.f("fk_charter_failure_last_run_id_charter_run"), ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], name=op.f("fk_charter_failure_organisation_id_organisation"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_charter_failure")),
    sa.UniqueConstraint("engagement", "rule_id", "item", name=op.f("uq_charter_failure_engagement"))
    )
    with op.batch_alter_table("charter_failure", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_charter_failure_last_run_id"), ["last_run_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_charter_failure_organisation_id"), ["organisation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_charter_failure_rule_id"), ["rule_id"], unique=False)

    op.create_table("charter_rule_setting",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("engagement_id", sa.Integer(), nullable=False),
    sa.Column("rule_id", sa.String(length=100), nullable=False),
    sa.Column("organisation_id", sa.Integer(), nullable=True),
    sa.Column("parameters", sa.JSON(), nullable=False),
    sa.Column("enabled", sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(["engagement_id"], ["charter_engagement.id"], name=op.f("fk_charter_rule_setting_engagement_id_charter_engagement"), ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], name=op.f("fk_charter_rule_setting_organisation_id_organisation"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_charter_rule_setting")),
    sa.UniqueConstraint("engagement_id", "rule_id", "organisation_id", name=op.f("uq_charter_rule_setting_engagement_id"))
    )
    with op.batch_alter_table("charter_rule_setting", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_charter_rule_setting_engagement_id"), ["engagement_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_charter_rule_setting_organisation_id"), ["organisation_id"], unique=False)

    op.create_table("charter_run_rule",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("run_id", sa.Integer(), nullable=False),
    sa.Column("engagement", sa.String(length=60), nullable=False),
    sa.Column("rule_id", sa.String(length=100), nullable=False),
    sa.Column("severity", sa.String(length=20), nullable=False),
    sa.Column("passed", sa.Integer(), nullable=False),
    sa.Column("failed", sa.Integer(), nullable=False),
    sa.Column("deviations", sa.Integer(), nullable=False),
    sa.Column("not_applicable", sa.Integer(), nullable=False),
    sa.Column("seconds", sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(["run_id"], ["charter_run.id"], name=op.f("fk_charter_run_rule_run_id_charter_run"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_charter_run_rule"))
    )
    with op.batch_alter_table("charter_run_rule", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_charter_run_rule_run_id"), ["run_id"], unique=False)



def downgrade() -> None:
    with op.batch_alter_table("charter_run_rule", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_charter_run_rule_run_id"))

    op.drop_table("charter_run_rule")
    with op.batch_alter_table("charter_rule_setting", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_charter_rule_setting_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_charter_rule_setting_engagement_id"))

    op.drop_table("charter_rule_setting")
    with op.batch_alter_table("charter_failure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_charter_failure_rule_id"))
        batch_op.drop_index(batch_op.f("ix_charter_failure_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_charter_failure_last_run_id"))

    op.drop_table("charter_failure")
    with op.batch_alter_table("charter_deviation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_charter_deviation_rule_id"))
        batch_op.drop_index(batch_op.f("ix_charter_deviation_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_charter_deviation_expires_on"))

    op.drop_table("charter_deviation")
    with op.batch_alter_table("charter_action", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_charter_action_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_charter_action_engagement_id"))

    op.drop_table("charter_action")
    op.drop_table("charter_settings")
    with op.batch_alter_table("charter_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_charter_run_scope"))
        batch_op.drop_index(batch_op.f("ix_charter_run_at"))

    op.drop_table("charter_run")
    op.drop_table("charter_engagement")
