"""DuckDB over published versions: a read-only, sandboxed, per-version query engine.

Each version's Parquet file is loaded once into a DuckDB database file of its own (the
*layout*, kept under `<data_dir>/cache/duckdb/`, keyed by the Parquet content hash):

- `records`: every row, physically ordered by `_row`, with a unique index on `_row` and one
  extra column holding the accent- and case-folded text of every string column (search);
- an inverted word index of that folded text: `search_tokens` (every distinct word, sorted,
  with its number of postings `n` and the position `first` of its postings) and
  `search_postings` (the `_row` of each occurrence, grouped by word in the words' order), so
  that the rows holding a word are a few ranges of rowids (see `VersionTable.term_ranges`);
- `value_counts_<i>`: every distinct value of column i with its number of rows, most frequent
  first (the first 100,000 when there are more) and `value_summary` (how many distinct
  values each column has): unfiltered facets, and the count of a single equality filter,
  are read there instead of grouping every row;
- beside it, the *row store*: every record as the JSON object the API answers
  (`<layout>.rows.json`, records one after the other in `_row` order) and the byte offset of
  each (`<layout>.rows.idx`, n + 1 int64 in the machine's byte order), so that a page of any order
  or filter is the list of its `_row`s, then slices of a memory-mapped file;
- beside it, one small file per sortable column, built the first time a sort on that column
  is asked for: the `_row` of every record in the column's order (`NULLS FIRST`, ties by
  `_row`), its rowid being the position, so that any page of a sort on one column is a
  range of positions (zone-map pruned) then an index lookup, never a sort of every row.

The layout is built once (under a file lock, written to a temporary file then moved into
place) and then only opened read-only, so any number of processes can share it. Each
process keeps one connection per layout and gives every query its own cursor. Connections
are opened with external file access disabled and the configuration locked: a query can
read nothing but its own version.
"""

from __future__ import annotations

import fcntl
import heapq
import mmap
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from patrimoine.core.errors import Invalid, PatrimoineError

# Bump when the layout changes: old cache files are then simply ignored.
LAYOUT_VERSION = 5
# A search term answered by the word index when its words have at most this many postings
# (beyond it, scanning the folded text is as cheap) and form at most this many rowid ranges.
SEARCH_INDEX_MAX_SHARE = 4  # postings ≤ rows / 4
SEARCH_INDEX_MIN_POSTINGS = 10_000
SEARCH_INDEX_MAX_RANGES = 64
SEARCH_TERM_CACHE = 256
CACHE_DIR = Path("cache") / "duckdb"
# Distinct values kept per column in `value_counts_<i>`: all of them up to this many.
VALUE_COUNTS_CAP = 100_000
# Types whose values compare in Python exactly as in DuckDB (an equality count can be looked up).
EXACT_TYPES = ("string", "integer", "boolean", "date")
TEXT_TYPES = ("string",)
SORTABLE_TYPES = ("string", "integer", "number", "boolean", "date", "datetime")
SQL_TYPES = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "number": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "datetime": "TIMESTAMP",
    "geometry": "VARCHAR",
}


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


def quote(name: str) -> str:
    """An SQL identifier, double-quoted. Names are validated against the version first."""
    return '"' + name.replace('"', '""') + '"'


def sort_expr(column: Column) -> str:
    """The expression a column sorts and compares by: text ignores accents and case."""
    if column.type in TEXT_TYPES:
        return f"{quote(column.name)} COLLATE noaccent.nocase"
    return quote(column.name)


def fold_sql(expr: str) -> str:
    """SQL twin of core.text.fold: ligatures expanded, accents stripped, lower-cased."""
    for src, dst in (("œ", "oe"), ("Œ", "oe"), ("æ", "ae"), ("Æ", "ae")):
        expr = f"replace({expr}, '{src}', '{dst}')"
    return f"lower(strip_accents({expr}))"


@dataclass(frozen=True)
class Column:
    name: str
    type: str

    @property
    def sql_type(self) -> str:
        return SQL_TYPES.get(self.type, "VARCHAR")


class RowStore:
    """The records of a version as ready-made JSON objects, found by `_row` (see the module
    docstring). Memory-mapped: pages cost slicing, not decoding and re-encoding."""

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
        timer = _interrupt_after(cur, self.limits.time_limit_s)
        try:
            found = cur.sql("SELECT _row FROM search_postings WHERE "
                            + postings_condition(ranges)).to_arrow_table().column(0)
        except duckdb.InterruptException as exc:
            raise _timeout(self.limits.time_limit_s) from exc
        finally:
            timer.cancel()
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
                        self._build_sort(column, path)
            con = _open_layout(path, self.limits)
            self._sorts[column] = con
            return con

    def _build_sort(self, column: str, path: Path) -> None:
        spec = self.column(column)
        assert spec is not None
        cur = self.cursor()
        timer = _interrupt_after(cur, self.limits.export_time_limit_s)
        try:
            # Insertion order is preserved, so a row's rowid is its position in the order.
            order = cur.sql(f"SELECT _row FROM records ORDER BY {sort_expr(spec)} ASC "
                            "NULLS FIRST, _row ASC").to_arrow_table()
        except duckdb.InterruptException as exc:
            raise _timeout(self.limits.export_time_limit_s) from exc
        finally:
            timer.cancel()
            cur.close()
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.unlink(missing_ok=True)
        writer = duckdb.connect(str(tmp), config={
            "threads": self.limits.threads, "memory_limit": self.limits.memory_limit,
            "preserve_insertion_order": True, "autoinstall_known_extensions": False,
            "autoload_known_extensions": False})
        try:
            writer.register("order_table", order)
            writer.execute("CREATE TABLE positions AS SELECT _row FROM order_table")
            writer.execute("CHECKPOINT")
        finally:
            writer.close()
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)

    def fetch(
        self, sql: str, params: Sequence[Any] = (), *, time_limit_s: float | None = None
    ) -> list[tuple[Any, ...]]:
        """Run one query under the time limit and return its rows."""
        cur = self.cursor()
        timer = _interrupt_after(cur, time_limit_s or self.limits.time_limit_s)
        try:
            return cur.execute(sql, list(params)).fetchall()
        except duckdb.InterruptException as exc:
            raise _timeout(time_limit_s or self.limits.time_limit_s) from exc
        except duckdb.OutOfMemoryException as exc:
            raise QueryTimeout(
                "La requête demande plus de mémoire que permis. Ajoutez des filtres ou "
                "réduisez le regroupement."
            ) from exc
        finally:
            timer.cancel()
            cur.close()

    def fetch_limited(
        self, sql: str, params: Sequence[Any] = (), *, what: str
    ) -> list[tuple[Any, ...]]:
        """Rows of a query (without LIMIT) that must not exceed the row limit (French error
        otherwise)."""
        limit = self.limits.max_rows
        rows = self.fetch(f"{sql} LIMIT {limit + 1}", params)
        if len(rows) > limit:
            raise TooManyRows(
                f"{what} produit plus de {limit:,} lignes, la limite autorisée. "
                "Ajoutez des filtres ou regroupez moins finement.".replace(",", "\u202f")
            )
        return rows

    def stream(
        self,
        sql: str,
        params: Sequence[Any] = (),
        *,
        batch_size: int = 65_536,
        time_limit_s: float | None = None,
    ) -> Iterator[pa.RecordBatch]:
        """Record batches of a query, read lazily, so large results never sit in memory."""
        limit = time_limit_s or self.limits.export_time_limit_s
        cur = self.cursor()
        timer = _interrupt_after(cur, limit)
        try:
            reader = cur.sql(sql, params=list(params)).to_arrow_reader(batch_size)
            yield from reader
        except (duckdb.InterruptException, OSError) as exc:
            if "INTERRUPT" in str(exc) or isinstance(exc, duckdb.InterruptException):
                raise _timeout(limit) from exc
            raise
        finally:
            timer.cancel()
            cur.close()


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


def _interrupt_after(cur: duckdb.DuckDBPyConnection, seconds: float) -> _Deadline:
    return _watchdog.watch(cur, seconds)


def _timeout(seconds: float) -> QueryTimeout:
    shown = f"{seconds:g}".replace(".", ",")
    return QueryTimeout(
        f"La requête a dépassé la durée maximale autorisée ({shown} s) et a été interrompue. "
        "Ajoutez des filtres ou demandez moins de données."
    )


# --------------------------------------------------------------------------- layout build


def postings_condition(ranges: Sequence[tuple[int, int]]) -> str:
    """SQL selecting the rowid ranges of `search_postings` (integers from our own index)."""
    return "(" + " OR ".join(f"rowid BETWEEN {int(a)} AND {int(b)}" for a, b in ranges) + ")"


def _build_search_index(con: duckdb.DuckDBPyConnection, search: str) -> None:
    """The inverted word index of the folded text (words split on spaces, as a search splits
    its terms, so that a term always lies inside one word)."""
    con.execute("SET preserve_insertion_order = false")
    con.execute(
        "CREATE TEMP TABLE search_groups AS SELECT token, list(r) AS rows FROM ("
        f"SELECT unnest(string_split({quote(search)}, ' ')) AS token, "
        "CAST(_row AS UINTEGER) AS r FROM records) WHERE token <> '' GROUP BY token")
    con.execute("SET preserve_insertion_order = true")
    # Stored in the words' order (insertion order is preserved), postings in the same order.
    con.execute("CREATE TEMP TABLE search_sorted AS SELECT token, rows, n, CAST(sum(n) OVER ("
                "ORDER BY token ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - n AS "
                "UBIGINT) AS first FROM (SELECT token, rows, CAST(len(rows) AS UBIGINT) AS n "
                "FROM search_groups) ORDER BY token")
    con.execute("DROP TABLE search_groups")
    con.execute("CREATE TABLE search_tokens AS SELECT token, n, first FROM search_sorted")
    con.execute("CREATE TABLE search_postings AS SELECT unnest(rows) AS _row FROM search_sorted")
    # Check the layout on the largest and the last word: a mismatch drops the index (search
    # then scans the folded text) rather than answering wrongly.
    consistent = True
    for pick in ("ORDER BY n DESC, token LIMIT 1", "ORDER BY token DESC LIMIT 1"):
        row = con.execute(f"SELECT token, first, n FROM search_tokens {pick}").fetchone()
        if row is None:
            continue
        token, first, n = row
        stored = con.execute("SELECT list_sort(list(_row)) FROM search_postings WHERE rowid "
                             "BETWEEN ? AND ?", [first, first + n - 1]).fetchone()
        expected = con.execute("SELECT list_sort(rows) FROM search_sorted WHERE token = ?",
                               [token]).fetchone()
        consistent = consistent and stored == expected
    total = con.execute("SELECT (SELECT coalesce(sum(n), 0) FROM search_tokens) = "
                        "(SELECT count(*) FROM search_postings)").fetchone()
    con.execute("DROP TABLE search_sorted")
    if not consistent or not total or not total[0]:
        con.execute("DROP TABLE search_tokens")
        con.execute("DROP TABLE search_postings")


def _build_value_counts(con: duckdb.DuckDBPyConnection, columns: list[Column]) -> None:
    """`value_counts_<i>` and `value_summary` (see the module docstring)."""
    con.execute("CREATE TABLE value_summary (col INTEGER, distinct_values BIGINT)")
    for i, column in enumerate(columns):
        if column.type not in SORTABLE_TYPES:
            continue
        con.execute("SET preserve_insertion_order = false")
        con.execute(f"CREATE OR REPLACE TEMP TABLE value_groups AS SELECT {quote(column.name)} "
                    "AS value, count(*) AS n FROM records GROUP BY ALL")
        con.execute("SET preserve_insertion_order = true")
        # The order of a facet query (query.facets), kept by insertion order: rowid = rank.
        order = sort_expr(Column("value", column.type))
        con.execute(f"CREATE TABLE value_counts_{i} AS SELECT value, n FROM value_groups "
                    f"ORDER BY n DESC, {order} ASC NULLS LAST LIMIT {VALUE_COUNTS_CAP}")
        con.execute("INSERT INTO value_summary SELECT ?, count(*) FROM value_groups", [i])
    con.execute("DROP TABLE IF EXISTS value_groups")


def _json_value(column: Column) -> str:
    """SQL giving a column's value as the API writes it (api/datastore.py `_json`): ISO dates
    and date-times, no NaN or infinity (null instead)."""
    col = quote(column.name)
    if column.type == "number":
        return f"CASE WHEN isfinite({col}) THEN {col} END"
    if column.type == "datetime":
        return (f"CASE WHEN epoch_us({col}) % 1000000 = 0 THEN strftime({col}, "
                f"'%Y-%m-%dT%H:%M:%S') ELSE strftime({col}, '%Y-%m-%dT%H:%M:%S.%f') END")
    return col


def _build_row_store(con: duckdb.DuckDBPyConnection, columns: list[Column], data: Path,
                     index: Path) -> None:
    """Write every record as a JSON object (in `_row` order) and their offsets, each file to
    a temporary name first."""
    pairs = ", ".join(["'_row', _row", *(
        "'" + c.name.replace("'", "''") + "', " + _json_value(c) for c in columns)])
    reader = con.sql(f"SELECT CAST(json_object({pairs}) AS VARCHAR) FROM records "
                     "ORDER BY _row").to_arrow_reader(65_536)
    tmp_data = data.with_name(f".{data.name}.{os.getpid()}.tmp")
    tmp_index = index.with_name(f".{index.name}.{os.getpid()}.tmp")
    try:
        size = 0
        with open(tmp_data, "wb") as out, open(tmp_index, "wb") as offsets:
            offsets.write((0).to_bytes(8, "little"))
            for batch in reader:
                texts = batch.column(0).cast(pa.large_string())
                # Arrow already holds the texts end to end, with their offsets.
                ends = pa.Array.from_buffers(pa.int64(), len(texts) + 1,
                                             [None, texts.buffers()[1]], offset=texts.offset)
                first, last = ends[0].as_py(), ends[-1].as_py()
                out.write(memoryview(texts.buffers()[2])[first:last])
                shifted = pc.add(ends[1:], size - first)
                offsets.write(memoryview(shifted.buffers()[1])[
                    shifted.offset * 8:(shifted.offset + len(shifted)) * 8])
                size += last - first
            for fh in (out, offsets):
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp_data, data)
        os.replace(tmp_index, index)
    finally:
        tmp_data.unlink(missing_ok=True)
        tmp_index.unlink(missing_ok=True)


def _row_store_paths(layout: Path) -> tuple[Path, Path]:
    return layout.with_name(f"{layout.stem}.rows.json"), layout.with_name(f"{layout.stem}.rows.idx")


def _layout_path(cache_root: Path, key: str) -> Path:
    return cache_root / f"{key}-v{LAYOUT_VERSION}.duckdb"


def _search_column_name(names: Sequence[str]) -> str:
    name = "_recherche"
    while name in names or name == "_row":
        name = "_" + name
    return name


def fold_arrow(values: pa.Array) -> pa.Array:
    """Arrow twin of core.text.fold, computed once per distinct value of the batch."""
    encoded = values.dictionary_encode()
    words = encoded.dictionary
    for src, dst in (("œ", "oe"), ("Œ", "oe"), ("æ", "ae"), ("Æ", "ae")):
        words = pc.replace_substring(words, src, dst)
    words = pc.replace_substring_regex(pc.utf8_normalize(words, "NFKD"), r"\p{Mn}", "")
    return pc.take(pc.utf8_lower(words), encoded.indices)


def _build_layout(parquet: Path, target: Path, columns: list[Column], limits: Limits) -> None:
    # Called under the content's file lock: temporary files left by a build that was killed
    # (any process id) are garbage.
    for stale in target.parent.glob(f".{target.stem}.*.tmp*"):
        stale.unlink(missing_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    config = {"threads": limits.threads, "memory_limit": limits.memory_limit,
              "autoinstall_known_extensions": False, "autoload_known_extensions": False,
              "preserve_insertion_order": True}
    source = duckdb.connect(config=config)
    con = duckdb.connect(str(tmp), config=config)
    for connection in (source, con):  # a build is no terminal session
        connection.execute("SET enable_progress_bar = false")
    try:
        names = [c.name for c in columns]
        search = _search_column_name(names)
        # Cast to the declared types: the layout honours the contract whatever the writer did.
        select = ", ".join(["CAST(_row AS BIGINT) AS _row",
                            *(f"CAST({quote(c.name)} AS {c.sql_type}) AS {quote(c.name)}"
                              for c in columns)])
        reader = source.sql(f"SELECT {select} FROM read_parquet(?)",
                            params=[str(parquet)]).to_arrow_reader(122_880)
        texts = [i + 1 for i, c in enumerate(columns) if c.type in TEXT_TYPES]
        schema = reader.schema.append(pa.field(search, pa.string()))

        def with_search() -> Iterator[pa.RecordBatch]:
            # Folding text in DuckDB (strip_accents) costs several seconds per million rows;
            # Arrow folds each distinct value of a batch once.
            for batch in reader:
                parts = [fold_arrow(batch.column(i)) for i in texts]
                if len(parts) > 1:
                    text = pc.binary_join_element_wise(*parts, " ", null_handling="skip")
                elif parts:  # joining one array with null_handling="skip" loses its nulls' rows
                    text = pc.fill_null(parts[0], "")
                else:
                    text = pa.array([""] * batch.num_rows, pa.string())
                yield pa.RecordBatch.from_arrays([*batch.columns, text], schema=schema)

        batches = pa.RecordBatchReader.from_batches(schema, with_search())  # noqa: F841
        con.execute("CREATE TABLE records AS SELECT * FROM batches")
        # A narrow copy, so that `rowid` is the row number even if a data column is so named.
        check = ("CREATE OR REPLACE TEMP TABLE row_check AS SELECT _row FROM records; "
                 "SELECT count(*) FROM row_check WHERE _row IS DISTINCT FROM rowid + 1")
        misplaced = con.execute(check).fetchone()
        if misplaced and misplaced[0]:
            con.execute("CREATE TABLE sorted AS SELECT * FROM records ORDER BY _row")
            con.execute("DROP TABLE records")
            con.execute("ALTER TABLE sorted RENAME TO records")
            misplaced = con.execute(check).fetchone()
            if misplaced and misplaced[0]:
                raise PatrimoineError("Le fichier de la version est invalide : les numéros de "
                                      "ligne (_row) doivent aller de 1 à n sans trou.")
        con.execute("DROP TABLE row_check")
        con.execute("CREATE UNIQUE INDEX records_row ON records(_row)")
        _build_search_index(con, search)
        _build_value_counts(con, columns)
        con.execute("CHECKPOINT")
        # Written before the layout is moved into place: a layout always has its row store.
        _build_row_store(con, columns, *_row_store_paths(target))
    except BaseException:
        con.close()
        source.close()
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            leftover.unlink(missing_ok=True)
        raise
    con.close()
    source.close()
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, target)


def _remove_older_layouts(cache_root: Path, key: str) -> None:
    """Files of this content's layouts of an earlier LAYOUT_VERSION: never read again."""
    current = f"{key}-v{LAYOUT_VERSION}."
    for path in [*cache_root.glob(f"{key}-v*"), *cache_root.glob(f".{key}-v*.lock")]:
        if not path.name.lstrip(".").startswith(current):
            path.unlink(missing_ok=True)


def _open_layout(path: Path, limits: Limits) -> duckdb.DuckDBPyConnection:
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


# Opened layouts of this process, by (layout path, limits).
_tables: OrderedDict[tuple[str, Limits], VersionTable] = OrderedDict()
_tables_lock = threading.Lock()
_build_locks: dict[str, threading.Lock] = {}
MAX_OPEN_VERSIONS = 16


def open_file(
    parquet: Path,
    columns: Sequence[dict[str, Any]],
    *,
    cache_root: Path,
    key: str,
    positions: dict[str, str] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> VersionTable:
    """Open (building its layout the first time) the version stored in `parquet`.

    `columns` is the version's column list ({"name", "type"}, in file order after `_row`);
    `key` identifies the file's content (its hash): one layout per content, shared.
    """
    path = _layout_path(cache_root, key)
    slot = (str(path), limits)
    with _tables_lock:
        table = _tables.get(slot)
        if table is not None:
            _tables.move_to_end(slot)
            return _with_positions(table, positions)
        build_lock = _build_locks.setdefault(str(path), threading.Lock())
    cols = [Column(str(c["name"]), str(c["type"])) for c in columns]
    with build_lock:
        with _tables_lock:
            table = _tables.get(slot)
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
                    _build_layout(Path(parquet), path, cols, limits)
                    _remove_older_layouts(cache_root, key)
        con = _open_layout(path, limits)
        table = _describe(con, path, key, cols, positions, limits)
        # The first read of a fresh connection costs about twice a later one (blocks loaded,
        # caches filled): pay it here rather than in the first request answered.
        warm = con.cursor()
        try:
            warm.execute("SELECT * FROM records LIMIT 100").fetchall()
        finally:
            warm.close()
        with _tables_lock:
            _tables[slot] = table
            while len(_tables) > MAX_OPEN_VERSIONS:
                _tables.popitem(last=False)
        return table


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
    data, index = _row_store_paths(path)
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


def open_version(settings: Any, version: Any, limits: Limits = DEFAULT_LIMITS) -> VersionTable:
    """Open a DatasetVersion (see datastore/models.py) for querying."""
    from patrimoine.datastore.versions import version_path

    return open_file(
        version_path(settings, version),
        version.columns,
        cache_root=Path(settings.data_dir) / CACHE_DIR,
        key=version.content_hash,
        positions=version.positions,
        limits=limits,
    )


def layout_ready(settings: Any, version: Any) -> bool:
    """Whether the version's layout is already built (on disk, for any process)."""
    return _layout_path(Path(settings.data_dir) / CACHE_DIR, version.content_hash).exists()


def prepare_version(settings: Any, version: Any) -> None:
    """Build the version's layout now (e.g. right after ingest) rather than on first read."""
    open_version(settings, version)


def check_identifier(table: VersionTable, name: str, what: str = "colonne") -> Column:
    column = table.column(name)
    if column is None:
        known = ", ".join(table.names)
        raise Invalid(
            f"La {what} « {name} » n'existe pas dans cette version.",
            errors=[f"Colonnes disponibles : {known}."],
        )
    return column


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
