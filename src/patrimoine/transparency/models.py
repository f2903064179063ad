"""Tables of the public algorithms register.

- `public_algorithm`: one algorithm used to take (or help take) individual decisions, with the
  fields of the Etalab inventory and of registers like the UK ATRS: who runs it, why, on what
  legal basis, how often, for whom, how automated, what kind, its parameters and weightings,
  its operations, the human oversight and appeal, its risks (and the DPIA of the GDPR register
  that assesses them), supplier, source code, the four documents Nantes publishes for each
  (description, diagram, technical document, commented source) and its publication state.
- `public_algorithm_dataset`: the inventory datasets it uses.
- `algorithm_request`: a person's request for the rules of a decision taken about them
  (R311-3-1-2) and its answer, given with the four items the article lists.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Date,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from patrimoine.core.clock import now
from patrimoine.core.db import Base, UTCDateTime, text_enum
from patrimoine.core.vocabulary import define
from patrimoine.inventory.models import Dataset
from patrimoine.sovereignty.models import Application, Contract


class Automation(StrEnum):
    FULLY_AUTOMATED = "fully_automated"
    DECISION_SUPPORT = "decision_support"


define(Automation, {
    Automation.FULLY_AUTOMATED: "Décision entièrement automatisée",
    Automation.DECISION_SUPPORT: "Aide à la décision",
}, {"automatique": Automation.FULLY_AUTOMATED, "aide": Automation.DECISION_SUPPORT})


class AlgorithmKind(StrEnum):
    RULES = "rules"
    STATISTICAL = "statistical"
    MACHINE_LEARNING = "machine_learning"


define(AlgorithmKind, {
    AlgorithmKind.RULES: "Règles explicites (barème, calcul)",
    AlgorithmKind.STATISTICAL: "Modèle statistique",
    AlgorithmKind.MACHINE_LEARNING: "Apprentissage automatique",
}, {"regles": AlgorithmKind.RULES, "bareme": AlgorithmKind.RULES,
    "statistique": AlgorithmKind.STATISTICAL, "ia": AlgorithmKind.MACHINE_LEARNING})


class AlgorithmStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


define(AlgorithmStatus, {
    AlgorithmStatus.DRAFT: "En préparation",
    AlgorithmStatus.PUBLISHED: "Publié",
    AlgorithmStatus.WITHDRAWN: "Retiré du service",
})


class DocumentKind(StrEnum):
    """The four documents Nantes publishes for each algorithm."""

    DESCRIPTION = "description"
    DIAGRAM = "diagram"
    TECHNICAL = "technical"
    SOURCE = "source"


define(DocumentKind, {
    DocumentKind.DESCRIPTION: "Description fonctionnelle",
    DocumentKind.DIAGRAM: "Logigramme",
    DocumentKind.TECHNICAL: "Document technique",
    DocumentKind.SOURCE: "Code source commenté",
})


class AlgorithmRequestStatus(StrEnum):
    RECEIVED = "received"
    ANSWERED = "answered"
    WITHDRAWN = "withdrawn"


define(AlgorithmRequestStatus, {
    AlgorithmRequestStatus.RECEIVED: "Reçue, en cours",
    AlgorithmRequestStatus.ANSWERED: "Répondue",
    AlgorithmRequestStatus.WITHDRAWN: "Retirée par la personne",
})

CLOSED_ALGORITHM_REQUESTS = (AlgorithmRequestStatus.ANSWERED, AlgorithmRequestStatus.WITHDRAWN)


algorithm_dataset = Table(
    "public_algorithm_dataset", Base.metadata,
    Column("algorithm_id", ForeignKey("public_algorithm.id", ondelete="CASCADE"),
           primary_key=True),
    Column("dataset_id", ForeignKey("dataset.id", ondelete="CASCADE"), primary_key=True),
)


algorithm_contract = Table(
    "public_algorithm_contract", Base.metadata,
    Column("algorithm_id", ForeignKey("public_algorithm.id", ondelete="CASCADE"),
           primary_key=True),
    Column("contract_id", ForeignKey("contract.id", ondelete="CASCADE"), primary_key=True),
)

algorithm_application = Table(
    "public_algorithm_application", Base.metadata,
    Column("algorithm_id", ForeignKey("public_algorithm.id", ondelete="CASCADE"),
           primary_key=True),
    Column("application_id", ForeignKey("application.id", ondelete="CASCADE"),
           primary_key=True),
)


class PublicAlgorithm(Base):
    __tablename__ = "public_algorithm"
    __table_args__ = (UniqueConstraint("organisation_id", "reference"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    reference: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(300))
    department: Mapped[str | None] = mapped_column(String(300))
    contact: Mapped[str] = mapped_column(String(300))
    purpose: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    decisions_per_year: Mapped[int | None] = mapped_column(Integer)
    public_concerned: Mapped[str] = mapped_column(Text, default="")
    automation: Mapped[Automation] = mapped_column(text_enum(Automation))
    kind: Mapped[AlgorithmKind] = mapped_column(text_enum(AlgorithmKind))
    # [{"name", "description", "weight"}]: the criteria and their weighting.
    parameters: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    operations: Mapped[str] = mapped_column(Text, default="")
    human_oversight: Mapped[str] = mapped_column(Text, default="")
    appeal: Mapped[str] = mapped_column(Text, default="")
    risks: Mapped[str] = mapped_column(Text, default="")
    dpia_id: Mapped[int | None] = mapped_column(ForeignKey("dpia.id", ondelete="SET NULL"))
    supplier: Mapped[str | None] = mapped_column(String(300))
    source_code_url: Mapped[str | None] = mapped_column(String(1000))
    source_code_licence: Mapped[str | None] = mapped_column(String(200))
    # {DocumentKind value: {"url", "title"}}: each of the four documents, as a link.
    documents: Mapped[dict[str, dict[str, str]]] = mapped_column(JSON, default=dict)
    status: Mapped[AlgorithmStatus] = mapped_column(
        text_enum(AlgorithmStatus), default=AlgorithmStatus.DRAFT, index=True)
    published_on: Mapped[date | None] = mapped_column(Date)
    review_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)

    datasets: Mapped[list[Dataset]] = relationship(secondary=algorithm_dataset,
                                                   order_by=Dataset.id)
    # The contracts under which it was bought or is run, the applications that run it.
    contracts: Mapped[list[Contract]] = relationship(secondary=algorithm_contract,
                                                     order_by=Contract.id)
    applications: Mapped[list[Application]] = relationship(secondary=algorithm_application,
                                                           order_by=Application.id)


class AlgorithmRequest(Base):
    __tablename__ = "algorithm_request"
    __table_args__ = (UniqueConstraint("organisation_id", "reference"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    algorithm_id: Mapped[int] = mapped_column(
        ForeignKey("public_algorithm.id", ondelete="CASCADE"), index=True)
    reference: Mapped[str] = mapped_column(String(40))
    requester: Mapped[str] = mapped_column(String(300))
    decision: Mapped[str] = mapped_column(Text, default="")
    received_on: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[AlgorithmRequestStatus] = mapped_column(
        text_enum(AlgorithmRequestStatus), default=AlgorithmRequestStatus.RECEIVED)
    answered_on: Mapped[date | None] = mapped_column(Date)
    # The four items of R311-3-1-2, in its order.
    contribution: Mapped[str | None] = mapped_column(Text)
    data_and_sources: Mapped[str | None] = mapped_column(Text)
    parameters_applied: Mapped[str | None] = mapped_column(Text)
    operations: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)

    algorithm: Mapped[PublicAlgorithm] = relationship()


# Data of general interest: requests to private holders and concession holders.


class HolderKind(StrEnum):
    CONCESSION_HOLDER = "concession_holder"
    COMPANY = "company"
    ASSOCIATION = "association"
    PUBLIC_BODY = "public_body"


define(HolderKind, {
    HolderKind.CONCESSION_HOLDER: "Délégataire ou concessionnaire",
    HolderKind.COMPANY: "Entreprise",
    HolderKind.ASSOCIATION: "Association",
    HolderKind.PUBLIC_BODY: "Organisme public",
})


class GeneralInterestBasis(StrEnum):
    CONCESSION = "concession"
    VOLUNTARY = "voluntary"
    OTHER_LAW = "other_law"


define(GeneralInterestBasis, {
    GeneralInterestBasis.CONCESSION: "Données de la concession (code de la commande publique)",
    GeneralInterestBasis.VOLUNTARY: "Accord volontaire",
    GeneralInterestBasis.OTHER_LAW: "Autre obligation légale",
})


class GeneralInterestState(StrEnum):
    ASKED = "asked"
    IN_DISCUSSION = "in_discussion"
    AGREED = "agreed"
    REFUSED = "refused"
    DELIVERED = "delivered"


define(GeneralInterestState, {
    GeneralInterestState.ASKED: "Demandées",
    GeneralInterestState.IN_DISCUSSION: "En discussion",
    GeneralInterestState.AGREED: "Accord obtenu",
    GeneralInterestState.REFUSED: "Refusées",
    GeneralInterestState.DELIVERED: "Livrées",
})


general_interest_dataset = Table(
    "general_interest_dataset", Base.metadata,
    Column("request_id", ForeignKey("general_interest_request.id", ondelete="CASCADE"),
           primary_key=True),
    Column("dataset_id", ForeignKey("dataset.id", ondelete="CASCADE"), primary_key=True),
)


class GeneralInterestRequest(Base):
    """A request for data of general interest to a private holder or a concession holder."""

    __tablename__ = "general_interest_request"
    __table_args__ = (UniqueConstraint("organisation_id", "reference"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    reference: Mapped[str] = mapped_column(String(40))
    holder: Mapped[str] = mapped_column(String(300))
    holder_kind: Mapped[HolderKind] = mapped_column(text_enum(HolderKind))
    holder_siren: Mapped[str | None] = mapped_column(String(9))
    data_asked: Mapped[str] = mapped_column(Text)
    basis: Mapped[GeneralInterestBasis] = mapped_column(text_enum(GeneralInterestBasis))
    basis_details: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[GeneralInterestState] = mapped_column(
        text_enum(GeneralInterestState), default=GeneralInterestState.ASKED, index=True)
    asked_on: Mapped[date] = mapped_column(Date)
    discussion_on: Mapped[date | None] = mapped_column(Date)
    decided_on: Mapped[date | None] = mapped_column(Date)
    delivered_on: Mapped[date | None] = mapped_column(Date)
    agreement_url: Mapped[str | None] = mapped_column(String(1000))
    public_summary: Mapped[str] = mapped_column(Text, default="")
    public: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)

    datasets: Mapped[list[Dataset]] = relationship(secondary=general_interest_dataset,
                                                   order_by=Dataset.id)
