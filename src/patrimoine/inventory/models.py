"""Organisations, their departments, and the dataset inventory with its history."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from patrimoine.core.clock import now
from patrimoine.core.db import Base, UTCDateTime


def _enum(cls: type[StrEnum]) -> Enum:
    return Enum(cls, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e])


class OrganisationKind(StrEnum):
    METROPOLE = "metropole"
    AGGLOMERATION = "agglomeration"
    VILLE = "ville"
    COMMUNE = "commune"
    CCAS = "ccas"
    SYNDICAT = "syndicat"
    OTHER = "autre"


class Source(StrEnum):
    INTERNAL = "internal"
    EXTERNAL = "external"
    BOTH = "both"


class YesNoUndefined(StrEnum):
    YES = "yes"
    NO = "no"
    UNDEFINED = "undefined"


class AccessLevel(StrEnum):
    OPEN = "open"
    RESTRICTED = "restricted"
    INTERNAL = "internal"


class LifecycleStage(StrEnum):
    COLLECTED = "collected"
    STORED = "stored"
    PUBLISHED = "published"
    ARCHIVED = "archived"
    DELETED = "deleted"


class UpdateFrequency(StrEnum):
    CONTINUOUS = "continuous"
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    SEMIANNUAL = "semiannual"
    ANNUAL = "annual"
    IRREGULAR = "irregular"
    PUNCTUAL = "punctual"
    UNKNOWN = "unknown"


class Organisation(Base):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)
    kind: Mapped[OrganisationKind] = mapped_column(_enum(OrganisationKind))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    siren: Mapped[str | None] = mapped_column(String(9))
    website: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)

    departments: Mapped[list[Department]] = relationship(
        back_populates="organisation", order_by="Department.name"
    )


class Department(Base):
    """A direction or service of an organisation."""

    __tablename__ = "department"
    __table_args__ = (UniqueConstraint("organisation_id", "slug"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(120))
    name: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)

    organisation: Mapped[Organisation] = relationship(back_populates="departments")


class Dataset(Base):
    """One entry of the inventory: a dataset the authority holds, open or closed."""

    __tablename__ = "dataset"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Never changes, even when title or slug do: the base of stable public URIs.
    uid: Mapped[str] = mapped_column(String(32), unique=True, default=lambda: uuid.uuid4().hex)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    theme: Mapped[str | None] = mapped_column(String(200), index=True)
    source: Mapped[Source | None] = mapped_column(_enum(Source))
    producer: Mapped[str | None] = mapped_column(String(300))
    confidentiality: Mapped[YesNoUndefined] = mapped_column(
        _enum(YesNoUndefined), default=YesNoUndefined.UNDEFINED
    )
    sharing: Mapped[YesNoUndefined] = mapped_column(
        _enum(YesNoUndefined), default=YesNoUndefined.UNDEFINED
    )
    access_level: Mapped[AccessLevel] = mapped_column(
        _enum(AccessLevel), default=AccessLevel.INTERNAL
    )
    contains_personal_data: Mapped[bool | None] = mapped_column(Boolean)
    cost_per_year: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    update_frequency: Mapped[UpdateFrequency] = mapped_column(
        _enum(UpdateFrequency), default=UpdateFrequency.UNKNOWN
    )
    licence: Mapped[str | None] = mapped_column(String(60))
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    spatial_coverage: Mapped[str | None] = mapped_column(String(300))
    temporal_start: Mapped[date | None] = mapped_column(Date)
    temporal_end: Mapped[date | None] = mapped_column(Date)
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(200))
    lifecycle_stage: Mapped[LifecycleStage] = mapped_column(
        _enum(LifecycleStage), default=LifecycleStage.STORED
    )
    # Standard-shaped metadata that later capabilities add (DCAT-AP, retention...).
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Accent- and case-folded text that search indexes.
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now, index=True)

    organisation: Mapped[Organisation] = relationship()
    department: Mapped[Department | None] = relationship()


class DatasetChange(Base):
    """The history of an inventory entry: who changed what, when."""

    __tablename__ = "dataset_change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("dataset.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    actor_label: Mapped[str] = mapped_column(String(300))
    action: Mapped[str] = mapped_column(String(40))
    # {field: [old, new]} with JSON-friendly values.
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
