"""Usage counters of the public portal, kept without personal data.

One row per dataset and day with two numbers: no IP address, no user agent, no account,
no time of day is ever stored, so a row cannot be traced back to a visitor.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from patrimoine.core.db import Base


class DatasetDailyUsage(Base):
    __tablename__ = "dataset_daily_usage"
    __table_args__ = (UniqueConstraint("dataset_id", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("dataset.id", ondelete="CASCADE"), index=True
    )
    day: Mapped[date] = mapped_column(Date, index=True)
    views: Mapped[int] = mapped_column(Integer, default=0)
    downloads: Mapped[int] = mapped_column(Integer, default=0)
