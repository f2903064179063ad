"""Tables of sovereignty: applications, the hosting strategy, contracts and their clauses.

- `application` (+ `application_change`, its history): one application of the information
  system, where it runs (`hosting_mode`, `host`), where its data lie (`location`, with the
  adequacy decision or the transfer tool outside the EU), and the sensitivity of the data
  it holds; `application_dataset` and `application_activity` link it to the inventory and
  to the GDPR register.
- `sensitivity_level`: the levels an organisation defines, each with the hosting modes and
  locations it allows (the hosting strategy).
- `contract` (+ `contract_change`), `charter_clause` (an organisation's clause set),
  `contract_clause` (a clause's status in one contract, with its evidence),
  `reversibility_test`, and the links of contracts to applications and activities.
- `charter_partner` / `partner_action`: those who signed the charter, and the actions they
  report each year.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from patrimoine.access.models import EntryChange
from patrimoine.core.clock import now
from patrimoine.core.db import Base, UTCDateTime, text_enum
from patrimoine.core.vocabulary import define
from patrimoine.inventory.models import Dataset
from patrimoine.protection.register.models import ProcessingActivity


class ApplicationStatus(StrEnum):
    PLANNED = "planned"
    IN_SERVICE = "in_service"
    BEING_REPLACED = "being_replaced"
    RETIRED = "retired"


define(ApplicationStatus, {
    ApplicationStatus.PLANNED: "En projet",
    ApplicationStatus.IN_SERVICE: "En service",
    ApplicationStatus.BEING_REPLACED: "En cours de remplacement",
    ApplicationStatus.RETIRED: "Retirée",
}, {"production": ApplicationStatus.IN_SERVICE, "actif": ApplicationStatus.IN_SERVICE,
    "active": ApplicationStatus.IN_SERVICE, "projet": ApplicationStatus.PLANNED,
    "a remplacer": ApplicationStatus.BEING_REPLACED, "retire": ApplicationStatus.RETIRED,
    "arretee": ApplicationStatus.RETIRED, "decommissionnee": ApplicationStatus.RETIRED})


class HostingMode(StrEnum):
    OWN = "own"
    PUBLIC_BODY = "public_body"
    PRIVATE_HOST = "private_host"
    SAAS = "saas"


define(HostingMode, {
    HostingMode.OWN: "Infrastructure de la collectivité",
    HostingMode.PUBLIC_BODY: "Mutualisation publique (syndicat, GIP, SPL)",
    HostingMode.PRIVATE_HOST: "Hébergeur privé",
    HostingMode.SAAS: "SaaS",
}, {"interne": HostingMode.OWN, "on premise": HostingMode.OWN, "local": HostingMode.OWN,
    "collectivite": HostingMode.OWN, "datacenter interne": HostingMode.OWN,
    "mutualisation": HostingMode.PUBLIC_BODY, "syndicat": HostingMode.PUBLIC_BODY,
    "gip": HostingMode.PUBLIC_BODY, "spl": HostingMode.PUBLIC_BODY,
    "hebergeur": HostingMode.PRIVATE_HOST, "prive": HostingMode.PRIVATE_HOST,
    "cloud": HostingMode.SAAS, "logiciel en ligne": HostingMode.SAAS})


class DataLocation(StrEnum):
    FRANCE = "france"
    EU = "eu"
    ADEQUACY = "adequacy"
    THIRD_COUNTRY = "third_country"


define(DataLocation, {
    DataLocation.FRANCE: "France",
    DataLocation.EU: "Union européenne / EEE",
    DataLocation.ADEQUACY: "Pays adéquat",
    DataLocation.THIRD_COUNTRY: "Autre pays tiers",
}, {"ue": DataLocation.EU, "union europeenne": DataLocation.EU, "eee": DataLocation.EU,
    "europe": DataLocation.EU, "pays tiers": DataLocation.THIRD_COUNTRY,
    "hors ue": DataLocation.THIRD_COUNTRY, "adequation": DataLocation.ADEQUACY})


class TransferTool(StrEnum):
    SCC = "scc"
    BCR = "bcr"
    DEROGATION = "art49"


define(TransferTool, {
    TransferTool.SCC: "Clauses contractuelles types",
    TransferTool.BCR: "Règles d'entreprise contraignantes",
    TransferTool.DEROGATION: "Dérogation de l'article 49",
}, {"cct": TransferTool.SCC, "ccs": TransferTool.SCC, "bcr": TransferTool.BCR,
    "article 49": TransferTool.DEROGATION, "derogation": TransferTool.DEROGATION})


class Certification(StrEnum):
    SECNUMCLOUD = "secnumcloud"
    HDS = "hds"
    ISO27001 = "iso27001"


define(Certification, {
    Certification.SECNUMCLOUD: "SecNumCloud",
    Certification.HDS: "HDS",
    Certification.ISO27001: "ISO/IEC 27001",
}, {"iso 27001": Certification.ISO27001, "27001": Certification.ISO27001,
    "iso iec 27001": Certification.ISO27001, "hebergeur de donnees de sante": Certification.HDS})


# Countries taken for an EU/EEA location or an adequacy decision, so that a country alone
# says where data lie (folded names, as core.text.key writes them).
EU_EEA_COUNTRIES = frozenset({
    "allemagne", "autriche", "belgique", "bulgarie", "chypre", "croatie", "danemark",
    "espagne", "estonie", "finlande", "grece", "hongrie", "irlande", "italie", "lettonie",
    "lituanie", "luxembourg", "malte", "pays bas", "pologne", "portugal", "republique tcheque",
    "roumanie", "slovaquie", "slovenie", "suede", "islande", "liechtenstein", "norvege"})
ADEQUACY_COUNTRIES = frozenset({
    "andorre", "argentine", "canada", "iles feroe", "guernesey", "israel", "ile de man",
    "japon", "jersey", "nouvelle zelande", "republique de coree", "coree du sud", "suisse",
    "royaume uni", "uruguay", "etats unis"})


application_dataset = Table(
    "application_dataset", Base.metadata,
    Column("application_id", ForeignKey("application.id", ondelete="CASCADE"),
           primary_key=True),
    Column("dataset_id", ForeignKey("dataset.id", ondelete="CASCADE"), primary_key=True,
           index=True),
)

application_activity = Table(
    "application_activity", Base.metadata,
    Column("application_id", ForeignKey("application.id", ondelete="CASCADE"),
           primary_key=True),
    Column("activity_id", ForeignKey("processing_activity.id", ondelete="CASCADE"),
           primary_key=True, index=True),
)


class SensitivityLevel(Base):
    """One level of data sensitivity an organisation defines, and what hosting it allows."""

    __tablename__ = "sensitivity_level"
    __table_args__ = (UniqueConstraint("organisation_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(200))
    rank: Mapped[int] = mapped_column(Integer, default=0)
    allowed_modes: Mapped[list[str]] = mapped_column(JSON, default=list)
    allowed_locations: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Certifications an external host must hold at this level (an own host needs none).
    required_certifications: Mapped[list[str]] = mapped_column(JSON, default=list)


class Application(Base):
    """One application of an organisation's information system."""

    __tablename__ = "application"
    __table_args__ = (UniqueConstraint("organisation_id", "reference"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True, default=lambda: uuid.uuid4().hex)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    # Short code unique in the organisation ("APP-0042"), the key of re-imports.
    reference: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(300))
    vendor: Mapped[str | None] = mapped_column(String(300))
    purpose: Mapped[str] = mapped_column(Text, default="")
    department: Mapped[str | None] = mapped_column(String(300))
    business_owner: Mapped[str | None] = mapped_column(String(300))
    technical_owner: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[ApplicationStatus] = mapped_column(
        text_enum(ApplicationStatus), default=ApplicationStatus.IN_SERVICE, index=True)
    hosting_mode: Mapped[HostingMode] = mapped_column(text_enum(HostingMode), index=True)
    host: Mapped[str | None] = mapped_column(String(300))
    location: Mapped[DataLocation] = mapped_column(text_enum(DataLocation), index=True)
    country: Mapped[str | None] = mapped_column(String(100))
    adequacy_decision: Mapped[str | None] = mapped_column(String(300))
    transfer_tool: Mapped[TransferTool | None] = mapped_column(text_enum(TransferTool))
    # The provider, or its parent company, is subject to a non-EU law with extraterritorial
    # reach (e.g. the US CLOUD Act).
    non_eu_law_exposure: Mapped[bool] = mapped_column(Boolean, default=False,
                                                      server_default=false())
    certifications: Mapped[list[str]] = mapped_column(JSON, default=list)
    sensitivity: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)

    datasets: Mapped[list[Dataset]] = relationship(
        secondary=application_dataset, order_by="Dataset.title")
    activities: Mapped[list[ProcessingActivity]] = relationship(
        secondary=application_activity, order_by="ProcessingActivity.reference")


class ApplicationChange(EntryChange, Base):
    """The history of an application: who changed which fields, when."""

    __tablename__ = "application_change"

    application_id: Mapped[int] = mapped_column(
        ForeignKey("application.id", ondelete="CASCADE"), index=True)


# Contracts


class ContractKind(StrEnum):
    PUBLIC_CONTRACT = "public_contract"
    CONCESSION = "concession"
    CONVENTION = "convention"
    SUBSCRIPTION = "subscription"


define(ContractKind, {
    ContractKind.PUBLIC_CONTRACT: "Marché public",
    ContractKind.CONCESSION: "Concession / DSP",
    ContractKind.CONVENTION: "Convention",
    ContractKind.SUBSCRIPTION: "Abonnement",
}, {"marche": ContractKind.PUBLIC_CONTRACT, "dsp": ContractKind.CONCESSION,
    "delegation de service public": ContractKind.CONCESSION})


class ClauseStatus(StrEnum):
    PRESENT = "present"
    ABSENT = "absent"
    NEGOTIATED = "negotiated"
    NOT_APPLICABLE = "not_applicable"


define(ClauseStatus, {
    ClauseStatus.PRESENT: "Présente",
    ClauseStatus.ABSENT: "Absente",
    ClauseStatus.NEGOTIATED: "Négociée",
    ClauseStatus.NOT_APPLICABLE: "Sans objet",
}, {"presente": ClauseStatus.PRESENT, "negociee": ClauseStatus.NEGOTIATED,
    "sans objet": ClauseStatus.NOT_APPLICABLE, "na": ClauseStatus.NOT_APPLICABLE})


class TestResult(StrEnum):
    __test__ = False  # not a pytest class

    SUCCESS = "success"
    PARTIAL = "partial"
    FAILURE = "failure"


define(TestResult, {
    TestResult.SUCCESS: "Réussi",
    TestResult.PARTIAL: "Partiel",
    TestResult.FAILURE: "Échec",
})


contract_application = Table(
    "contract_application", Base.metadata,
    Column("contract_id", ForeignKey("contract.id", ondelete="CASCADE"), primary_key=True),
    Column("application_id", ForeignKey("application.id", ondelete="CASCADE"),
           primary_key=True, index=True),
)

contract_activity = Table(
    "contract_activity", Base.metadata,
    Column("contract_id", ForeignKey("contract.id", ondelete="CASCADE"), primary_key=True),
    Column("activity_id", ForeignKey("processing_activity.id", ondelete="CASCADE"),
           primary_key=True, index=True),
)


class CharterClause(Base):
    """One clause of an organisation's charter, as contracts should carry it."""

    __tablename__ = "charter_clause"
    __table_args__ = (UniqueConstraint("organisation_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text, default="")
    rank: Mapped[int] = mapped_column(Integer, default=0)
    # The reversibility watch looks at the clause carrying this flag.
    reversibility: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Contract(Base):
    __tablename__ = "contract"
    __table_args__ = (UniqueConstraint("organisation_id", "reference"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True, default=lambda: uuid.uuid4().hex)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    reference: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[ContractKind] = mapped_column(
        text_enum(ContractKind), default=ContractKind.PUBLIC_CONTRACT)
    supplier_name: Mapped[str] = mapped_column(String(300))
    supplier_siret: Mapped[str | None] = mapped_column(String(14), index=True)
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date, index=True)
    notice_months: Mapped[int | None] = mapped_column(Integer)
    # The supplier processes personal data on the authority's behalf (GDPR Art. 28).
    processor: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)

    applications: Mapped[list[Application]] = relationship(
        secondary=contract_application, order_by="Application.reference")
    activities: Mapped[list[ProcessingActivity]] = relationship(
        secondary=contract_activity, order_by="ProcessingActivity.reference")
    clauses: Mapped[list[ContractClause]] = relationship(
        back_populates="contract", cascade="all, delete-orphan")
    tests: Mapped[list[ReversibilityTest]] = relationship(
        back_populates="contract", cascade="all, delete-orphan",
        order_by="ReversibilityTest.tested_on")


class ContractChange(EntryChange, Base):
    __tablename__ = "contract_change"

    contract_id: Mapped[int] = mapped_column(
        ForeignKey("contract.id", ondelete="CASCADE"), index=True)


class ContractClause(Base):
    """The status of one charter clause in one contract, with its evidence."""

    __tablename__ = "contract_clause"
    __table_args__ = (UniqueConstraint("contract_id", "clause_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id", ondelete="CASCADE"))
    clause_id: Mapped[int] = mapped_column(
        ForeignKey("charter_clause.id", ondelete="CASCADE"), index=True)
    status: Mapped[ClauseStatus] = mapped_column(text_enum(ClauseStatus))
    # Where the contract says it ("CCAP art. 12.3"), and a file or link proving it.
    article: Mapped[str | None] = mapped_column(String(300))
    evidence: Mapped[str | None] = mapped_column(String(1000))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)

    contract: Mapped[Contract] = relationship(back_populates="clauses")
    clause: Mapped[CharterClause] = relationship()


class ReversibilityTest(Base):
    """A test of getting the data back from the supplier: when, what came, how it went."""

    __tablename__ = "reversibility_test"
    __test__ = False

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(
        ForeignKey("contract.id", ondelete="CASCADE"), index=True)
    tested_on: Mapped[date] = mapped_column(Date)
    formats: Mapped[list[str]] = mapped_column(JSON, default=list)
    result: Mapped[TestResult] = mapped_column(text_enum(TestResult))
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(300), default="")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)

    contract: Mapped[Contract] = relationship(back_populates="tests")


# Charter partners


class PartnerKind(StrEnum):
    COMPANY = "company"
    ASSOCIATION = "association"
    PUBLIC_BODY = "public_body"


define(PartnerKind, {
    PartnerKind.COMPANY: "Entreprise",
    PartnerKind.ASSOCIATION: "Association",
    PartnerKind.PUBLIC_BODY: "Organisme public",
}, {"societe": PartnerKind.COMPANY, "asso": PartnerKind.ASSOCIATION,
    "etablissement public": PartnerKind.PUBLIC_BODY})


class CharterPartner(Base):
    """A company, association or public body that signed the organisation's charter."""

    __tablename__ = "charter_partner"
    __table_args__ = (UniqueConstraint("organisation_id", "siren"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    siren: Mapped[str] = mapped_column(String(9))
    kind: Mapped[PartnerKind] = mapped_column(text_enum(PartnerKind))
    signed_on: Mapped[date] = mapped_column(Date)
    # The signed charter: a file name in the authority's records, or a link.
    document: Mapped[str | None] = mapped_column(String(1000))
    commitments: Mapped[str] = mapped_column(Text, default="")
    renewal_on: Mapped[date | None] = mapped_column(Date)
    # Shown on the public list of signatories.
    public: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)

    actions: Mapped[list[PartnerAction]] = relationship(
        back_populates="partner", cascade="all, delete-orphan",
        order_by="PartnerAction.year")


class PartnerAction(Base):
    """What a partner reported doing for the charter in one year."""

    __tablename__ = "partner_action"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("charter_partner.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)

    partner: Mapped[CharterPartner] = relationship(back_populates="actions")
