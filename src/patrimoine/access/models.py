"""Accounts, their roles per organisation, API tokens, web sessions, failed logins, the audit
log, and the counters of the registers' references (access/registers.py)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from patrimoine.core.clock import now
from patrimoine.core.db import Base, UTCDateTime


class Role(StrEnum):
    ADMINISTRATOR = "administrator"
    CHIEF_DATA_OFFICER = "chief_data_officer"
    DPO = "dpo"
    DATA_REFERENT = "data_referent"
    AGENT = "agent"
    PARTNER = "partner"


ROLE_LABELS = {
    Role.ADMINISTRATOR: "Administrateur",
    Role.CHIEF_DATA_OFFICER: "Administrateur général des données",
    Role.DPO: "Délégué à la protection des données",
    Role.DATA_REFERENT: "Référent données",
    Role.AGENT: "Agent",
    Role.PARTNER: "Partenaire",
}


class Account(Base):
    __tablename__ = "account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    # Instance administrator: every organisation, every setting.
    is_superadmin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="account", cascade="all, delete-orphan", lazy="selectin"
    )


class Membership(Base):
    """A role an account holds in one organisation (a referent also names a department)."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("account_id", "organisation_id", "role", "department_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"),
                                            index=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e])
    )
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("department.id", ondelete="CASCADE")
    )

    account: Mapped[Account] = relationship(back_populates="memberships")


class ApiToken(Base):
    """A personal API token; only its SHA-256 is stored, the token is shown once."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"),
                                            index=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuditEvent(Base):
    """Append-only, hash-chained record of reads of closed data and of every change."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_label: Mapped[str] = mapped_column(String(300))
    action: Mapped[str] = mapped_column(String(80), index=True)
    target: Mapped[str] = mapped_column(String(300))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    note: Mapped[str | None] = mapped_column(Text)
    # The organisation the entry is about, which scopes who reads it (permissions.
    # audit_organisations); None for the instance and the accounts. Derived from the target
    # (and filled in for older entries by a migration, hence outside their hash format 1).
    organisation_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # Which formula `hash` was computed with (access/audit.py): 1 for entries written before
    # the hash covered every column (their `note` must be empty), 2 since.
    hash_format: Mapped[int] = mapped_column(Integer, server_default="1")


class AccountSession(Base):
    """A web login, ended on the server by signing out or by a password change. The cookie
    holds the session's secret; only its SHA-256 is stored."""

    __tablename__ = "account_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"),
                                            index=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class LinkPurpose(StrEnum):
    INVITATION = "invitation"
    RESET = "reset"


class AccountLink(Base):
    """A one-time link that sets an account's password: an invitation or a reset. Only the
    secret's SHA-256 is stored; a link is used once and expires."""

    __tablename__ = "account_link"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"),
                                            index=True)
    purpose: Mapped[LinkPurpose] = mapped_column(
        Enum(LinkPurpose, native_enum=False, length=16,
             values_callable=lambda e: [m.value for m in e]))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Set once used, or once a newer link of the account replaced it.
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[int | None] = mapped_column(Integer)


class LoginFailure(Base):
    """One failed login, counted per account name and per source address (access/throttle.py).
    The name is kept as typed (folded), whether an account has it or not."""

    __tablename__ = "login_failure"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # "account" (the address typed) or "address" (the client's IP address).
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(254))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now, index=True)


class AuditHead(Base):
    """The audit chain's head as published on a day (the portal's /journal/empreintes): once
    copied by anyone outside, a rewrite of the chain up to it no longer goes unseen."""

    __tablename__ = "audit_head"

    day: Mapped[date] = mapped_column(Date, primary_key=True)  # Paris civil day
    last_id: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(Integer)  # entries up to last_id included
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)


class EntryChange:
    """The columns of a register entry's history row (who changed which fields, when); each
    register's history table adds the key of its entries (access/registers.record writes it)."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    actor_label: Mapped[str] = mapped_column(String(300))
    action: Mapped[str] = mapped_column(String(40))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class RegisterCounter(Base):
    """The last number drawn for the references of one register, organisation and year."""

    __tablename__ = "register_counter"

    # The register's table ("breach", "rights_request", "processing_activity"…).
    register: Mapped[str] = mapped_column(String(60), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True)
    # 0 for a register whose references do not start over each year.
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)
