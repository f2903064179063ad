"""View and download counters per dataset and day, without personal data.

Only (dataset, day, views, downloads) is stored: nothing that identifies a visitor. Obvious
robots are not counted (their user agent is read, never kept).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Subquery, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from patrimoine.core.clock import now
from patrimoine.usage.models import DatasetDailyUsage

POPULARITY_DAYS = 90
_ROBOT_WORDS = ("bot", "crawler", "spider", "slurp", "curl/", "wget/", "python-requests",
                "headless")


def is_robot(user_agent: str | None) -> bool:
    text = (user_agent or "").lower()
    return not text or any(w in text for w in _ROBOT_WORDS)


def today() -> date:
    return now().date()


def _bump(session: Session, dataset_id: int, *, views: int = 0, downloads: int = 0) -> None:
    # One statement that inserts the day's row or adds to it: safe under concurrent requests.
    values: dict[str, Any] = {"dataset_id": dataset_id, "day": today(), "views": views,
                              "downloads": downloads}
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(DatasetDailyUsage).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["dataset_id", "day"],
        set_={"views": DatasetDailyUsage.views + views,
              "downloads": DatasetDailyUsage.downloads + downloads},
    )
    session.execute(stmt)


def record_view(session: Session, dataset_id: int) -> None:
    _bump(session, dataset_id, views=1)


def record_download(session: Session, dataset_id: int) -> None:
    _bump(session, dataset_id, downloads=1)


def popularity(days: int = POPULARITY_DAYS) -> Subquery:
    """(dataset_id, score): views plus downloads over the last `days` days."""
    since = today() - timedelta(days=days)
    return (
        select(DatasetDailyUsage.dataset_id.label("dataset_id"),
               func.sum(DatasetDailyUsage.views + DatasetDailyUsage.downloads).label("score"))
        .where(DatasetDailyUsage.day >= since)
        .group_by(DatasetDailyUsage.dataset_id)
        .subquery()
    )


def totals(session: Session, dataset_id: int) -> tuple[int, int]:
    """All-time (views, downloads) of a dataset."""
    row = session.execute(
        select(func.coalesce(func.sum(DatasetDailyUsage.views), 0),
               func.coalesce(func.sum(DatasetDailyUsage.downloads), 0))
        .where(DatasetDailyUsage.dataset_id == dataset_id)
    ).one()
    return int(row[0]), int(row[1])
