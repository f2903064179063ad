"""Exports of a version, whole or filtered: CSV, JSON, NDJSON, GeoJSON, Parquet, XLSX.

Every format is produced as a stream of byte chunks from DuckDB record batches, so an export
never holds the data in memory: CSV through Arrow's C++ writer, JSON kinds serialised by
DuckDB itself, Parquet through an Arrow writer flushed batch by batch, XLSX through
xlsxwriter's constant-memory mode into a temporary file that is then streamed and removed.

Columns are named and written as the caller's `Spelling`s say (reading/service.py gives the
headers of the loaded file, and the value spellings of the declared schema: its booleans'
words, its date formats, its decimal character); without them, the technical names and the
datastore's own spellings (ISO 8601 dates, `true`/`false`).

The CSV export of a whole version (no filter, no sort, every column, unrestricted view) is
kept beside the version's DuckDB layout the first time it is streamed (written while it is
sent, moved into place once complete): later requests send that file as it is.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import uuid
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from patrimoine.core.csvcells import FORMULA_STARTS, neutralise
from patrimoine.core.errors import Invalid
from patrimoine.datastore.engine import Column, VersionTable, check_identifier, quote
from patrimoine.datastore.ingest.names import free_name
from patrimoine.datastore.query import Query, SortKey, check_sort, order_by, where_clause

MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "ndjson": "application/x-ndjson",
    "geojson": "application/geo+json",
    "parquet": "application/vnd.apache.parquet",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FORMATS = tuple(MEDIA_TYPES)
NAMES = ("source", "technical")
DELIMITERS = (",", ";")
XLSX_MAX_ROWS = 1_048_575  # Excel's sheet limit, header excluded
CHUNK = 1 << 20
ARROW_TYPES = {
    "string": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "datetime": pa.timestamp("us"),
    "geometry": pa.string(),
}


@dataclass(frozen=True)
class Spelling:
    """How an export writes one column: its header and, when a schema describes the column
    (`field_type` set), its values as text the way that schema's field reads them."""

    header: str
    field_type: str | None = None  # the schema field's type (string, number, boolean, date...)
    true: str = "true"
    false: str = "false"
    date_format: str | None = None  # strftime pattern; ISO 8601 when None
    decimal_char: str = "."
    # Left out unless asked for by name: a column ingest derived (positions read from a
    # column of points), which the declared schema does not have.
    omitted: bool = False


Spellings = dict[str, Spelling]  # by technical column name


@dataclass(frozen=True)
class ExportRequest:
    format: str
    columns: tuple[str, ...] = ()
    sort: tuple[SortKey, ...] = ()
    delimiter: str = ","
    # CSV for French spreadsheets (Excel, LibreOffice): `;`, a UTF-8 byte order mark, decimal
    # commas in numbers; the delimiter asked is then ignored.
    excel: bool = False
    # "source": the columns under the headers of the loaded file; "technical": the API's names.
    names: str = "source"
    # When the data was published: stamped in formats that carry a date (XLSX), so that the
    # same export is the same bytes (its ETag is a strong validator).
    published: datetime | None = None


@dataclass
class Export:
    media_type: str
    filename: str
    chunks: Iterator[bytes]
    # A complete file holding exactly these bytes, to send instead of `chunks` (whole-version
    # CSV already kept).
    path: Path | None = None


@dataclass(frozen=True)
class _Out:
    """A column as an export writes it: the stored column, under its header."""

    column: Column
    spelling: Spelling | None

    @property
    def name(self) -> str:
        return self.column.name

    @property
    def type(self) -> str:
        return self.column.type

    @property
    def header(self) -> str:
        return self.spelling.header if self.spelling is not None else self.column.name

    @property
    def schema_field(self) -> str | None:
        """The type of the schema field describing the column, if one does."""
        return self.spelling.field_type if self.spelling is not None else None


def source_headers(columns: list[dict[str, Any]]) -> dict[str, str]:
    """Each column's header in the loaded file, by technical name: its technical name when
    it had none, or when an earlier column already goes by it (the latitude and longitude
    read from one column of points share that column's source name)."""
    taken: set[str] = set()
    headers = {}
    for c in columns:
        source = str(c.get("source_name") or "")
        headers[c["name"]] = free_name(source if source.strip() and source not in taken
                                       else c["name"], taken)
    return headers


def _spelled_sql(c: _Out) -> str:
    """SQL writing a column's values as text, the way its schema field reads them."""
    assert c.spelling is not None
    s, col = c.spelling, quote(c.name)
    if c.type == "boolean":
        return (f"CASE WHEN {col} THEN {_sql_literal(s.true)} "
                f"WHEN NOT {col} THEN {_sql_literal(s.false)} END")
    if c.type in ("date", "datetime"):
        iso = "%Y-%m-%d" if s.field_type == "date" else "%Y-%m-%dT%H:%M:%S"
        return f"strftime({col}, {_sql_literal(s.date_format or iso)})"
    if c.type == "number":
        # Whole numbers without a trailing ".0" (an integer field reads them too).
        text = (f"CASE WHEN isfinite({col}) AND {col} = trunc({col}) AND abs({col}) < 1e15 "
                f"THEN CAST(CAST({col} AS BIGINT) AS VARCHAR) ELSE CAST({col} AS VARCHAR) END")
        if s.decimal_char != ".":
            text = f"replace({text}, '.', {_sql_literal(s.decimal_char)})"
        return text
    if c.type in ("string", "geometry"):
        return _neutralised_sql(col)
    return f"CAST({col} AS VARCHAR)"


def _neutralised_sql(col: str) -> str:
    """SQL twin of core/csvcells.neutralise: the first character after any apostrophes."""
    starts = ", ".join(f"'{c}'" if c not in "\t\r" else f"chr({ord(c)})" for c in FORMULA_STARTS)
    return (f"CASE WHEN left(ltrim({col}, ''''), 1) IN ({starts}) THEN '''' || {col} "
            f"ELSE {col} END")


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def etag(table: VersionTable, query: Query, request: ExportRequest | Any) -> str:
    """Strong validator: the version's content hash and everything the answer depends on."""
    where = where_clause(table, query, use_index=False)
    body = json.dumps([table.key, where.text, where.params, request], default=_default,
                      ensure_ascii=False, sort_keys=True)
    return '"' + hashlib.sha256(body.encode()).hexdigest()[:40] + '"'


def _default(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if hasattr(value, "__dataclass_fields__"):
        return {k: getattr(value, k) for k in value.__dataclass_fields__}
    return str(value)


def export(table: VersionTable, query: Query, request: ExportRequest, basename: str,
           spellings: Spellings | None = None) -> Export:
    """Check the request now (errors before any byte is sent), then stream the export, each
    column written as `spellings` says (technical name and datastore spelling otherwise)."""
    fmt = request.format.lower()
    if fmt not in MEDIA_TYPES:
        raise Invalid(f"Format d'export « {request.format} » inconnu.",
                      errors=["Formats : " + ", ".join(FORMATS) + "."])
    if fmt == "csv" and request.delimiter not in DELIMITERS:
        raise Invalid("Le séparateur CSV doit être « , » ou « ; ».")
    if request.names not in NAMES:
        raise Invalid(f"Noms de colonnes « {request.names} » inconnus : « source » (ceux du "
                      "fichier chargé) ou « technical » (ceux de l'API).")
    spellings = spellings or {}
    chosen = [check_identifier(table.columns, c) for c in request.columns] or [
        c for c in table.columns if not (c.name in spellings and spellings[c.name].omitted)]
    columns = [_Out(c, spellings.get(c.name)) for c in chosen]
    sort = check_sort(table, request.sort)
    where = where_clause(table, query)
    where_sql = f" WHERE {where.text}" if where.text else ""
    # Without a sort, records come in _row order already (stored so, insertion order kept).
    order_sql = where.order(order_by(table, sort) if sort else "")
    tail = f" FROM records{where_sql}{order_sql}"
    filename = f"{basename}.{fmt}"
    if fmt == "csv":
        kept = csv_cache_path(table, query, request, spellings)
        if kept is not None and kept.is_file():
            return Export(MEDIA_TYPES[fmt], filename, _read(kept), path=kept)
        chunks = _csv(table, columns, tail, where.params,
                      ";" if request.excel else request.delimiter, excel=request.excel)
        if kept is not None:
            chunks = _keep(chunks, kept)
    elif fmt in ("json", "ndjson"):
        obj = _json_object(columns)
        chunks = _json_lines(table, f"SELECT {obj}{tail}", where.params,
                             array=fmt == "json")
    elif fmt == "geojson":
        chunks = _geojson(table, columns, tail, where.params)
    elif fmt == "parquet":
        chunks = _parquet(table, columns, tail, where.params)
    else:
        count_sql = f"SELECT count(*) FROM records{where_sql}"
        total = int(table.fetch(count_sql, where.params)[0][0])
        if total > XLSX_MAX_ROWS:
            raise Invalid(f"Un fichier Excel contient au plus {XLSX_MAX_ROWS:,} lignes ; cet "
                          f"export en compte {total:,}. Filtrez ou choisissez CSV ou Parquet."
                          .replace(",", "\u202f"))
        chunks = _xlsx(table, columns, tail, where.params, request.published)
    return Export(MEDIA_TYPES[fmt], filename, chunks)


def csv_cache_path(table: VersionTable, query: Query, request: ExportRequest,
                   spellings: Spellings | None = None) -> Path | None:
    """Where the CSV export of the whole version (written with `spellings`) is kept, or None
    when `request` asks for anything else (filter, search, sort, chosen columns, restricted
    view)."""
    layout = table.layout_path
    if (request.format.lower() != "csv" or request.delimiter not in DELIMITERS
            or request.sort or not layout.name or table.stored_names
            or table.row_scope is not None):
        return None
    if request.columns and list(request.columns) != table.names:
        return None
    if where_clause(table, query, use_index=False).text:
        return None
    tag = "excel" if request.excel else "comma" if request.delimiter == "," else "semicolon"
    if spellings:
        written = json.dumps([spellings.get(n) for n in table.names], default=_default)
        tag += "-" + hashlib.sha256(written.encode()).hexdigest()[:16]
    # Named like the layout's other files (<hash>-v<n>….duckdb, though it holds CSV), so that
    # whatever removes or measures a version's cache files (retention) includes it.
    return layout.with_name(f"{layout.stem}.export-{tag}-csv.duckdb")


def _read(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            yield chunk


def _keep(chunks: Iterator[bytes], path: Path) -> Iterator[bytes]:
    """The chunks, also written to `path` (temporary file, moved into place when complete)."""
    # Unique: an abandoned download's generator may be closed later, in the same thread.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
    try:
        out = open(tmp, "wb")  # noqa: SIM115 (closed below, after the last chunk)
    except OSError:  # nowhere to keep it: stream only
        yield from chunks
        return
    complete = False
    try:
        with out:
            for chunk in chunks:
                out.write(chunk)
                yield chunk
            out.flush()
            os.fsync(out.fileno())
        complete = True
    finally:
        if complete:
            os.replace(tmp, path)
        else:
            tmp.unlink(missing_ok=True)


class _Sink:
    """A write-only file object collecting what Arrow writers produce, drained per batch."""

    closed = False

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: Any) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def drain(self) -> bytes:
        out = b"".join(self.parts)
        self.parts = []
        return out


def _csv(table: VersionTable, columns: list[_Out], tail: str, params: list[Any],
         delimiter: str, *, excel: bool = False) -> Iterator[bytes]:
    exprs = []
    for c in columns:
        col = quote(c.name)
        if c.schema_field is not None:
            exprs.append(f"{_spelled_sql(c)} AS {col}")
        elif excel and c.type == "number":  # what a French spreadsheet reads as a number
            exprs.append(f"replace(CAST({col} AS VARCHAR), '.', ',') AS {col}")
        elif c.type in ("string", "geometry"):
            exprs.append(f"{_neutralised_sql(col)} AS {col}")
        elif c.type == "datetime":
            exprs.append(f"strftime({col}, '%Y-%m-%dT%H:%M:%S') AS {col}")
        else:
            exprs.append(col)
    sql = f"SELECT {', '.join(exprs)}{tail}"
    names = [neutralise(c.header) for c in columns]
    options = pacsv.WriteOptions(include_header=False, delimiter=delimiter)
    header = pacsv.WriteOptions(include_header=True, delimiter=delimiter)
    if excel:  # the mark by which Excel reads the file as UTF-8
        yield b"\xef\xbb\xbf"
    # Header through Arrow too, so that names get the same quoting as values.
    yield _csv_bytes(pa.table({n: pa.array([], pa.string()) for n in names}), header)
    # Arrow's CSV writer is single-threaded but releases the GIL: encode batches on two
    # threads while DuckDB reads the next ones, keeping a few batches in flight at most.
    pending: deque[Future[bytes]] = deque()
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="csv-export") as pool:
        for batch in table.stream(sql, params):
            pending.append(pool.submit(_csv_bytes, batch, options))
            while len(pending) > 3:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _csv_bytes(data: pa.RecordBatch | pa.Table, options: pacsv.WriteOptions) -> bytes:
    sink = pa.BufferOutputStream()
    pacsv.write_csv(data, sink, options)
    return sink.getvalue().to_pybytes()


def _json_value(c: _Out) -> str:
    col = quote(c.name)
    if c.type == "geometry":
        return f"json({col})"
    if c.type == "datetime":
        return f"strftime({col}, '%Y-%m-%dT%H:%M:%S')"
    if c.type == "number":
        return f"CASE WHEN isfinite({col}) THEN {col} END"
    return col


def _json_object(columns: list[_Out]) -> str:
    pairs = ", ".join(f"{_sql_literal(c.header)}, {_json_value(c)}" for c in columns)
    return f"CAST(json_object({pairs}) AS VARCHAR) || chr(10)"


def _concatenated(batch: pa.RecordBatch) -> bytes:
    """The bytes of a batch's only string column, concatenated (no per-value Python work)."""
    arr = batch.column(0)
    if arr.type != pa.large_string():
        arr = arr.cast(pa.large_string())
    if len(arr) == 0:
        return b""
    offsets = pa.Array.from_buffers(pa.int64(), len(arr) + 1, [None, arr.buffers()[1]],
                                    offset=arr.offset)
    start, end = offsets[0].as_py(), offsets[-1].as_py()
    data = arr.buffers()[2]
    return data.slice(start, end - start).to_pybytes() if data is not None else b""


def _json_lines(table: VersionTable, sql: str, params: list[Any], *, array: bool,
                opening: bytes = b"[\n", closing: bytes = b"\n]\n") -> Iterator[bytes]:
    if array:
        yield opening
    separator = b""
    for batch in table.stream(sql, params):
        data = _concatenated(batch)
        if not data:
            continue
        if array:
            # Each line ends with "\n": turn line ends into ",\n" except the very last.
            body = data[:-1].replace(b"\n", b",\n")
            yield separator + body
            separator = b",\n"
        else:
            yield data
    if array:
        yield closing


def _geojson(table: VersionTable, columns: list[_Out], tail: str,
             params: list[Any]) -> Iterator[bytes]:
    geometry_columns = [c for c in table.columns if c.type == "geometry"]
    if geometry_columns:
        geometry = f"json({quote(geometry_columns[0].name)})"
        skip = {geometry_columns[0].name}
    elif table.positions:
        lat, lon = quote(table.positions["lat"]), quote(table.positions["lon"])
        geometry = (f"CASE WHEN {lat} IS NOT NULL AND {lon} IS NOT NULL THEN json_object("
                    f"'type', 'Point', 'coordinates', json_array({lon}, {lat})) END")
        skip = set()
    else:
        raise Invalid("Cette version n'a ni géométrie ni positions : l'export GeoJSON n'est pas "
                      "possible. Choisissez CSV, JSON ou Parquet.")
    props = [c for c in columns if c.name not in skip]
    pairs = ", ".join(f"{_sql_literal(c.header)}, {_json_value(c)}" for c in props)
    feature = (f"CAST(json_object('type', 'Feature', 'id', _row, 'geometry', {geometry}, "
               f"'properties', json_object({pairs})) AS VARCHAR) || chr(10)")
    return _json_lines(table, f"SELECT {feature}{tail}", params, array=True,
                       opening=b'{"type": "FeatureCollection", "features": [\n',
                       closing=b"\n]}\n")


def _arrow_schema(columns: list[_Out]) -> pa.Schema:
    return pa.schema([pa.field(c.header, ARROW_TYPES.get(c.type, pa.string()))
                      for c in columns])


def _parquet(table: VersionTable, columns: list[_Out], tail: str,
             params: list[Any]) -> Iterator[bytes]:
    schema = _arrow_schema(columns)
    sql = f"SELECT {', '.join(quote(c.name) for c in columns)}{tail}"
    sink = _Sink()
    writer = pq.ParquetWriter(pa.PythonFile(sink, mode="w"), schema, compression="zstd")
    for batch in table.stream(sql, params, batch_size=122_880):
        writer.write_batch(pa.RecordBatch.from_arrays(
            [col.cast(f.type) for col, f in zip(batch.columns, schema, strict=True)],
            schema=schema))
        data = sink.drain()
        if data:
            yield data
    writer.close()
    yield sink.drain()


def _xlsx_native(c: _Out) -> bool:
    """Whether the cell keeps its Excel type (number, date) rather than the schema's text:
    when the schema field reads that type as it is (a number, a date)."""
    field = c.schema_field
    if field is None:
        return True
    return ((c.type in ("integer", "number") and field in ("integer", "number"))
            or (c.type in ("date", "datetime") and field in ("date", "datetime")))


def _xlsx(table: VersionTable, columns: list[_Out], tail: str,
          params: list[Any], published: datetime | None) -> Iterator[bytes]:
    import xlsxwriter

    texts = [not _xlsx_native(c) for c in columns]
    selects = [f"{_spelled_sql(c)} AS {quote(c.name)}" if text else quote(c.name)
               for c, text in zip(columns, texts, strict=True)]
    sql = f"SELECT {', '.join(selects)}{tail}"
    fd, name = tempfile.mkstemp(suffix=".xlsx", prefix="patrimoine-export-")
    os.close(fd)
    try:
        workbook = xlsxwriter.Workbook(name, {
            "constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
            "strings_to_urls": False, "nan_inf_to_errors": True,
        })
        # Without it xlsxwriter stamps the current time: two downloads would differ.
        workbook.set_properties({"created": (published or datetime(1980, 1, 1)).replace(
            tzinfo=None)})
        sheet = workbook.add_worksheet("Données")
        bold = workbook.add_format({"bold": True})
        date_format = workbook.add_format({"num_format": "dd/mm/yyyy"})
        datetime_format = workbook.add_format({"num_format": "dd/mm/yyyy hh:mm:ss"})
        for j, c in enumerate(columns):
            sheet.write_string(0, j, neutralise(c.header), bold)
        writers = []
        for c, text in zip(columns, texts, strict=True):
            if text:  # spelled and neutralised by the query
                writers.append(lambda r, j, v: sheet.write_string(r, j, v))
            elif c.type in ("string", "geometry"):
                writers.append(lambda r, j, v: sheet.write_string(r, j, neutralise(v)))
            elif c.type in ("integer", "number"):
                writers.append(lambda r, j, v: sheet.write_number(r, j, v))
            elif c.type == "boolean":
                writers.append(lambda r, j, v: sheet.write_boolean(r, j, v))
            elif c.type == "date":
                writers.append(lambda r, j, v: sheet.write_datetime(r, j, v, date_format))
            else:
                writers.append(lambda r, j, v: sheet.write_datetime(r, j, v, datetime_format))
        row = 1
        for batch in table.stream(sql, params):
            data = batch.to_pydict()
            values = [data[c.name] for c in columns]
            for i in range(batch.num_rows):
                for j, write in enumerate(writers):
                    v = values[j][i]
                    if v is not None:
                        write(row, j, v)
                row += 1
        workbook.close()
        with open(name, "rb") as fh:
            while chunk := fh.read(CHUNK):
                yield chunk
    finally:
        os.unlink(name)
