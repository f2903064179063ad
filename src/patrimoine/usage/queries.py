"""Read-only figures of usage for the tiers above (the charter): when datasets were last
viewed or downloaded on the portal."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from patrimoine.usage.models import DatasetDailyUsage


def last_read(session: Session, dataset_ids: Collection[int]) -> dict[int, date]:
    """The last day each dataset was viewed or downloaded (datasets never read left out)."""
    if not dataset_ids:
        return {}
    u = DatasetDailyUsage
    return {dataset_id: day for dataset_id, day in session.execute(
        select(u.dataset_id, func.max(u.day))
        .where(u.dataset_id.in_(list(dataset_ids)), or_(u.views > 0, u.downloads > 0))
        .group_by(u.dataset_id))}
