"""Opened versions: `VersionTable` (a version's columns, its layout and the means to query
it), the process's cache of opened tables, and restricted views of them.

`open_file` / `open_version` open a version's layout (engine/layout.py) read-only in the
sandbox (engine/sandbox.py). Each process keeps one connection per layout and limits, and
gives every query its own cursor.

Until a version's layout exists, or when it cannot be built, the version is read from its
Parquet file directly (`VersionTable.laid_out` is False): same queries, same answers, at
the speed of DuckDB on the file. Layout builds run one at a time per data folder (a file
lock), under their own memory limit. A failed build is recorded beside where its layout
would be (`<layout>.failed.json`: the reason in French, the attempts, when to try again)
and not tried again before its backoff has passed (`BUILD_RETRY_S`, growing with each
attempt), so that no request pays for it twice; staff read it with `layout_state`.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import mmap
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from patrimoine.core.clock import now
from patrimoine.core.errors import PatrimoineError
from patrimoine.core.settings import Settings
from patrimoine.datastore.engine.layout import (
    CACHE_DIR,
    Progress,
    build_layout,
    build_sort_positions,
    layout_path,
    remove_older_layouts,
    row_store_paths,
    search_column_name,
)
from patrimoine.datastore.engine.sandbox import (
    Limits,
    QueryTimeout,
    TooManyRows,
    open_parquet,
    open_read_only,
    time_guard,
)
from patrimoine.datastore.engine.sql import (
    EXACT_TYPES,
    SORTABLE_TYPES,
    TEXT_TYPES,
    Column,
    fold_sql,
    postings_condition,
    quote,
)
from patrimoine.datastore.models import DatasetVersion
from patrimoine.datastore.versions import version_path

# A search term answered by the word index when its words have at most this many postings
# (beyond it, scanning the folded text is as cheap) and form at most this many rowid ranges.
SEARCH_INDEX_MAX_SHARE = 4  # postings ≤ rows / 4
SEARCH_INDEX_MIN_POSTINGS = 10_000
SEARCH_INDEX_MAX_RANGES = 64
SEARCH_TERM_CACHE = 256
# A failed layout build is tried again after this long, times 4 for each further failure,
# at most BUILD_RETRY_MAX_S.
BUILD_RETRY_S = 600.0
BUILD_RETRY_MAX_S = 86_400.0

log = logging.getLogger("patrimoine.datastore.layouts")


class RowStore:
    """The records of a version as ready-made JSON objects, found by `_row` (see
    engine/layout.py). Memory-mapped: pages cost slicing, not decoding and re-encoding."""

    def __init__(self, data: Path, index: Path, row_count: int) -> None:
        with open(index, "rb") as fh:
            self._index_map = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        self._offsets = memoryview(self._index_map).cast("q")
        if len(self._offsets) != row_count + 1:
            raise ValueError("row index does not match the version")
        size = data.stat().st_size
        if self._offsets[row_count] != size:
            raise ValueError("row store does not match its index")
        if size:
            with open(data, "rb") as fh:
                self._data: mmap.mmap | bytes = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        else:
            self._data = b""

    def json(self, rows: Sequence[int]) -> bytes:
        """A JSON array of the records whose `_row` are `rows`, in that order."""
        data, offsets = self._data, self._offsets
        return b"[" + b",".join([data[offsets[r - 1]:offsets[r]] for r in rows]) + b"]"


@dataclass(frozen=True)
class ValueCounts:
    """The distinct values of a column with their number of rows, most frequent first
    (ties in the column's sort order): all of them when `complete`."""

    ordered: list[tuple[Any, int]]
    distinct: int
    lookup: dict[Any, int] | None  # value -> rows, when equality can be looked up exactly

    @property
    def complete(self) -> bool:
        return len(self.ordered) == self.distinct


@dataclass
class VersionTable:
    """An opened version: its columns, its layout, and the means to run queries on it."""

    key: str
    columns: list[Column]
    positions: dict[str, str] | None
    row_count: int
    search_column: str
    sortable: list[str]
    null_counts: dict[str, int]
    limits: Limits
    _con: duckdb.DuckDBPyConnection = field(repr=False)
    _layout: Path = field(repr=False, default=Path())
    _sorts: dict[str, duckdb.DuckDBPyConnection] = field(repr=False, default_factory=dict)
    _sort_lock: threading.Lock = field(repr=False, default_factory=threading.Lock)
    # The word index (absent from layouts without it) and the words already looked up there.
    search_index: bool = False
    _terms: OrderedDict[str, tuple[tuple[int, int], ...] | None] = field(
        repr=False, default_factory=OrderedDict)
    _terms_lock: threading.Lock = field(repr=False, default_factory=threading.Lock)
    # The row store (None for layouts without one) and the value counts already read.
    row_store: RowStore | None = field(repr=False, default=None)
    counted: bool = False  # the layout has value counts
    _counts: dict[str, ValueCounts | None] = field(repr=False, default_factory=dict)
    _counts_lock: threading.Lock = field(repr=False, default_factory=threading.Lock)
    # A restricted view (restrict()): rows limited by this SQL condition (with its
    # parameters), text search over these columns only, and the names as stored.
    row_scope: tuple[str, tuple[Any, ...]] | None = None
    search_columns: tuple[str, ...] | None = None
    stored_names: tuple[str, ...] = ()
    # False when `records` is a view of the Parquet file (no layout yet, or none possible):
    # no rowid, no stored order, no word index, value counts, row store or sort positions.
    laid_out: bool = True
    # Whether a scan of `records` meets rows in `_row` order (always in a layout; in a
    # Parquet file, checked when it is opened).
    in_row_order: bool = True

    def column(self, name: str) -> Column | None:
        for c in self.columns:
            if c.name == name:
                return c
        return None

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def layout_path(self) -> Path:
        """The version's DuckDB layout file (files derived from it are kept beside it)."""
        return self._layout

    @property
    def rowid_usable(self) -> bool:
        """False when a data column named rowid hides DuckDB's row number, or when rows are
        read from the Parquet file (no rowid there)."""
        return self.laid_out and all(n.lower() != "rowid"
                                     for n in (self.stored_names or self.names))

    @property
    def text_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.type in TEXT_TYPES]

    def cursor(self) -> duckdb.DuckDBPyConnection:
        return self._con.cursor()

    @property
    def whole_rows(self) -> RowStore | None:
        """The row store, when this view shows every column (it holds them all)."""
        if self.row_store is None or (self.stored_names and
                                      len(self.stored_names) != len(self.columns)):
            return None
        return self.row_store

    def value_counts(self, column: str) -> ValueCounts | None:
        """The column's value counts over every row of the version (None when the layout has
        none for it). Views limited to some rows must not use them."""
        with self._counts_lock:
            if column in self._counts:
                return self._counts[column]
        spec = self.column(column)
        index = (self.stored_names or tuple(self.names)).index(column)
        counts: ValueCounts | None = None
        found = self.fetch("SELECT distinct_values FROM value_summary WHERE col = ?", [index]) \
            if self.counted and spec is not None else []
        if found:
            ordered = [(v, int(n)) for v, n in self.fetch(
                f"SELECT value, n FROM value_counts_{index} ORDER BY rowid")]
            exact = spec is not None and spec.type in EXACT_TYPES
            counts = ValueCounts(ordered, int(found[0][0]), None)
            if exact and counts.complete:
                counts = replace(counts, lookup={v: n for v, n in ordered if v is not None})
        with self._counts_lock:
            self._counts[column] = counts
        return counts

    def term_ranges(self, term: str) -> tuple[tuple[int, int], ...] | None:
        """The rowid ranges of `search_postings` holding the rows whose folded text contains
        `term` (a folded word without spaces: it lies inside one word of the text, so the rows
        are those of the indexed words that contain it). () when no word contains it; None
        when the word index cannot answer cheaply (no index, or too many postings or ranges):
        scan the folded text instead."""
        if not self.search_index or not term:
            return None
        with self._terms_lock:
            if term in self._terms:
                self._terms.move_to_end(term)
                return self._terms[term]
        found = self.fetch("SELECT first, n FROM search_tokens WHERE contains(token, ?) "
                           "ORDER BY first", [term])
        budget = max(SEARCH_INDEX_MIN_POSTINGS, self.row_count // SEARCH_INDEX_MAX_SHARE)
        ranges: list[list[int]] = []
        total = 0
        for first, n in found:
            total += int(n)
            if ranges and ranges[-1][1] + 1 == int(first):  # neighbouring words merge
                ranges[-1][1] = int(first) + int(n) - 1
            else:
                ranges.append([int(first), int(first) + int(n) - 1])
        answer: tuple[tuple[int, int], ...] | None = tuple((a, b) for a, b in ranges)
        if total > budget or len(ranges) > SEARCH_INDEX_MAX_RANGES:
            answer = None
        with self._terms_lock:
            self._terms[term] = answer
            while len(self._terms) > SEARCH_TERM_CACHE:
                self._terms.popitem(last=False)
        return answer

    def term_rows(self, ranges: Sequence[tuple[int, int]]) -> pa.Array:
        """The distinct `_row` (ascending, int64) of the postings in `ranges`."""
        if not ranges:
            return pa.array([], pa.int64())
        cur = self.cursor()
        try:
            with time_guard(cur, self.limits.query_time_limit_seconds):
                found = cur.sql("SELECT _row FROM search_postings WHERE "
                                + postings_condition(ranges)).to_arrow_table().column(0)
        finally:
            cur.close()
        rows = pc.unique(found.combine_chunks()).cast(pa.int64())
        return pc.take(rows, pc.sort_indices(rows))

    def sorted_rows(self, column: str, first: int, last: int) -> list[int]:
        """`_row` of the records at positions first..last of the column's order
        (ascending, nulls first, ties by `_row`)."""
        cur = self._sort_connection(column).cursor()
        try:
            return [int(r[0]) for r in cur.execute(
                "SELECT _row FROM positions WHERE rowid BETWEEN ? AND ? ORDER BY rowid",
                [first, last]).fetchall()]
        finally:
            cur.close()

    def _sort_connection(self, column: str) -> duckdb.DuckDBPyConnection:
        """The column's sort positions: a small DuckDB file of its own, built on first use
        (so publishing a version does not pay for sorts nobody asks for)."""
        with self._sort_lock:
            con = self._sorts.get(column)
            if con is not None:
                return con
            index = (self.stored_names or tuple(self.names)).index(column)
            path = self._layout.with_name(f"{self._layout.stem}.sort-{index}.duckdb")
            if not path.exists():
                with open(path.with_name(f".{path.name}.lock"), "w") as lock_file:
                    fcntl.flock(lock_file, fcntl.LOCK_EX)
                    if not path.exists():
                        spec = self.column(column)
                        assert spec is not None
                        build_sort_positions(self._con, spec, path, self.limits)
            con = open_read_only(path, self.limits)
            self._sorts[column] = con
            return con

    def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one query under the time limit and return its rows."""
        cur = self.cursor()
        try:
            with time_guard(cur, self.limits.query_time_limit_seconds):
                return cur.execute(sql, list(params)).fetchall()
        except duckdb.OutOfMemoryException as exc:
            raise QueryTimeout(
                "La requête demande plus de mémoire que permis. Ajoutez des filtres ou "
                "réduisez le regroupement."
            ) from exc
        finally:
            cur.close()

    def fetch_limited(
        self, sql: str, params: Sequence[Any] = (), *, what: str
    ) -> list[tuple[Any, ...]]:
        """Rows of an aggregate query (without LIMIT) that must not exceed the row limit
        (French error otherwise)."""
        limit = self.limits.max_aggregate_rows
        rows = self.fetch(f"{sql} LIMIT {limit + 1}", params)
        if len(rows) > limit:
            raise TooManyRows(
                f"{what} produit plus de {limit:,} lignes, la limite autorisée. "
                "Ajoutez des filtres ou regroupez moins finement.".replace(",", "\u202f")
            )
        return rows

    def stream(
        self, sql: str, params: Sequence[Any] = (), *, batch_size: int = 65_536
    ) -> Iterator[pa.RecordBatch]:
        """Record batches of a query (an export: its time limit), read lazily, so large
        results never sit in memory."""
        cur = self.cursor()
        try:
            with time_guard(cur, self.limits.export_time_limit_seconds):
                yield from cur.sql(sql, params=list(params)).to_arrow_reader(batch_size)
        finally:
            cur.close()


# Opened layouts of this process, by (layout path, limits).
_opened: OrderedDict[tuple[str, Limits], VersionTable] = OrderedDict()
_opened_lock = threading.Lock()
_open_locks: dict[str, threading.Lock] = {}
MAX_OPEN_VERSIONS = 16


def open_file(
    parquet: Path,
    columns: Sequence[dict[str, Any]],
    *,
    cache_root: Path,
    key: str,
    limits: Limits,
    positions: dict[str, str] | None = None,
    build: bool = True,
) -> VersionTable:
    """Open the version stored in `parquet`: its layout, built first when it is missing and
    `build` is set (else it is built in the background); read from the Parquet file while
    there is no layout (a failed build, or one not done yet).

    `columns` is the version's column list ({"name", "type"}, in file order after `_row`);
    `key` identifies the file's content (its hash): one layout per content, shared.
    """
    path = layout_path(cache_root, key)
    slot = (str(path), limits)
    with _opened_lock:
        table = _opened.get(slot)
        if table is not None:
            _opened.move_to_end(slot)
            return _with_positions(table, positions)
    cols = [Column(str(c["name"]), str(c["type"])) for c in columns]
    if not path.exists():
        if not parquet.is_file():
            raise PatrimoineError(
                "Le fichier de cette version est introuvable sur le disque ; "
                "prévenez l'administrateur."
            )
        if _build_due(path):
            if not build:
                _build_in_background(parquet, cols, path, key, limits)
            else:
                try:
                    _build(parquet, cols, path, key, limits)
                except LayoutUnavailable:
                    pass  # recorded and logged: read from the Parquet file
        if not path.exists():
            return _parquet_table(parquet, cols, key, limits, positions)
    return _open_layout(path, key, cols, positions, limits)


def _cached(slot: tuple[str, Limits], table: VersionTable) -> VersionTable:
    with _opened_lock:
        _opened[slot] = table
        while len(_opened) > MAX_OPEN_VERSIONS:
            _opened.popitem(last=False)
    return table


def _open_layout(path: Path, key: str, cols: list[Column], positions: dict[str, str] | None,
                 limits: Limits) -> VersionTable:
    slot = (str(path), limits)
    with _opened_lock:
        table = _opened.get(slot)
        if table is not None:
            return _with_positions(table, positions)
        opening = _open_locks.setdefault(str(path), threading.Lock())
    with opening:  # one connection per layout: requests arriving together share it
        with _opened_lock:
            table = _opened.get(slot)
            if table is not None:
                return _with_positions(table, positions)
        con = open_read_only(path, limits)
        table = _describe(con, path, key, cols, positions, limits)
        # The first read of a fresh connection costs about twice a later one (blocks loaded,
        # caches filled): pay it here rather than in the first request answered.
        warm = con.cursor()
        try:
            warm.execute("SELECT * FROM records LIMIT 100").fetchall()
        finally:
            warm.close()
        return _cached(slot, table)


class LayoutUnavailable(PatrimoineError):
    """A version's layout could not be built (the reason is recorded): its queries are
    answered from its Parquet file."""

    status = 503
    exit_code = 7


@dataclass(frozen=True)
class LayoutFailure:
    """A failed layout build, as recorded: the reason (French), DuckDB's or the system's
    own words, how many builds failed in a row, the last one's time and the next try's."""

    reason: str
    detail: str
    attempts: int
    failed_at: datetime
    retry_at: datetime

    @property
    def due(self) -> bool:
        return now() >= self.retry_at


@dataclass(frozen=True)
class LayoutState:
    """Whether a version's layout is built, and its last failure if it is not."""

    ready: bool
    failure: LayoutFailure | None


def _failure_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}.failed.json")


def _read_failure(path: Path) -> LayoutFailure | None:
    try:
        data = json.loads(_failure_path(path).read_text(encoding="utf-8"))
        return LayoutFailure(str(data["reason"]), str(data["detail"]), int(data["attempts"]),
                             datetime.fromisoformat(data["failed_at"]),
                             datetime.fromisoformat(data["retry_at"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None  # none, or unreadable: a build may be tried


def _build_due(path: Path) -> bool:
    failure = _read_failure(path)
    return failure is None or failure.due


def _record_failure(path: Path, exc: BaseException, limits: Limits) -> LayoutFailure:
    previous = _read_failure(path)
    attempts = (previous.attempts if previous else 0) + 1
    failed_at = now()
    wait = min(BUILD_RETRY_S * 4 ** (attempts - 1), BUILD_RETRY_MAX_S)
    detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:500]
    failure = LayoutFailure(_failure_reason(exc, limits), detail, attempts, failed_at,
                            failed_at + timedelta(seconds=wait))
    record = _failure_path(path)
    tmp = record.with_name(f".{record.name}.tmp")
    tmp.write_text(json.dumps({
        "reason": failure.reason, "detail": failure.detail, "attempts": attempts,
        "failed_at": failed_at.isoformat(), "retry_at": failure.retry_at.isoformat(),
    }, ensure_ascii=False), encoding="utf-8")
    tmp.replace(record)
    return failure


def _failure_reason(exc: BaseException, limits: Limits) -> str:
    """Why a build failed, in French, with the setting that would let it succeed."""
    text = str(exc)
    if isinstance(exc, duckdb.OutOfMemoryException):
        if "max_temp_directory_size" in text:
            return ("l'espace disque temporaire autorisé ne suffit pas "
                    f"(PATRIMOINE_DUCKDB_TEMP_SPACE = {limits.duckdb_temp_space})")
        return ("la mémoire autorisée ne suffit pas, même en débordant sur le disque "
                f"(PATRIMOINE_LAYOUT_MEMORY_LIMIT = {limits.layout_memory_limit})")
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC or "No space left" in text:
        return "le disque du dossier de données est plein"
    if isinstance(exc, PatrimoineError):
        return exc.message
    return f"erreur inattendue ({type(exc).__name__})"


def _build(parquet: Path, cols: list[Column], path: Path, key: str, limits: Limits,
           progress: Progress | None = None) -> None:
    """Build the layout at `path`, one build at a time per data folder; a failure is
    recorded, logged and raised as LayoutUnavailable."""
    cache_root = path.parent
    cache_root.mkdir(parents=True, exist_ok=True)
    # One build at a time per cache (every process): each may use the whole build memory.
    with open(cache_root / ".build.lock", "w") as slot, \
            open(cache_root / f".{key}.lock", "w") as lock_file:
        fcntl.flock(slot, fcntl.LOCK_EX)
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        if path.exists():
            return
        try:
            build_layout(Path(parquet), path, cols, limits, progress)
        except Exception as exc:
            failure = _record_failure(path, exc, limits)
            log.error("Construction de la mise en page %s impossible (essai %d) : %s — %s",
                      path.name, failure.attempts, failure.reason, failure.detail)
            raise LayoutUnavailable(
                f"La version n'a pas pu être préparée pour les requêtes : {failure.reason}. "
                "Elle reste lisible depuis son fichier Parquet ; nouvel essai après le "
                f"{failure.retry_at.astimezone():%d/%m/%Y à %H:%M}.") from exc
        _failure_path(path).unlink(missing_ok=True)
        remove_older_layouts(cache_root, key)


_background: set[str] = set()


def _build_in_background(parquet: Path, cols: list[Column], path: Path, key: str,
                         limits: Limits) -> None:
    """Build the layout in a thread of its own (once per layout and process at a time)."""
    with _opened_lock:
        if str(path) in _background:
            return
        _background.add(str(path))

    def run() -> None:
        try:
            _build(parquet, cols, path, key, limits)
        except Exception:
            pass  # recorded and logged by _build
        finally:
            with _opened_lock:
                _background.discard(str(path))

    threading.Thread(target=run, name="patrimoine-layout", daemon=True).start()


def _parquet_table(parquet: Path, cols: list[Column], key: str, limits: Limits,
                   positions: dict[str, str] | None) -> VersionTable:
    """The version read from its Parquet file (see the module docstring), one connection
    per file and limits in this process while its layout is missing."""
    slot = (f"parquet:{parquet.resolve()}", limits)
    with _opened_lock:
        table = _opened.get(slot)
    if table is not None:
        return _with_positions(table, positions)
    file = pq.ParquetFile(parquet)
    stored = {f.name: f for f in file.schema_arrow}
    names = [c.name for c in cols]
    if not all(n in stored for n in ["_row", *names]):
        raise PatrimoineError("Les colonnes de la version ne correspondent pas à son fichier.")
    search = search_column_name(names)
    texts = [quote(c.name) for c in cols if c.type in TEXT_TYPES]
    # Cast to the declared types, as the layout does (a cast to the stored type is free).
    select = ", ".join([
        "CAST(_row AS BIGINT) AS _row",
        *(f"CAST({quote(c.name)} AS {c.sql_type}) AS {quote(c.name)}" for c in cols),
        (fold_sql(f"concat_ws(' ', {', '.join(texts)})") if texts else "''")
        + f" AS {quote(search)}"])
    literal = "'" + str(parquet.resolve()).replace("'", "''") + "'"
    con = open_parquet(parquet.resolve(), f"SELECT {select} FROM read_parquet({literal})",
                       limits)
    # Files are written in `_row` order; reading that column alone checks it cheaply, so
    # that pages in the stored order need no sort.
    misplaced = con.execute(f"SELECT count(*) FROM read_parquet({literal}, "
                            "file_row_number = true) WHERE _row IS DISTINCT FROM "
                            "file_row_number + 1").fetchone()
    if misplaced and misplaced[0] and con.execute(
            "SELECT count(DISTINCT _row) <> count(*) OR min(_row) <> 1 OR max(_row) <> "
            "count(*) FROM records").fetchone() != (False,):
        con.close()
        raise PatrimoineError("Le fichier de la version est invalide : les numéros de "
                              "ligne (_row) doivent aller de 1 à n sans trou.")
    if positions and not all(positions.get(k) in names for k in ("lat", "lon")):
        positions = None
    return _cached(slot, VersionTable(
        key=key, columns=cols, positions=positions, row_count=file.metadata.num_rows,
        search_column=search, sortable=[c.name for c in cols if c.type in SORTABLE_TYPES],
        null_counts={}, limits=limits, _con=con, laid_out=False,
        in_row_order=misplaced is not None and not misplaced[0],
    ))


def forget(key: str) -> None:
    """Drop this process's opened tables of a content whose files are being removed
    (destroyed data): their connections and mapped files close once no query holds them,
    so the removed files' bytes are freed."""
    with _opened_lock:
        for slot in [slot for slot, table in _opened.items() if table.key == key]:
            del _opened[slot]


def _with_positions(table: VersionTable, positions: dict[str, str] | None) -> VersionTable:
    # Positions are metadata of the version, not of the file content the layout is keyed by.
    if positions == table.positions:
        return table
    if positions and not all(positions.get(k) in table.names for k in ("lat", "lon")):
        positions = None
    return replace(table, positions=positions)


def _describe(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    key: str,
    cols: list[Column],
    positions: dict[str, str] | None,
    limits: Limits,
) -> VersionTable:
    stored = [r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'records' "
        "ORDER BY ordinal_position").fetchall()]
    names = [c.name for c in cols]
    if stored[: len(names) + 1] != ["_row", *names]:
        raise PatrimoineError("Les colonnes de la version ne correspondent pas à son fichier.")
    search = stored[len(names) + 1]
    sortable = [c.name for c in cols if c.type in SORTABLE_TYPES]
    counts = con.execute(
        "SELECT count(*)" + "".join(f", count({quote(n)})" for n in sortable) + " FROM records"
    ).fetchone()
    assert counts is not None
    row_count = int(counts[0])
    null_counts = {n: row_count - int(v) for n, v in zip(sortable, counts[1:], strict=True)}
    if positions and not all(positions.get(k) in names for k in ("lat", "lon")):
        positions = None
    tables = {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables").fetchall()}
    store = None
    data, index = row_store_paths(path)
    try:
        store = RowStore(data, index, row_count)
    except (OSError, ValueError):
        pass  # pages are then read from DuckDB
    return VersionTable(
        key=key, columns=cols, positions=positions, row_count=row_count, search_column=search,
        sortable=sortable, null_counts=null_counts, limits=limits, _con=con, _layout=path,
        search_index={"search_tokens", "search_postings"} <= tables, row_store=store,
        counted="value_summary" in tables,
    )


def open_version(settings: Settings, version: DatasetVersion) -> VersionTable:
    """Open a version for querying, under the limits the settings give. Without a layout,
    the version is read from its Parquet file while the layout is built in the background
    (`warm_layouts`, the servers' default: no request waits for a build) or first built
    here (without it)."""
    return open_file(
        version_path(settings, version),
        version.columns,
        cache_root=Path(settings.data_dir) / CACHE_DIR,
        key=version.content_hash,
        limits=Limits.from_settings(settings),
        positions=version.positions,
        build=not settings.warm_layouts,
    )


def _layout_of(settings: Settings, version: DatasetVersion) -> Path:
    return layout_path(Path(settings.data_dir) / CACHE_DIR, version.content_hash)


def layout_ready(settings: Settings, version: DatasetVersion) -> bool:
    """Whether the version's layout is already built (on disk, for any process)."""
    return _layout_of(settings, version).exists()


def layout_state(settings: Settings, version: DatasetVersion) -> LayoutState:
    """Whether the version's layout is built and, if not, why its last build failed."""
    path = _layout_of(settings, version)
    ready = path.exists()
    return LayoutState(ready, None if ready else _read_failure(path))


def layout_wanted(settings: Settings, version: DatasetVersion) -> bool:
    """Whether a build of the version's layout should be tried now: none on disk, and no
    failed build waiting for its next try."""
    path = _layout_of(settings, version)
    return not path.exists() and _build_due(path)


def prepare_version(settings: Settings, version: DatasetVersion, *,
                    progress: Progress | None = None, force: bool = False) -> None:
    """Build the version's layout now (e.g. right after ingest) rather than on first read.
    LayoutUnavailable when the build fails, or (unless `force`) when an earlier one failed
    and its next try is not due."""
    path = _layout_of(settings, version)
    if path.exists():
        return
    parquet = version_path(settings, version)
    if not parquet.is_file():
        raise PatrimoineError("Le fichier de cette version est introuvable sur le disque ; "
                              "prévenez l'administrateur.")
    failure = _read_failure(path)
    if failure is not None and not failure.due and not force:
        raise LayoutUnavailable(
            f"La préparation de cette version a échoué ({failure.reason}) ; nouvel essai "
            f"après le {failure.retry_at.astimezone():%d/%m/%Y à %H:%M}.")
    cols = [Column(str(c["name"]), str(c["type"])) for c in version.columns]
    _build(parquet, cols, path, version.content_hash, Limits.from_settings(settings), progress)


def restrict(table: VersionTable, *, hidden: frozenset[str] = frozenset(),
             rows: tuple[str, tuple[Any, ...]] | None = None, scope_key: str = "") -> VersionTable:
    """A view of `table` without the `hidden` columns (they cannot be selected, filtered,
    sorted, grouped, searched or used as positions: they are unknown to the view) and,
    with `rows`, limited to the rows an SQL condition (compiled against the full table)
    selects. `scope_key` distinguishes the view in cursors and ETags."""
    visible = [c for c in table.columns if c.name not in hidden]
    positions = table.positions
    if positions and (positions.get("lat") in hidden or positions.get("lon") in hidden):
        positions = None
    search = table.search_columns
    if hidden:
        search = tuple(c.name for c in visible if c.type in TEXT_TYPES
                       and (search is None or c.name in search))
    if rows is not None and table.row_scope is not None:
        rows = (f"({table.row_scope[0]}) AND ({rows[0]})", (*table.row_scope[1], *rows[1]))
    elif rows is None:
        rows = table.row_scope
    return replace(
        table, key=f"{table.key}|{scope_key}" if scope_key else table.key, columns=visible,
        positions=positions, sortable=[n for n in table.sortable if n not in hidden],
        null_counts={k: v for k, v in table.null_counts.items() if k not in hidden},
        row_scope=rows, search_columns=search,
        stored_names=table.stored_names or tuple(table.names),
    )
