"""View and download counters per dataset and day, without personal data.

Only (dataset, day, views, downloads) is stored: nothing that identifies a visitor. Obvious
robots are not counted (their user agent is read, never kept).

A page view is a read: it writes nothing. `UsageCounts` adds views and downloads up in
memory; `flush` writes them in one transaction, each as an UPSERT that *adds* to the day's
row, so that any number of processes each flushing their own counts stay correct. The web
application flushes every `FLUSH_SECONDS` in a background thread and once more at shutdown
(a process killed hard loses at most those seconds of counts).
"""

from __future__ import annotations

import logging
import threading
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Subquery, column, func, select, table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from patrimoine.core.clock import now
from patrimoine.core.db import Database
from patrimoine.usage.models import DatasetDailyUsage

POPULARITY_DAYS = 90
FLUSH_SECONDS = 5.0
log = logging.getLogger("patrimoine.usage")
_ROBOT_WORDS = ("bot", "crawler", "spider", "slurp", "curl/", "wget/", "python-requests",
                "headless")


def is_robot(user_agent: str | None) -> bool:
    text = (user_agent or "").lower()
    return not text or any(w in text for w in _ROBOT_WORDS)


def today() -> date:
    return now().date()


def add_counts(session: Session, dataset_id: int, day: date, *, views: int = 0,
               downloads: int = 0) -> None:
    """Add to a day's counters: one statement that inserts the row or adds to it, correct
    however many processes add at the same time."""
    values: dict[str, Any] = {"dataset_id": dataset_id, "day": day, "views": views,
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


_DATASET = table("dataset", column("id"))  # the table the counters refer to (inventory's)


class UsageCounts:
    """Views and downloads counted in memory until `flush` writes them (see the module doc).
    Safe to use from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[tuple[int, date], list[int]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def view(self, dataset_id: int) -> None:
        self._add(dataset_id, 0)

    def download(self, dataset_id: int) -> None:
        self._add(dataset_id, 1)

    def _add(self, dataset_id: int, which: int) -> None:
        key = (dataset_id, today())
        with self._lock:
            self._pending.setdefault(key, [0, 0])[which] += 1

    def pending(self, dataset_id: int) -> tuple[int, int]:
        """(views, downloads) of the dataset counted here and not written yet."""
        with self._lock:
            counts = [c for (d, _day), c in self._pending.items() if d == dataset_id]
        return sum(c[0] for c in counts), sum(c[1] for c in counts)

    def flush(self, db: Database) -> int:
        """Write what was counted (in one transaction); how many rows were added to. On
        failure the counts are kept for the next flush, and the error is raised."""
        with self._lock:
            taken, self._pending = self._pending, {}
        if not taken:
            return 0
        try:
            with db.unit_of_work() as session:
                # A dataset deleted since it was viewed has no row to count on any more.
                alive = set(session.scalars(select(_DATASET.c.id).where(
                    _DATASET.c.id.in_({d for d, _day in taken}))))
                for (dataset_id, day), (views, downloads) in sorted(taken.items()):
                    if dataset_id in alive:
                        add_counts(session, dataset_id, day, views=views, downloads=downloads)
        except BaseException:
            with self._lock:
                for key, (views, downloads) in taken.items():
                    counts = self._pending.setdefault(key, [0, 0])
                    counts[0] += views
                    counts[1] += downloads
            raise
        return len(taken)

    def start_flushing(self, db: Database, every: float = FLUSH_SECONDS) -> None:
        """Flush every `every` seconds in a background thread, until `stop_flushing`."""
        if self._thread is not None:
            return
        self._stop.clear()

        def run() -> None:
            while not self._stop.wait(every):
                try:
                    self.flush(db)
                except Exception:
                    log.exception("Compteurs de consultation : écriture impossible, "
                                  "nouvel essai au prochain passage")

        self._thread = threading.Thread(target=run, name="patrimoine-usage", daemon=True)
        self._thread.start()

    def stop_flushing(self, db: Database) -> None:
        """Stop the background thread, then write what is left (a failure is logged: the
        process is stopping)."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join()
        try:
            self.flush(db)
        except Exception:
            log.exception("Compteurs de consultation : écriture impossible à l'arrêt")


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


def totals(session: Session, dataset_id: int, counts: UsageCounts | None = None
           ) -> tuple[int, int]:
    """All-time (views, downloads) of a dataset, with those of `counts` not written yet."""
    row = session.execute(
        select(func.coalesce(func.sum(DatasetDailyUsage.views), 0),
               func.coalesce(func.sum(DatasetDailyUsage.downloads), 0))
        .where(DatasetDailyUsage.dataset_id == dataset_id)
    ).one()
    views, downloads = counts.pending(dataset_id) if counts is not None else (0, 0)
    return int(row[0]) + views, int(row[1]) + downloads
