"""sovereignty: applications, hosting strategy, contracts and their data clauses, reversibility
tests, charter partners

Revision ID: sv0001
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import patrimoine.core.db

revision: str = "sv0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("sovereignty",)
depends_on: str | Sequence[str] | None = ("pr0001",)  # application_activity cites it


def upgrade() -> None:

    op.create_table(
        "application",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("vendor", sa.String(length=300), nullable=True),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("department", sa.String(length=300), nullable=True),
        sa.Column("business_owner", sa.String(length=300), nullable=True),
        sa.Column("technical_owner", sa.String(length=300), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "planned",
                "in_service",
                "being_replaced",
                "retired",
                name="applicationstatus",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column(
            "hosting_mode",
            sa.Enum(
                "own",
                "public_body",
                "private_host",
                "saas",
                name="hostingmode",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("host", sa.String(length=300), nullable=True),
        sa.Column(
            "location",
            sa.Enum(
                "france",
                "eu",
                "adequacy",
                "third_country",
                name="datalocation",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("country", sa.String(length=100), nullable=True),
        sa.Column("adequacy_decision", sa.String(length=300), nullable=True),
        sa.Column(
            "transfer_tool",
            sa.Enum("scc", "bcr", "art49", name="transfertool", native_enum=False, length=40),
            nullable=True,
        ),
        sa.Column("non_eu_law_exposure", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("certifications", sa.JSON(), nullable=False),
        sa.Column("sensitivity", sa.String(length=40), nullable=True),
        sa.Column("created_at", patrimoine.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", patrimoine.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_application_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application")),
        sa.UniqueConstraint(
            "organisation_id", "reference", name=op.f("uq_application_organisation_id")
        ),
        sa.UniqueConstraint("uid", name=op.f("uq_application_uid")),
    )
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_application_hosting_mode"), ["hosting_mode"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_application_location"), ["location"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_application_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_application_status"), ["status"], unique=False)

    op.create_table(
        "charter_clause",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("reversibility", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_charter_clause_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_charter_clause")),
        sa.UniqueConstraint(
            "organisation_id", "code", name=op.f("uq_charter_clause_organisation_id")
        ),
    )
    with op.batch_alter_table("charter_clause", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_charter_clause_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "contract",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "public_contract",
                "concession",
                "convention",
                "subscription",
                name="contractkind",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("supplier_name", sa.String(length=300), nullable=False),
        sa.Column("supplier_siret", sa.String(length=14), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("notice_months", sa.Integer(), nullable=True),
        sa.Column("processor", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", patrimoine.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", patrimoine.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_contract_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract")),
        sa.UniqueConstraint(
            "organisation_id", "reference", name=op.f("uq_contract_organisation_id")
        ),
        sa.UniqueConstraint("uid", name=op.f("uq_contract_uid")),
    )
    with op.batch_alter_table("contract", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contract_end_date"), ["end_date"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_contract_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_contract_supplier_siret"), ["supplier_siret"], unique=False
        )

    op.create_table(
        "sensitivity_level",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("allowed_modes", sa.JSON(), nullable=False),
        sa.Column("allowed_locations", sa.JSON(), nullable=False),
        sa.Column("required_certifications", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_sensitivity_level_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sensitivity_level")),
        sa.UniqueConstraint(
            "organisation_id", "code", name=op.f("uq_sensitivity_level_organisation_id")
        ),
    )
    with op.batch_alter_table("sensitivity_level", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sensitivity_level_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "application_activity",
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["processing_activity.id"],
            name=op.f("fk_application_activity_activity_id_processing_activity"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["application.id"],
            name=op.f("fk_application_activity_application_id_application"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "application_id", "activity_id", name=op.f("pk_application_activity")
        ),
    )
    with op.batch_alter_table("application_activity", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_application_activity_activity_id"), ["activity_id"], unique=False
        )

    op.create_table(
        "application_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("at", patrimoine.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_label", sa.String(length=300), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["account.id"],
            name=op.f("fk_application_change_actor_id_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["application.id"],
            name=op.f("fk_application_change_application_id_application"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_change")),
    )
    with op.batch_alter_table("application_change", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_application_change_application_id"), ["application_id"], unique=False
        )

    op.create_table(
        "contract_activity",
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["processing_activity.id"],
            name=op.f("fk_contract_activity_activity_id_processing_activity"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contract.id"],
            name=op.f("fk_contract_activity_contract_id_contract"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("contract_id", "activity_id", name=op.f("pk_contract_activity")),
    )
    with op.batch_alter_table("contract_activity", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contract_activity_activity_id"), ["activity_id"], unique=False
        )

    op.create_table(
        "contract_application",
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["application.id"],
            name=op.f("fk_contract_application_application_id_application"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contract.id"],
            name=op.f("fk_contract_application_contract_id_contract"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "contract_id", "application_id", name=op.f("pk_contract_application")
        ),
    )
    with op.batch_alter_table("contract_application", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contract_application_application_id"), ["application_id"], unique=False
        )

    op.create_table(
        "contract_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("at", patrimoine.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_label", sa.String(length=300), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["account.id"],
            name=op.f("fk_contract_change_actor_id_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contract.id"],
            name=op.f("fk_contract_change_contract_id_contract"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract_change")),
    )
    with op.batch_alter_table("contract_change", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contract_change_contract_id"), ["contract_id"], unique=False
        )

    op.create_table(
        "contract_clause",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("clause_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "present",
                "absent",
                "negotiated",
                "not_applicable",
                name="clausestatus",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("article", sa.String(length=300), nullable=True),
        sa.Column("evidence", sa.String(length=1000), nullable=True),
        sa.Column("updated_at", patrimoine.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clause_id"],
            ["charter_clause.id"],
            name=op.f("fk_contract_clause_clause_id_charter_clause"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contract.id"],
            name=op.f("fk_contract_clause_contract_id_contract"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract_clause")),
        sa.UniqueConstraint(
            "contract_id", "clause_id", name=op.f("uq_contract_clause_contract_id")
        ),
    )
    with op.batch_alter_table("contract_clause", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contract_clause_clause_id"), ["clause_id"], unique=False
        )

    op.create_table(
        "reversibility_test",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("tested_on", sa.Date(), nullable=False),
        sa.Column("formats", sa.JSON(), nullable=False),
        sa.Column(
            "result",
            sa.Enum(
                "success", "partial", "failure", name="testresult", native_enum=False, length=40
            ),
            nullable=False,
        ),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=300), nullable=False),
        sa.Column("recorded_at", patrimoine.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contract.id"],
            name=op.f("fk_reversibility_test_contract_id_contract"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reversibility_test")),
    )
    with op.batch_alter_table("reversibility_test", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reversibility_test_contract_id"), ["contract_id"], unique=False
        )

    op.create_table(
        "application_dataset",
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["application.id"],
            name=op.f("fk_application_dataset_application_id_application"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
            name=op.f("fk_application_dataset_dataset_id_dataset"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "application_id", "dataset_id", name=op.f("pk_application_dataset")
        ),
    )
    with op.batch_alter_table("application_dataset", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_application_dataset_dataset_id"), ["dataset_id"], unique=False
        )

    op.create_table(
        "charter_partner",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("siren", sa.String(length=9), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "company",
                "association",
                "public_body",
                name="partnerkind",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("document", sa.String(length=1000), nullable=True),
        sa.Column("commitments", sa.Text(), nullable=False),
        sa.Column("renewal_on", sa.Date(), nullable=True),
        sa.Column("public", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", patrimoine.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_charter_partner_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_charter_partner")),
        sa.UniqueConstraint(
            "organisation_id", "siren", name=op.f("uq_charter_partner_organisation_id")
        ),
    )
    with op.batch_alter_table("charter_partner", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_charter_partner_organisation_id"), ["organisation_id"], unique=False
        )
    op.create_table(
        "partner_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("recorded_at", patrimoine.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["charter_partner.id"],
            name=op.f("fk_partner_action_partner_id_charter_partner"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_action")),
    )
    with op.batch_alter_table("partner_action", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_partner_action_partner_id"), ["partner_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("partner_action")
    op.drop_table("charter_partner")

    with op.batch_alter_table("application_dataset", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_application_dataset_dataset_id"))

    op.drop_table("application_dataset")
    with op.batch_alter_table("reversibility_test", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reversibility_test_contract_id"))

    op.drop_table("reversibility_test")
    with op.batch_alter_table("contract_clause", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contract_clause_clause_id"))

    op.drop_table("contract_clause")
    with op.batch_alter_table("contract_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contract_change_contract_id"))

    op.drop_table("contract_change")
    with op.batch_alter_table("contract_application", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contract_application_application_id"))

    op.drop_table("contract_application")
    with op.batch_alter_table("contract_activity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contract_activity_activity_id"))

    op.drop_table("contract_activity")
    with op.batch_alter_table("application_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_application_change_application_id"))

    op.drop_table("application_change")
    with op.batch_alter_table("application_activity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_application_activity_activity_id"))

    op.drop_table("application_activity")
    with op.batch_alter_table("sensitivity_level", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sensitivity_level_organisation_id"))

    op.drop_table("sensitivity_level")
    with op.batch_alter_table("contract", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contract_supplier_siret"))
        batch_op.drop_index(batch_op.f("ix_contract_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_contract_end_date"))

    op.drop_table("contract")
    with op.batch_alter_table("charter_clause", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_charter_clause_organisation_id"))

    op.drop_table("charter_clause")
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_application_status"))
        batch_op.drop_index(batch_op.f("ix_application_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_application_location"))
        batch_op.drop_index(batch_op.f("ix_application_hosting_mode"))

    op.drop_table("application")
