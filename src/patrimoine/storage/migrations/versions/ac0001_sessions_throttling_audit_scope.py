"""access: server-side web sessions, failed logins, and the organisation of audit entries

Revision ID: ac0001
Revises: 0001
"""

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "ac0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("access",)
# The registers' tables, whose entries' organisations the audit entries inherit.
depends_on: str | Sequence[str] | None = ("pr0002", "rt0001")


def upgrade() -> None:
    op.create_table(
        "account_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"],
                                name=op.f("fk_account_session_account_id_account"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_session")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_account_session_secret_hash")),
    )
    with op.batch_alter_table("account_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_session_account_id"), ["account_id"])
        batch_op.create_index(batch_op.f("ix_account_session_expires_at"), ["expires_at"])
    op.create_table(
        "login_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=254), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failure")),
    )
    with op.batch_alter_table("login_failure", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_failure_at"), ["at"])
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("organisation_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_audit_event_organisation_id"), ["organisation_id"])
    _backfill_audit_organisations()


def _backfill_audit_organisations() -> None:
    """The organisation of the entries written before the column, where the target names it:
    a dataset (by uid or slug), an organisation, a department, or a register's entry."""
    bind = op.get_bind()

    def owners(sql: str) -> dict[str, int]:
        return {str(key): int(org) for key, org in bind.execute(sa.text(sql)) if org is not None}

    by_prefix: dict[str, dict[str, int]] = {
        "dataset": {**owners("SELECT slug, organisation_id FROM dataset"),
                    **owners("SELECT uid, organisation_id FROM dataset")},
        "organisation": owners("SELECT id, id FROM organisation"),
        "department": owners("SELECT id, organisation_id FROM department"),
        "processing_activity": owners("SELECT uid, organisation_id FROM processing_activity"),
        "dpia": owners("SELECT d.id, a.organisation_id FROM dpia d "
                       "JOIN processing_activity a ON a.id = d.activity_id"),
        "breach": owners("SELECT id, organisation_id FROM breach"),
        "rights_request": owners("SELECT id, organisation_id FROM rights_request"),
        "elimination_slip": owners("SELECT id, organisation_id FROM elimination_slip"),
    }
    events = sa.table("audit_event", sa.column("id", sa.Integer()),
                      sa.column("organisation_id", sa.Integer()))
    updates: list[dict[str, Any]] = []
    for event_id, target, details in bind.execute(
            sa.text("SELECT id, target, details FROM audit_event")):
        prefix, _, key = str(target).partition(":")
        org = by_prefix.get(prefix, {}).get(key)
        if org is None and prefix in by_prefix:
            found = details if isinstance(details, dict) else json.loads(details or "{}")
            org = found.get("organisation_id") if isinstance(found, dict) else None
        if isinstance(org, int):
            updates.append({"event_id": event_id, "org": org})
    if updates:
        bind.execute(events.update().where(events.c.id == sa.bindparam("event_id"))
                     .values(organisation_id=sa.bindparam("org")), updates)


def downgrade() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_organisation_id"))
        batch_op.drop_column("organisation_id")
    op.drop_table("login_failure")
    op.drop_table("account_session")
