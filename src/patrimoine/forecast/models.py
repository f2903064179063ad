"""A proposed order the canteen service changed by hand, with its reason: the agents stay in
charge, and the metrics compare the forecast, the adjusted order and the meals served."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from patrimoine.core.clock import now
from patrimoine.core.db import Base, UTCDateTime


class OrderAdjustment(Base):
    __tablename__ = "forecast_order_adjustment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    # The canteen (site name and type as the attendance file spells them); empty: the day.
    site_nom: Mapped[str] = mapped_column(String(200), default="")
    site_type: Mapped[str] = mapped_column(String(20), default="")
    proposed: Mapped[int | None] = mapped_column(Integer, nullable=True)
    adjusted: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True), default=now)
