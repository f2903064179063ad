"""Tables of the GDPR register: processing activities and their history, impact
assessments (DPIA), data subjects' requests and breaches.

List-shaped fields (processors, retention rules, recipients…) are JSON columns whose shape
is declared and validated by the pydantic inputs of register/service.py.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from patrimoine.access.models import EntryChange
from patrimoine.core.clock import now
from patrimoine.core.db import Base, UTCDateTime, text_enum
from patrimoine.protection.register.vocabulary import (
    ActivityStatus,
    Art9Condition,
    BreachRisk,
    DpiaDecision,
    LegalBasis,
    RequestKind,
    RequestStatus,
)


class ProcessingActivity(Base):
    """One entry of an organisation's register (Article 30(1) GDPR, CNIL model)."""

    __tablename__ = "processing_activity"
    __table_args__ = (UniqueConstraint("organisation_id", "reference"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True, default=lambda: uuid.uuid4().hex)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    # Short code unique in the organisation ("T-0042"), the key of spreadsheet round trips.
    reference: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(300))
    status: Mapped[ActivityStatus] = mapped_column(
        text_enum(ActivityStatus), default=ActivityStatus.ACTIVE)
    department: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    controller_representative: Mapped[str | None] = mapped_column(String(300))
    joint_controllers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    processors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    dpo_name: Mapped[str | None] = mapped_column(String(200))
    dpo_contact: Mapped[str | None] = mapped_column(String(300))
    purpose: Mapped[str] = mapped_column(Text, default="")
    sub_purposes: Mapped[list[str]] = mapped_column(JSON, default=list)
    legal_basis: Mapped[LegalBasis | None] = mapped_column(text_enum(LegalBasis))
    legal_basis_details: Mapped[str | None] = mapped_column(Text)
    art9_condition: Mapped[Art9Condition | None] = mapped_column(text_enum(Art9Condition))
    data_subjects: Mapped[list[str]] = mapped_column(JSON, default=list)
    estimated_data_subjects: Mapped[int | None] = mapped_column(Integer)
    data_categories: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    special_categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    recipients: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    transfers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    retention_rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    security_measures: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    data_sources: Mapped[list[str]] = mapped_column(JSON, default=list)
    source_details: Mapped[str | None] = mapped_column(Text)
    linked_datasets: Mapped[list[str]] = mapped_column(JSON, default=list)
    linked_applications: Mapped[list[str]] = mapped_column(JSON, default=list)
    dpia_criteria: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Why no DPIA is needed despite the criteria (e.g. on the CNIL's exemption list).
    dpia_exemption: Mapped[str | None] = mapped_column(Text)
    # Shown on the organisation's public register page (the keepers choose, entry by entry).
    public: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)

    dpias: Mapped[list[Dpia]] = relationship(
        back_populates="activity", order_by="Dpia.id", cascade="all, delete-orphan")


class ProcessingActivityChange(EntryChange, Base):
    """The history of a register entry: who changed which fields, when."""

    __tablename__ = "processing_activity_change"

    activity_id: Mapped[int] = mapped_column(
        ForeignKey("processing_activity.id", ondelete="CASCADE"), index=True)


class Dpia(Base):
    """An impact assessment (Article 35) of one processing activity."""

    __tablename__ = "dpia"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    activity_id: Mapped[int] = mapped_column(
        ForeignKey("processing_activity.id", ondelete="CASCADE"), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    necessity_proportionality: Mapped[str] = mapped_column(Text, default="")
    # [{kind, description, likelihood 1-4, severity 1-4}]
    risks: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    measures: Mapped[list[str]] = mapped_column(JSON, default=list)
    dpo_opinion: Mapped[str | None] = mapped_column(Text)
    dpo_opinion_on: Mapped[date | None] = mapped_column(Date)
    decision: Mapped[DpiaDecision] = mapped_column(
        text_enum(DpiaDecision), default=DpiaDecision.PENDING)
    decision_by: Mapped[str | None] = mapped_column(String(200))
    decided_on: Mapped[date | None] = mapped_column(Date)
    started_on: Mapped[date] = mapped_column(Date)
    review_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)

    activity: Mapped[ProcessingActivity] = relationship(back_populates="dpias")


class RightsRequest(Base):
    """A data subject's request (Articles 15 to 22 and 7(3)) and its legal clock."""

    __tablename__ = "rights_request"
    __table_args__ = (UniqueConstraint("organisation_id", "reference"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    activity_id: Mapped[int | None] = mapped_column(
        ForeignKey("processing_activity.id", ondelete="SET NULL"))
    reference: Mapped[str] = mapped_column(String(40))
    kind: Mapped[RequestKind] = mapped_column(text_enum(RequestKind))
    requester: Mapped[str] = mapped_column(String(300))
    channel: Mapped[str | None] = mapped_column(String(100))
    details: Mapped[str] = mapped_column(Text, default="")
    received_on: Mapped[date] = mapped_column(Date, index=True)
    identity_requested_on: Mapped[date | None] = mapped_column(Date)
    identity_verified_on: Mapped[date | None] = mapped_column(Date)
    extension_informed_on: Mapped[date | None] = mapped_column(Date)
    extension_reasons: Mapped[str | None] = mapped_column(Text)
    status: Mapped[RequestStatus] = mapped_column(
        text_enum(RequestStatus), default=RequestStatus.RECEIVED)
    answered_on: Mapped[date | None] = mapped_column(Date)
    answer: Mapped[str | None] = mapped_column(Text)
    refusal_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)


class Breach(Base):
    """A personal-data breach as Article 33(5) requires it to be documented."""

    __tablename__ = "breach"
    __table_args__ = (UniqueConstraint("organisation_id", "reference"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    activity_id: Mapped[int | None] = mapped_column(
        ForeignKey("processing_activity.id", ondelete="SET NULL"))
    reference: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    aware_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    natures: Mapped[list[str]] = mapped_column(JSON, default=list)
    data_categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    special_categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    persons_approx: Mapped[int | None] = mapped_column(Integer)
    records_approx: Mapped[int | None] = mapped_column(Integer)
    consequences: Mapped[str] = mapped_column(Text, default="")
    risk: Mapped[BreachRisk] = mapped_column(text_enum(BreachRisk), default=BreachRisk.TO_ASSESS)
    no_risk_reason: Mapped[str | None] = mapped_column(Text)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cnil_reference: Mapped[str | None] = mapped_column(String(100))
    late_notification_reasons: Mapped[str | None] = mapped_column(Text)
    persons_informed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    persons_information_reason: Mapped[str | None] = mapped_column(Text)
    measures: Mapped[str] = mapped_column(Text, default="")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
