"""The annual report's editions: one row per edition of a report for (an organisation or the
whole instance, a year).

A draft holds the narrative the authority writes (preface, highlights, one text per chapter,
Markdown); its figures are computed live each time it is shown. Publishing freezes it:
`snapshot` keeps every figure (with how and when it was computed) and the rules, deviations
and actions given, `html` keeps the rendered report; neither changes afterwards. A new
edition of the same report is a new row, numbered after the last published one.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from patrimoine.core.clock import now
from patrimoine.core.db import Base, UTCDateTime, text_enum
from patrimoine.core.vocabulary import define


class EditionStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


define(EditionStatus, {EditionStatus.DRAFT: "Brouillon", EditionStatus.PUBLISHED: "Publié"})


class AnnualReport(Base):
    __tablename__ = "annual_report"
    # One row per edition of a report; the instance's report (no organisation) counts as 0,
    # so that two people opening the next edition at once cannot both do it.
    __table_args__ = (Index("uq_annual_report_edition", text("coalesce(organisation_id, 0)"),
                            "year", "edition", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # None: the report of the whole instance (every organisation).
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    edition: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[EditionStatus] = mapped_column(
        text_enum(EditionStatus), default=EditionStatus.DRAFT, index=True)
    title: Mapped[str] = mapped_column(String(300))
    preface: Mapped[str] = mapped_column(Text, default="")
    highlights: Mapped[str] = mapped_column(Text, default="")
    chapters: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # chapter key -> text
    as_of: Mapped[date | None] = mapped_column(Date)  # the figures' date, set on publication
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    html: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    published_by: Mapped[str | None] = mapped_column(String(300))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
