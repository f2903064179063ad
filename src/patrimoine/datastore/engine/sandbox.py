"""The sandbox a query runs in: DuckDB connections that can read nothing but their own
layout, and the time guard that interrupts a query over its time limit.

Layout connections are read-only, with external file access disabled (no `read_parquet`,
`read_csv`, `ATTACH`, `COPY`), extension loading off and the configuration locked (no
`SET`), under the memory and thread limits. One watchdog thread interrupts the queries
whose time is up.
"""

from __future__ import annotations

import heapq
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from patrimoine.core.errors import PatrimoineError


class QueryTimeout(PatrimoineError):
    status = 503
    exit_code = 7


class TooManyRows(PatrimoineError):
    status = 422
    exit_code = 2


@dataclass(frozen=True)
class Limits:
    """Resources one query may use. Defaults suit a 2-core machine."""

    memory_limit: str = "1GB"
    threads: int = 2
    time_limit_s: float = 10.0
    export_time_limit_s: float = 900.0
    max_rows: int = 10_000
    max_page_size: int = 1_000


DEFAULT_LIMITS = Limits()


def open_read_only(path: Path, limits: Limits) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(
        str(path),
        read_only=True,
        config={
            "enable_external_access": False,
            "preserve_insertion_order": True,
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "threads": limits.threads,
            "memory_limit": limits.memory_limit,
        },
    )
    # A layout still open in this process (an evicted table in use) shares its database,
    # already locked.
    locked = con.execute("SELECT current_setting('lock_configuration')").fetchone()
    if not (locked and locked[0]):
        con.execute("SET lock_configuration = true")
    return con


class _Deadline:
    """A pending interruption; cancel() when the query finished in time."""

    __slots__ = ("cancelled", "cursor")

    def __init__(self, cursor: duckdb.DuckDBPyConnection) -> None:
        self.cursor = cursor
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class _Watchdog:
    """One thread interrupting the queries whose time is up (no thread per query)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, _Deadline]] = []
        self._cond = threading.Condition()
        self._counter = 0
        self._thread: threading.Thread | None = None

    def watch(self, cursor: duckdb.DuckDBPyConnection, seconds: float) -> _Deadline:
        deadline = _Deadline(cursor)
        with self._cond:
            self._counter += 1
            heapq.heappush(self._heap, (time.monotonic() + seconds, self._counter, deadline))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="duckdb-watchdog",
                                                daemon=True)
                self._thread.start()
            self._cond.notify()
        return deadline

    def _run(self) -> None:
        with self._cond:
            while True:
                while self._heap and self._heap[0][2].cancelled:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait()
                    continue
                due = self._heap[0][0] - time.monotonic()
                if due > 0:
                    self._cond.wait(min(due, 1.0))
                    continue
                _, _, deadline = heapq.heappop(self._heap)
                if not deadline.cancelled:
                    try:
                        deadline.cursor.interrupt()
                    except duckdb.Error:  # finished and closed meanwhile
                        pass


_watchdog = _Watchdog()


def interrupt_after(cur: duckdb.DuckDBPyConnection, seconds: float) -> _Deadline:
    return _watchdog.watch(cur, seconds)


def timeout_error(seconds: float) -> QueryTimeout:
    shown = f"{seconds:g}".replace(".", ",")
    return QueryTimeout(
        f"La requête a dépassé la durée maximale autorisée ({shown} s) et a été interrompue. "
        "Ajoutez des filtres ou demandez moins de données."
    )

