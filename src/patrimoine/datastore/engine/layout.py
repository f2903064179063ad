"""The layout builder: a version's Parquet file made fast to query, once.

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

A layout is built once (under a file lock, written to temporary files then moved into
place) and then only opened read-only, so any number of processes share it. Layouts are
caches: deleting them loses nothing, the next read rebuilds them.

A build runs under its own memory limit (`Limits.layout_memory_limit`) whatever the
version's size: records stream in and out in batches, tables needed only while building
live in a scratch database in the temporary directory (removed after), every sort and
aggregate spills there, and the word postings are sorted a range of words at a time.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from patrimoine.core.errors import PatrimoineError
from patrimoine.datastore.engine.sandbox import Limits, duckdb_config, time_guard
from patrimoine.datastore.engine.sql import SORTABLE_TYPES, TEXT_TYPES, Column, quote, sort_expr

# Bump when the layout changes: old cache files are then simply ignored.
LAYOUT_VERSION = 5
CACHE_DIR = Path("cache") / "duckdb"
# Distinct values kept per column in `value_counts_<i>`: all of them up to this many.
VALUE_COUNTS_CAP = 100_000
# Told how far a build got: a fraction from 0 to 1 and the step under way (French).
Progress = Callable[[float, str], None]
# Word postings sorted at once, per byte of the build's memory limit (16 million for 1 GB:
# DuckDB's sort of (word, row) pairs needs some 60 bytes a pair).
POSTINGS_PER_BYTE = 1 / 64


def memory_bytes(text: str) -> int:
    """Bytes of a DuckDB memory setting (512MB, 2GiB, 50%)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B|%)\s*", text, re.IGNORECASE)
    if match is None:
        raise ValueError(text)
    number, unit = float(match.group(1)), match.group(2).upper()
    if unit == "%":
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") * number / 100)
    power = "KMGT".index(unit[0]) + 1
    return int(number * (1024 if "I" in unit else 1000) ** power)


def _build_search_index(con: duckdb.DuckDBPyConnection, search: str, memory: int,
                        progress: Progress) -> None:
    """The inverted word index of the folded text (words split on spaces, as a search splits
    its terms, so that a term always lies inside one word).

    Every step streams or spills: the (word, row) pairs go to the scratch database, the
    running position of each word's postings is summed in Python while the sorted words
    stream by, and the postings are written a range of words at a time, each range sorted
    alone (at most POSTINGS_PER_BYTE pairs a byte of the build's `memory`), so that no sort
    grows with the version; a word with more postings than that is written alone, unsorted."""
    con.execute("SET preserve_insertion_order = false")
    con.execute(
        "CREATE TABLE scratch.pairs AS SELECT token, r FROM (SELECT unnest(string_split("
        f"{quote(search)}, ' ')) AS token, CAST(_row AS UINTEGER) AS r FROM records) "
        "WHERE token <> ''")
    progress(0.50, "Index des mots : mots")
    con.execute("CREATE TABLE scratch.words AS SELECT token, count(*) AS n FROM scratch.pairs "
                "GROUP BY token")
    con.execute("SET preserve_insertion_order = true")
    # Read by a cursor of its own while `con` writes what it reads.
    cur = con.cursor()
    reader = cur.sql("SELECT token, CAST(n AS UBIGINT) AS n FROM scratch.words "
                     "ORDER BY token").to_arrow_reader(65_536)
    schema = pa.schema([("token", pa.string()), ("n", pa.uint64()), ("first", pa.uint64())])
    most = max(1, int(memory * POSTINGS_PER_BYTE))
    chunks: list[tuple[str, str | None]] = []  # [low, high) words; low == high: one word
    low: list[str | None] = [None]
    size = [0]

    def cut(token: str, n: int) -> None:
        if n >= most:  # a word alone: its postings need no sort
            if low[0] is not None:
                chunks.append((low[0], token))
            chunks.append((token, token))
            low[0], size[0] = None, 0
            return
        if low[0] is None:
            low[0] = token
        elif size[0] + n > most:
            chunks.append((low[0], token))
            low[0], size[0] = token, 0
        size[0] += n

    def with_first() -> Iterator[pa.RecordBatch]:
        done = 0  # postings of the words before this batch
        for batch in reader:
            counts = batch.column(1)
            ends = pc.add(pc.cumulative_sum(counts), pa.scalar(done, pa.uint64()))
            yield pa.RecordBatch.from_arrays([batch.column(0), counts, pc.subtract(ends, counts)],
                                             schema=schema)
            done += int(pc.sum(counts).as_py() or 0)
            for token, n in zip(batch.column(0).to_pylist(), counts.to_pylist(), strict=True):
                cut(token, n)

    words = pa.RecordBatchReader.from_batches(schema, with_first())  # noqa: F841
    try:
        con.execute("CREATE TABLE search_tokens AS SELECT * FROM words")
    finally:
        cur.close()
    if low[0] is not None:
        chunks.append((low[0], None))
    progress(0.56, "Index des mots : postings")
    # Stored in the words' order (insertion order is preserved): rowid = position.
    con.execute("CREATE TABLE search_postings (_row UINTEGER)")
    for i, (first_word, next_word) in enumerate(chunks):
        if first_word == next_word:
            con.execute("INSERT INTO search_postings SELECT r FROM scratch.pairs "
                        "WHERE token = ?", [first_word])
        elif next_word is None:
            con.execute("INSERT INTO search_postings SELECT r FROM scratch.pairs "
                        "WHERE token >= ? ORDER BY token", [first_word])
        else:
            con.execute("INSERT INTO search_postings SELECT r FROM scratch.pairs "
                        "WHERE token >= ? AND token < ? ORDER BY token",
                        [first_word, next_word])
        progress(0.56 + 0.04 * (i + 1) / len(chunks), "Index des mots : postings")
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
        expected = con.execute("SELECT list_sort(list(r)) FROM scratch.pairs WHERE token = ?",
                               [token]).fetchone()
        consistent = consistent and stored == expected
    total = con.execute("SELECT (SELECT coalesce(sum(n), 0) FROM search_tokens) = "
                        "(SELECT count(*) FROM search_postings)").fetchone()
    con.execute("DROP TABLE scratch.pairs")
    con.execute("DROP TABLE scratch.words")
    if not consistent or not total or not total[0]:
        con.execute("DROP TABLE search_tokens")
        con.execute("DROP TABLE search_postings")


def _build_value_counts(con: duckdb.DuckDBPyConnection, columns: list[Column],
                        progress: Progress) -> None:
    """`value_counts_<i>` and `value_summary` (see the module docstring)."""
    con.execute("CREATE TABLE value_summary (col INTEGER, distinct_values BIGINT)")
    for i, column in enumerate(columns):
        progress(0.62 + 0.08 * i / max(len(columns), 1), "Valeurs des colonnes")
        if column.type not in SORTABLE_TYPES:
            continue
        con.execute("SET preserve_insertion_order = false")
        con.execute("CREATE OR REPLACE TABLE scratch.value_groups AS SELECT "
                    f"{quote(column.name)} AS value, count(*) AS n FROM records GROUP BY ALL")
        con.execute("SET preserve_insertion_order = true")
        # The order of a facet query (query.facets), kept by insertion order: rowid = rank.
        order = sort_expr(Column("value", column.type))
        con.execute(f"CREATE TABLE value_counts_{i} AS SELECT value, n FROM "
                    f"scratch.value_groups ORDER BY n DESC, {order} ASC NULLS LAST "
                    f"LIMIT {VALUE_COUNTS_CAP}")
        con.execute("INSERT INTO value_summary SELECT ?, count(*) FROM scratch.value_groups",
                    [i])
    con.execute("DROP TABLE IF EXISTS scratch.value_groups")


def _json_value(column: Column) -> str:
    """SQL giving a column's value as the API writes it (web/api/datastore.py `_json`):
    ISO dates and date-times, no NaN or infinity (null instead)."""
    col = quote(column.name)
    if column.type == "number":
        return f"CASE WHEN isfinite({col}) THEN {col} END"
    if column.type == "datetime":
        return (f"CASE WHEN epoch_us({col}) % 1000000 = 0 THEN strftime({col}, "
                f"'%Y-%m-%dT%H:%M:%S') ELSE strftime({col}, '%Y-%m-%dT%H:%M:%S.%f') END")
    return col


def _build_row_store(con: duckdb.DuckDBPyConnection, columns: list[Column], data: Path,
                     index: Path, row_count: int, progress: Progress) -> None:
    """Write every record as a JSON object (in `_row` order) and their offsets, each file to
    a temporary name first."""
    pairs = ", ".join(["'_row', _row", *(
        "'" + c.name.replace("'", "''") + "', " + _json_value(c) for c in columns)])
    # Records are stored in `_row` order (checked) and insertion order is preserved: a
    # plain scan streams them in order, where ORDER BY would sort every JSON text.
    con.execute("SET preserve_insertion_order = true")
    reader = con.sql(f"SELECT CAST(json_object({pairs}) AS VARCHAR) FROM records"
                     ).to_arrow_reader(65_536)
    tmp_data = data.with_name(f".{data.name}.{os.getpid()}.tmp")
    tmp_index = index.with_name(f".{index.name}.{os.getpid()}.tmp")
    try:
        size = written = 0
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
                written += len(texts)
                progress(0.70 + 0.30 * written / max(row_count, 1), "Enregistrements en JSON")
            for fh in (out, offsets):
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp_data, data)
        os.replace(tmp_index, index)
    finally:
        tmp_data.unlink(missing_ok=True)
        tmp_index.unlink(missing_ok=True)


def row_store_paths(layout: Path) -> tuple[Path, Path]:
    return layout.with_name(f"{layout.stem}.rows.json"), layout.with_name(f"{layout.stem}.rows.idx")


def layout_path(cache_root: Path, key: str) -> Path:
    return cache_root / f"{key}-v{LAYOUT_VERSION}.duckdb"


def search_column_name(names: Sequence[str]) -> str:
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


def build_layout(parquet: Path, target: Path, columns: list[Column], limits: Limits,
                 progress: Progress | None = None) -> None:
    """Build the layout of the version stored in `parquet` into `target` (see the module
    docstring), under the build's memory limit: what does not fit spills to the temporary
    directory. `progress(fraction, step)` is told how far it got."""
    say = progress or _silent
    # Called under the content's file lock: temporary files left by a build that was killed
    # (any process id) are garbage.
    for stale in target.parent.glob(f".{target.stem}.*.tmp*"):
        stale.unlink(missing_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    scratch = Path(limits.temp_directory) / f"{target.stem}.{os.getpid()}.scratch.duckdb"
    leftovers = [tmp, tmp.with_name(tmp.name + ".wal"), scratch,
                 scratch.with_name(scratch.name + ".wal")]
    for leftover in leftovers:
        leftover.unlink(missing_ok=True)
    config = duckdb_config(limits, build=True)
    source = duckdb.connect(config=config)
    con = duckdb.connect(str(tmp), config=config)
    for connection in (source, con):  # a build is no terminal session
        connection.execute("SET enable_progress_bar = false")
    # Tables needed only while building live in a scratch database of their own, removed
    # afterwards, so that they neither stay in memory nor leave free blocks in the layout.
    con.execute("ATTACH ? AS scratch", [str(scratch)])
    try:
        total = pq.ParquetFile(parquet).metadata.num_rows
        names = [c.name for c in columns]
        search = search_column_name(names)
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
            done = 0
            for batch in reader:
                parts = [fold_arrow(batch.column(i)) for i in texts]
                if len(parts) > 1:
                    text = pc.binary_join_element_wise(*parts, " ", null_handling="skip")
                elif parts:  # joining one array with null_handling="skip" loses its nulls' rows
                    text = pc.fill_null(parts[0], "")
                else:
                    text = pa.array([""] * batch.num_rows, pa.string())
                yield pa.RecordBatch.from_arrays([*batch.columns, text], schema=schema)
                done += batch.num_rows
                say(0.35 * done / max(total, 1), "Lecture des enregistrements")

        say(0.0, "Lecture des enregistrements")
        batches = pa.RecordBatchReader.from_batches(schema, with_search())  # noqa: F841
        con.execute("CREATE TABLE records AS SELECT * FROM batches")
        # The reading connection keeps the blocks it read cached up to its own memory
        # limit, and Arrow its freed buffers: both given back before the next steps.
        source.close()
        pa.default_memory_pool().release_unused()
        say(0.35, "Ordre des lignes")
        # A narrow copy, so that `rowid` is the row number even if a data column is so named.
        check = ("CREATE OR REPLACE TABLE scratch.row_check AS SELECT _row FROM records; "
                 "SELECT count(*) FROM scratch.row_check WHERE _row IS DISTINCT FROM rowid + 1")
        misplaced = con.execute(check).fetchone()
        if misplaced and misplaced[0]:
            con.execute("CREATE TABLE sorted AS SELECT * FROM records ORDER BY _row")
            con.execute("DROP TABLE records")
            con.execute("ALTER TABLE sorted RENAME TO records")
            misplaced = con.execute(check).fetchone()
            if misplaced and misplaced[0]:
                raise PatrimoineError("Le fichier de la version est invalide : les numéros de "
                                      "ligne (_row) doivent aller de 1 à n sans trou.")
        con.execute("DROP TABLE scratch.row_check")
        say(0.40, "Index des mots")
        _build_search_index(con, search, memory_bytes(limits.layout_memory_limit), say)
        _build_value_counts(con, columns, say)
        # Last: an index stays in memory until written, where it would take room from the
        # sorts and aggregates above (about 50 bytes a row).
        say(0.69, "Index des lignes")
        con.execute("CREATE UNIQUE INDEX records_row ON records(_row)")
        con.execute("CHECKPOINT")
        # Written before the layout is moved into place: a layout always has its row store.
        _build_row_store(con, columns, *row_store_paths(target), total, say)
        con.execute("DETACH scratch")
    except BaseException:
        con.close()
        source.close()
        for leftover in leftovers:
            leftover.unlink(missing_ok=True)
        raise
    con.close()
    source.close()
    for leftover in leftovers[2:]:
        leftover.unlink(missing_ok=True)
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, target)
    say(1.0, "Prête")


def _silent(fraction: float, step: str) -> None:
    pass


def remove_older_layouts(cache_root: Path, key: str) -> None:
    """Files of this content's layouts of an earlier LAYOUT_VERSION: never read again."""
    current = f"{key}-v{LAYOUT_VERSION}."
    for path in [*cache_root.glob(f"{key}-v*"), *cache_root.glob(f".{key}-v*.lock")]:
        if not path.name.lstrip(".").startswith(current):
            path.unlink(missing_ok=True)


def build_sort_positions(con: duckdb.DuckDBPyConnection, column: Column, path: Path,
                         limits: Limits) -> None:
    """The sort positions of `column` (see the module docstring), read from the layout
    opened as `con` and written to `path` (a temporary file first)."""
    cur = con.cursor()
    try:
        with time_guard(cur, limits.export_time_limit_seconds):
            # Insertion order is preserved, so a row's rowid is its position in the order.
            order = cur.sql(f"SELECT _row FROM records ORDER BY {sort_expr(column)} ASC "
                            "NULLS FIRST, _row ASC").to_arrow_table()
    finally:
        cur.close()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    writer = duckdb.connect(str(tmp), config=duckdb_config(limits))
    try:
        writer.register("order_table", order)
        writer.execute("CREATE TABLE positions AS SELECT _row FROM order_table")
        writer.execute("CHECKPOINT")
    finally:
        writer.close()
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)
