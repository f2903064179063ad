"""Organisations, their departments, and the dataset inventory with its history; the
inventory's enumerations with their French labels and the words accepted for them."""

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
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from patrimoine.core.clock import now
from patrimoine.core.db import Base, UTCDateTime, text_enum
from patrimoine.core.vocabulary import define


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


# French labels, and the other words people write for them in inventories (folded).
_LABELS: dict[type[StrEnum], dict[StrEnum, str]] = {
    Source: {Source.INTERNAL: "Interne", Source.EXTERNAL: "Externe",
             Source.BOTH: "Interne/Externe"},
    YesNoUndefined: {
        YesNoUndefined.YES: "Oui",
        YesNoUndefined.NO: "Non",
        YesNoUndefined.UNDEFINED: "À définir",
    },
    AccessLevel: {
        AccessLevel.OPEN: "Ouvert",
        AccessLevel.RESTRICTED: "Restreint",
        AccessLevel.INTERNAL: "Interne",
    },
    LifecycleStage: {
        LifecycleStage.COLLECTED: "Collecté",
        LifecycleStage.STORED: "Stocké",
        LifecycleStage.PUBLISHED: "Publié",
        LifecycleStage.ARCHIVED: "Archivé",
        LifecycleStage.DELETED: "Supprimé",
    },
    UpdateFrequency: {
        UpdateFrequency.CONTINUOUS: "En continu",
        UpdateFrequency.DAILY: "Quotidienne",
        UpdateFrequency.WEEKLY: "Hebdomadaire",
        UpdateFrequency.MONTHLY: "Mensuelle",
        UpdateFrequency.QUARTERLY: "Trimestrielle",
        UpdateFrequency.SEMIANNUAL: "Semestrielle",
        UpdateFrequency.ANNUAL: "Annuelle",
        UpdateFrequency.IRREGULAR: "Irrégulière",
        UpdateFrequency.PUNCTUAL: "Ponctuelle",
        UpdateFrequency.UNKNOWN: "Inconnue",
    },
    OrganisationKind: {
        OrganisationKind.METROPOLE: "Métropole",
        OrganisationKind.AGGLOMERATION: "Communauté d'agglomération",
        OrganisationKind.VILLE: "Ville",
        OrganisationKind.COMMUNE: "Commune",
        OrganisationKind.CCAS: "CCAS",
        OrganisationKind.SYNDICAT: "Syndicat",
        OrganisationKind.OTHER: "Autre",
    },
}

_SYNONYMS: dict[type[StrEnum], dict[str, StrEnum]] = {
    Source: {
        "interne": Source.INTERNAL,
        "internal": Source.INTERNAL,
        "externe": Source.EXTERNAL,
        "external": Source.EXTERNAL,
        "interne externe": Source.BOTH,
        "externe interne": Source.BOTH,
        "interne et externe": Source.BOTH,
        "mixte": Source.BOTH,
        "les deux": Source.BOTH,
        "both": Source.BOTH,
    },
    YesNoUndefined: {
        "oui": YesNoUndefined.YES,
        "o": YesNoUndefined.YES,
        "yes": YesNoUndefined.YES,
        "vrai": YesNoUndefined.YES,
        "x": YesNoUndefined.YES,
        "1": YesNoUndefined.YES,
        "non": YesNoUndefined.NO,
        "n": YesNoUndefined.NO,
        "no": YesNoUndefined.NO,
        "faux": YesNoUndefined.NO,
        "0": YesNoUndefined.NO,
        "a definir": YesNoUndefined.UNDEFINED,
        "a determiner": YesNoUndefined.UNDEFINED,
        "a preciser": YesNoUndefined.UNDEFINED,
        "ne sait pas": YesNoUndefined.UNDEFINED,
        "nsp": YesNoUndefined.UNDEFINED,
        "inconnu": YesNoUndefined.UNDEFINED,
        "undefined": YesNoUndefined.UNDEFINED,
        "": YesNoUndefined.UNDEFINED,
    },
    AccessLevel: {
        "ouvert": AccessLevel.OPEN,
        "open": AccessLevel.OPEN,
        "public": AccessLevel.OPEN,
        "open data": AccessLevel.OPEN,
        "restreint": AccessLevel.RESTRICTED,
        "restricted": AccessLevel.RESTRICTED,
        "ferme": AccessLevel.RESTRICTED,
        "closed data": AccessLevel.RESTRICTED,
        "interne": AccessLevel.INTERNAL,
        "internal": AccessLevel.INTERNAL,
    },
    UpdateFrequency: {
        "continu": UpdateFrequency.CONTINUOUS,
        "en continu": UpdateFrequency.CONTINUOUS,
        "temps reel": UpdateFrequency.CONTINUOUS,
        "au fil de l eau": UpdateFrequency.CONTINUOUS,
        "quotidien": UpdateFrequency.DAILY,
        "quotidienne": UpdateFrequency.DAILY,
        "journalier": UpdateFrequency.DAILY,
        "journaliere": UpdateFrequency.DAILY,
        "tous les jours": UpdateFrequency.DAILY,
        "hebdomadaire": UpdateFrequency.WEEKLY,
        "chaque semaine": UpdateFrequency.WEEKLY,
        "mensuel": UpdateFrequency.MONTHLY,
        "mensuelle": UpdateFrequency.MONTHLY,
        "chaque mois": UpdateFrequency.MONTHLY,
        "trimestriel": UpdateFrequency.QUARTERLY,
        "trimestrielle": UpdateFrequency.QUARTERLY,
        "semestriel": UpdateFrequency.SEMIANNUAL,
        "semestrielle": UpdateFrequency.SEMIANNUAL,
        "2 fois par an": UpdateFrequency.SEMIANNUAL,
        "annuel": UpdateFrequency.ANNUAL,
        "annuelle": UpdateFrequency.ANNUAL,
        "chaque annee": UpdateFrequency.ANNUAL,
        "une fois par an": UpdateFrequency.ANNUAL,
        "irregulier": UpdateFrequency.IRREGULAR,
        "irreguliere": UpdateFrequency.IRREGULAR,
        "variable": UpdateFrequency.IRREGULAR,
        "a la demande": UpdateFrequency.IRREGULAR,
        "ponctuel": UpdateFrequency.PUNCTUAL,
        "ponctuelle": UpdateFrequency.PUNCTUAL,
        "unique": UpdateFrequency.PUNCTUAL,
        "aucune": UpdateFrequency.PUNCTUAL,
        "jamais": UpdateFrequency.PUNCTUAL,
        "inconnue": UpdateFrequency.UNKNOWN,
        "inconnu": UpdateFrequency.UNKNOWN,
        "a definir": UpdateFrequency.UNKNOWN,
        "": UpdateFrequency.UNKNOWN,
    },
}

for _kind, _labels in _LABELS.items():
    define(_kind, _labels, _SYNONYMS.get(_kind))


class Organisation(Base):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)
    kind: Mapped[OrganisationKind] = mapped_column(text_enum(OrganisationKind, 32))
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
    source: Mapped[Source | None] = mapped_column(text_enum(Source, 32))
    producer: Mapped[str | None] = mapped_column(String(300))
    confidentiality: Mapped[YesNoUndefined] = mapped_column(
        text_enum(YesNoUndefined, 32), default=YesNoUndefined.UNDEFINED
    )
    sharing: Mapped[YesNoUndefined] = mapped_column(
        text_enum(YesNoUndefined, 32), default=YesNoUndefined.UNDEFINED
    )
    access_level: Mapped[AccessLevel] = mapped_column(
        text_enum(AccessLevel, 32), default=AccessLevel.INTERNAL
    )
    contains_personal_data: Mapped[bool | None] = mapped_column(Boolean)
    cost_per_year: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    update_frequency: Mapped[UpdateFrequency] = mapped_column(
        text_enum(UpdateFrequency, 32), default=UpdateFrequency.UNKNOWN
    )
    licence: Mapped[str | None] = mapped_column(String(60))
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    spatial_coverage: Mapped[str | None] = mapped_column(String(300))
    temporal_start: Mapped[date | None] = mapped_column(Date)
    temporal_end: Mapped[date | None] = mapped_column(Date)
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(200))
    lifecycle_stage: Mapped[LifecycleStage] = mapped_column(
        text_enum(LifecycleStage, 32), default=LifecycleStage.STORED
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
