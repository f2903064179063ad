"""Opened versions: `VersionTable` (a version's columns, its layout and the means to query
it), the process's cache of opened tables, and restricted views of them.

`open_file` / `open_version` build a version's layout the first time (engine/layout.py),
then open it read-only in the sandbox (engine/sandbox.py). Each process keeps one
connection per layout and limits, and gives every query its own cursor.
"""

from __future__ import annotations

import fcntl
import mmap
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from patrimoine.core.errors import PatrimoineError
from patrimoine.core.settings import Settings
from patrimoine.datastore.engine.layout import (
    CACHE_DIR,
    build_layout,
    build_sort_positions,
    layout_path,
    remove_older_layouts,
    row_store_paths,
)
from patrimoine.datastore.engine.sandbox import (
    Limits,
    QueryTimeout,
    TooManyRows,
    open_read_only,
    time_guard,
)
from patrimoine.datastore.engine.sql import (
    EXACT_TYPES,
    SORTABLE_TYPES,
    TEXT_TYPES,
    Column,
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
        """False when a data column named rowid hides DuckDB's row number."""
        return all(n.lower() != "rowid" for n in (self.stored_names or self.names))

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
_build_locks: dict[str, threading.Lock] = {}
MAX_OPEN_VERSIONS = 16


def open_file(
    parquet: Path,
    columns: Sequence[dict[str, Any]],
    *,
    cache_root: Path,
    key: str,
    limits: Limits,
    positions: dict[str, str] | None = None,
) -> VersionTable:
    """Open (building its layout the first time) the version stored in `parquet`.

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
        build_lock = _build_locks.setdefault(str(path), threading.Lock())
    cols = [Column(str(c["name"]), str(c["type"])) for c in columns]
    with build_lock:
        with _opened_lock:
            table = _opened.get(slot)
            if table is not None:
                return _with_positions(table, positions)
        cache_root.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            if not parquet.is_file():
                raise PatrimoineError(
                    "Le fichier de cette version est introuvable sur le disque ; "
                    "prévenez l'administrateur."
                )
            with open(cache_root / f".{key}.lock", "w") as lock_file:
                fcntl.flock(lock_file, fcntl.LOCK_EX)
                if not path.exists():
                    build_layout(Path(parquet), path, cols, limits)
                    remove_older_layouts(cache_root, key)
        con = open_read_only(path, limits)
        table = _describe(con, path, key, cols, positions, limits)
        # The first read of a fresh connection costs about twice a later one (blocks loaded,
        # caches filled): pay it here rather than in the first request answered.
        warm = con.cursor()
        try:
            warm.execute("SELECT * FROM records LIMIT 100").fetchall()
        finally:
            warm.close()
        with _opened_lock:
            _opened[slot] = table
            while len(_opened) > MAX_OPEN_VERSIONS:
                _opened.popitem(last=False)
        return table


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
    """Open a version for querying, under the limits the settings give."""
    return open_file(
        version_path(settings, version),
        version.columns,
        cache_root=Path(settings.data_dir) / CACHE_DIR,
        key=version.content_hash,
        limits=Limits.from_settings(settings),
        positions=version.positions,
    )


def layout_ready(settings: Settings, version: DatasetVersion) -> bool:
    """Whether the version's layout is already built (on disk, for any process)."""
    return layout_path(Path(settings.data_dir) / CACHE_DIR, version.content_hash).exists()


def prepare_version(settings: Settings, version: DatasetVersion) -> None:
    """Build the version's layout now (e.g. right after ingest) rather than on first read."""
    open_version(settings, version)


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
