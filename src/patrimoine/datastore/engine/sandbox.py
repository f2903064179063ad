"""The sandbox a query runs in: DuckDB connections that can read nothing but their own
layout, under limits the operator sets, and the time guard that interrupts a query over
its time limit.

Layout connections are read-only, with external file access disabled (no `read_parquet`,
`read_csv`, `ATTACH`, `COPY`), extension loading off and the configuration locked (no
`SET`: no limit can be lifted from a query). A version without a layout (not built yet, or
its build failed) is read from its Parquet file by an in-memory connection under the same
rules, whose one readable file is that Parquet file (`open_parquet`). Every connection
spills to `<data_dir>/tmp/duckdb` (never the working directory), within the temporary
space the settings allow. One watchdog thread interrupts the queries whose time is up.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import duckdb

from patrimoine.core.errors import PatrimoineError
from patrimoine.core.settings import Settings


class QueryTimeout(PatrimoineError):
    status = 503
    exit_code = 7


class TooManyRows(PatrimoineError):
    status = 422
    exit_code = 2


@dataclass(frozen=True)
class Limits:
    """What a query may use: the settings of the same names (see core/settings.py)."""

    query_time_limit_seconds: float
    export_time_limit_seconds: float
    max_page_size: int
    max_aggregate_rows: int
    duckdb_memory_limit: str
    duckdb_threads: int
    layout_memory_limit: str
    layout_threads: int
    duckdb_temp_space: str
    temp_directory: str  # where DuckDB spills: <data_dir>/tmp/duckdb

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        values = {f.name: getattr(settings, f.name) for f in fields(cls)
                  if f.name != "temp_directory"}
        return cls(**values, temp_directory=str(temp_directory(settings.data_dir)))


def temp_directory(data_dir: Path) -> Path:
    """Where DuckDB spills what does not fit in its memory limit (inside the data folder)."""
    return Path(data_dir).resolve() / "tmp" / "duckdb"


def duckdb_config(limits: Limits, *, build: bool = False) -> dict[str, Any]:
    """The configuration of every DuckDB database the engine opens (`build`: of the one a
    layout is built in, under the build's own memory and threads)."""
    Path(limits.temp_directory).mkdir(parents=True, exist_ok=True)
    return {"threads": limits.layout_threads if build else limits.duckdb_threads,
            "memory_limit": limits.layout_memory_limit if build else limits.duckdb_memory_limit,
            "temp_directory": limits.temp_directory,
            "max_temp_directory_size": limits.duckdb_temp_space,
            "preserve_insertion_order": True, "autoinstall_known_extensions": False,
            "autoload_known_extensions": False}


def _lock(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """No file access and no SET from now on (the temporary directory, set before, is still
    used for spilling)."""
    # A database still open in this process (an evicted table in use) is shared, already
    # locked.
    locked = con.execute("SELECT current_setting('lock_configuration')").fetchone()
    if not (locked and locked[0]):
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    return con


def open_read_only(path: Path, limits: Limits) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path), read_only=True, config=duckdb_config(limits))
    try:
        return _lock(con)
    except BaseException:
        con.close()
        raise


def open_parquet(parquet: Path, view: str, limits: Limits) -> duckdb.DuckDBPyConnection:
    """An in-memory connection whose `records` is the view `view` (SQL reading `parquet`
    with read_parquet, written by the engine) and which can read no other file."""
    con = duckdb.connect(":memory:", config=duckdb_config(limits))
    try:
        con.execute("SET allowed_paths = ?", [[str(parquet)]])
        con.execute(f"CREATE VIEW records AS {view}")
        return _lock(con)
    except BaseException:
        con.close()
        raise


@contextmanager
def time_guard(cursor: duckdb.DuckDBPyConnection, seconds: float) -> Iterator[None]:
    """Interrupt the cursor's query after `seconds`: QueryTimeout, with a French message."""
    deadline = _watchdog.watch(cursor, seconds)
    try:
        yield
    except (duckdb.InterruptException, OSError) as exc:
        # Arrow readers report DuckDB's interruption as an OSError.
        if isinstance(exc, duckdb.InterruptException) or "INTERRUPT" in str(exc):
            shown = f"{seconds:g}".replace(".", ",")
            raise QueryTimeout(
                f"La requête a dépassé la durée maximale autorisée ({shown} s) et a été "
                "interrompue. Ajoutez des filtres ou demandez moins de données."
            ) from exc
        raise
    finally:
        deadline.cancel()


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
