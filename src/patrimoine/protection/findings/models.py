"""Tables of the personal-data findings of dataset versions (migration pf0001).

- `personal_data_scan`: one per scanned version (a scan may find nothing);
- `personal_data_finding`: what the scanner found in one column of one version, or a
  column carried over as pseudonymised by an anonymisation (still personal data);
- `personal_data_decision`: what a person decided about a (dataset, column, kind): the
  key the scanner keeps stable, so a decision holds for every later version;
- `anonymisation`: a version derived from another by drop / mask / pseudonymise /
  generalise operations, with the operations applied (never the pseudonymisation key).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from patrimoine.core.clock import now
from patrimoine.core.db import Base, UTCDateTime
from patrimoine.datastore.models import DatasetVersion

# Decisions a person records about a finding.
CONFIRMED = "confirmed"  # it is personal data (the finding stands, publication stays blocked)
NOT_PERSONAL = "not_personal"  # the DPO says it is not personal data
ACCEPTED = "accepted"  # the DPO accepts publishing it, with a reason
DECISIONS = (CONFIRMED, NOT_PERSONAL, ACCEPTED)
DISMISSALS = (NOT_PERSONAL, ACCEPTED)

DECISION_LABELS = {
    CONFIRMED: "confirmé : donnée personnelle",
    NOT_PERSONAL: "écarté par le DPO : pas une donnée personnelle",
    ACCEPTED: "accepté par le DPO avec motif",
}

# Where a finding comes from.
ORIGIN_SCAN = "scan"
ORIGIN_PSEUDONYMISATION = "pseudonymisation"


class PersonalDataScan(Base):
    __tablename__ = "personal_data_scan"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("dataset_version.id", ondelete="CASCADE"), unique=True)
    scanned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    sampled_rows: Mapped[int] = mapped_column(Integer, default=0)
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    scanned_by: Mapped[str] = mapped_column(String(300), default="")

    version: Mapped[DatasetVersion] = relationship()


class PersonalDataFinding(Base):
    __tablename__ = "personal_data_finding"
    __table_args__ = (UniqueConstraint("version_id", "column", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("dataset_version.id", ondelete="CASCADE"), index=True)
    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("dataset.id", ondelete="CASCADE"), index=True)
    column: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20))
    share: Mapped[float] = mapped_column(Float, default=0.0)
    count: Mapped[int] = mapped_column(Integer, default=0)
    sampled: Mapped[int] = mapped_column(Integer, default=0)
    examples: Mapped[list[str]] = mapped_column(JSON, default=list)  # masked
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    severity: Mapped[str] = mapped_column(String(10), default="medium")
    reason: Mapped[str] = mapped_column(Text, default="")
    origin: Mapped[str] = mapped_column(String(20), default=ORIGIN_SCAN)
    # The anonymisation operation applied to this column in this version ("drop", "mask",
    # "generalise"), which clears the finding; None when nothing was applied.
    cleared_by: Mapped[str | None] = mapped_column(String(20), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    # The decision the scanner proposes ("not_personal": a public place's address or
    # telephone…); the DPO decides.
    suggestion: Mapped[str | None] = mapped_column(String(20), nullable=True)

    @property
    def key(self) -> tuple[str, str]:
        return (self.column, self.kind)


class PersonalDataDecision(Base):
    __tablename__ = "personal_data_decision"
    __table_args__ = (UniqueConstraint("dataset_id", "column", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("dataset.id", ondelete="CASCADE"), index=True)
    column: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20))
    decision: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    decided_by: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"), nullable=True)
    decided_by_label: Mapped[str] = mapped_column(String(300), default="")
    # The version the decision was taken on (a number: versions may be removed later).
    version_number: Mapped[int] = mapped_column(Integer, default=0)


class Anonymisation(Base):
    __tablename__ = "anonymisation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("dataset.id", ondelete="CASCADE"), index=True)
    source_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("dataset_version.id", ondelete="SET NULL"), nullable=True)
    result_version_id: Mapped[int] = mapped_column(
        ForeignKey("dataset_version.id", ondelete="CASCADE"), unique=True)
    source_number: Mapped[int] = mapped_column(Integer)
    # [{"op": "drop"|"mask"|"pseudonymise"|"generalise", "column": ..., options...}]
    operations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Identifies the pseudonymisation key (its file name), never the key itself.
    key_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"), nullable=True)
    created_by_label: Mapped[str] = mapped_column(String(300), default="")
