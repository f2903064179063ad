"""Tables of retention: each dataset's rule, the elimination slips with their visa, and the
record of every action taken when applying the plan.

- `dataset_retention`: one structured rule per dataset (duration, unit, starting event, final
  fate, plus the event's date, the date column of row-level rules, the anonymisation plan);
  processing activities keep theirs in the register (`processing_activity.retention_rules`).
- `elimination_slip` / `elimination_slip_item`: a bordereau d'élimination proposed to the
  archives director (Code du patrimoine R212-14); nothing listed is destroyed before the visa
  (who, when, reference) is recorded.
- `retention_action`: what `retention apply` did, item by item.
- `legal_hold`: a gel juridique (litigation, CADA request, audit) on a dataset or one of its
  versions: while it holds, retention never destroys, purges, sorts nor transfers that data.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from patrimoine.core.clock import now
from patrimoine.core.db import Base, UTCDateTime, text_enum
from patrimoine.core.vocabulary import define
from patrimoine.retention.rules import DurationUnit, FinalFate, RetentionRule, StartEvent


class SlipStatus(StrEnum):
    AWAITING_VISA = "awaiting_visa"
    APPROVED = "approved"
    REFUSED = "refused"
    EXECUTED = "executed"


define(SlipStatus, {
    SlipStatus.AWAITING_VISA: "En attente du visa",
    SlipStatus.APPROVED: "Visé, élimination à exécuter",
    SlipStatus.REFUSED: "Visa refusé",
    SlipStatus.EXECUTED: "Élimination exécutée",
})


class DatasetRetention(Base):
    __tablename__ = "dataset_retention"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("dataset.id", ondelete="CASCADE"), unique=True)
    duration: Mapped[int] = mapped_column(Integer)
    unit: Mapped[DurationUnit] = mapped_column(text_enum(DurationUnit))
    start_event: Mapped[StartEvent] = mapped_column(text_enum(StartEvent))
    final_fate: Mapped[FinalFate] = mapped_column(text_enum(FinalFate))
    event_date: Mapped[date | None] = mapped_column(Date)
    date_column: Mapped[str | None] = mapped_column(String(200))
    legal_reference: Mapped[str | None] = mapped_column(String(300))
    anonymisation: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # When the data went to the archives (versement), and the package's path.
    transferred_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    set_by: Mapped[str] = mapped_column(String(300), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)

    def rule(self) -> RetentionRule:
        return RetentionRule(
            duration=self.duration, unit=self.unit, start_event=self.start_event,
            final_fate=self.final_fate, event_date=self.event_date,
            date_column=self.date_column, legal_reference=self.legal_reference,
            anonymisation=list(self.anonymisation or []))


class HoldKind(StrEnum):
    LITIGATION = "litigation"
    CADA = "cada"
    AUDIT = "audit"
    OTHER = "other"


define(HoldKind, {
    HoldKind.LITIGATION: "Contentieux",
    HoldKind.CADA: "Demande CADA (accès aux documents administratifs)",
    HoldKind.AUDIT: "Contrôle ou audit",
    HoldKind.OTHER: "Autre obligation de conserver",
})


class LegalHold(Base):
    """A legal hold: in force from `starts_on` until it is released or its `ends_on` has
    passed; a `review_on` date only asks for a review, it does not end the hold."""

    __tablename__ = "legal_hold"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"),
                                            index=True)
    # None: the whole dataset, every version present and future.
    version_number: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[HoldKind] = mapped_column(text_enum(HoldKind))
    reason: Mapped[str] = mapped_column(Text)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    review_on: Mapped[date | None] = mapped_column(Date)
    placed_by: Mapped[str] = mapped_column(String(300))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    released_by: Mapped[str | None] = mapped_column(String(300))
    release_reason: Mapped[str | None] = mapped_column(Text)

    def in_force(self, today: date) -> bool:
        return (self.released_at is None and self.starts_on <= today
                and (self.ends_on is None or today <= self.ends_on))


class EliminationSlip(Base):
    __tablename__ = "elimination_slip"
    __table_args__ = (UniqueConstraint("organisation_id", "reference"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    reference: Mapped[str] = mapped_column(String(40))
    status: Mapped[SlipStatus] = mapped_column(
        text_enum(SlipStatus), default=SlipStatus.AWAITING_VISA, index=True)
    # The service versant (the organisation, or its department when all items share one).
    service: Mapped[str] = mapped_column(String(600))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    created_by: Mapped[str] = mapped_column(String(300))
    visa_by: Mapped[str | None] = mapped_column(String(300))
    visa_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    visa_reference: Mapped[str | None] = mapped_column(String(200))
    visa_recorded_by: Mapped[str | None] = mapped_column(String(300))
    refusal_reason: Mapped[str | None] = mapped_column(Text)
    executed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The archives service the slip is addressed to (settings.archives_service).
    archives_service: Mapped[str | None] = mapped_column(String(300))
    # The legal holds that kept due data of the organisation off this slip (holds.py).
    holds: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)

    items: Mapped[list[EliminationSlipItem]] = relationship(
        back_populates="slip", order_by="EliminationSlipItem.id", cascade="all, delete-orphan")


class EliminationSlipItem(Base):
    __tablename__ = "elimination_slip_item"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slip_id: Mapped[int] = mapped_column(
        ForeignKey("elimination_slip.id", ondelete="CASCADE"), index=True)
    # The plan item's key: what apply destroys once the visa is recorded.
    item_key: Mapped[str] = mapped_column(String(200), index=True)
    dataset_id: Mapped[int | None] = mapped_column(ForeignKey("dataset.id", ondelete="SET NULL"))
    service: Mapped[str] = mapped_column(String(600))
    description: Mapped[str] = mapped_column(Text)
    date_start: Mapped[date | None] = mapped_column(Date)
    date_end: Mapped[date | None] = mapped_column(Date)
    rows: Mapped[int] = mapped_column(BigInteger, default=0)
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    rule: Mapped[str] = mapped_column(Text)
    legal_reference: Mapped[str | None] = mapped_column(String(300))
    fate: Mapped[str] = mapped_column(String(40))
    # What the visa authorises, exactly: {"action", "versions", "purge"?} (apply.py).
    target: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    executed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # What the execution destroyed: {"versions", "rows", "files", "bytes"} (apply.py).
    destroyed: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    slip: Mapped[EliminationSlip] = relationship(back_populates="items")


class RetentionAction(Base):
    __tablename__ = "retention_action"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now, index=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    dataset_id: Mapped[int | None] = mapped_column(ForeignKey("dataset.id", ondelete="SET NULL"))
    activity_reference: Mapped[str | None] = mapped_column(String(40))
    item_key: Mapped[str] = mapped_column(String(200))
    # destroy_versions | purge_rows | anonymise | transfer
    action: Mapped[str] = mapped_column(String(40))
    fate: Mapped[str] = mapped_column(String(40))
    slip_id: Mapped[int | None] = mapped_column(
        ForeignKey("elimination_slip.id", ondelete="SET NULL"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    actor_label: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
