"""Each file kind opened as a DuckDB relation of raw columns r0, r1, … with source names.

Text formats give VARCHAR columns (typed later by coltypes); typed formats (JSON, Parquet,
spreadsheets, GeoJSON properties) keep their own types.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from patrimoine.core.errors import Invalid
from patrimoine.core.filelimits import FileLimits, check_workbook
from patrimoine.datastore.ingest import crs, jsonstream, messages, textfile
from patrimoine.datastore.ingest.coltypes import quote_literal
from patrimoine.datastore.ingest.plan import IngestPlan, Overrides

EXTENSIONS = {
    ".csv": "csv", ".tsv": "csv", ".txt": "csv", ".tab": "csv",
    ".xlsx": "xlsx", ".xlsm": "xlsx", ".xls": "xlsx", ".ods": "ods",
    ".json": "json", ".ndjson": "ndjson", ".jsonl": "ndjson", ".geojson": "geojson",
    ".parquet": "parquet", ".pq": "parquet",
}


@dataclass
class RawSource:
    relation: str  # a FROM-able SQL expression with columns r0…r{n-1}
    source_names: list[str]
    raw_types: list[str] = field(default_factory=list)
    dialect: textfile.Dialect | None = None
    # The UTF-8 file DuckDB reads (differs from the upload when it was re-encoded).
    text_path: Path | None = None
    # Column index -> type imposed by the format (GeoJSON geometry and its point coordinates).
    fixed_types: dict[int, str] = field(default_factory=dict)
    # (latitude index, longitude index) when the format itself gives positions.
    position_indexes: tuple[int, int] | None = None
    max_line_bytes: int = 0  # CSV: the longest record read


def detect_format(path: Path, overrides: Overrides) -> str:
    if overrides.format:
        return overrides.format
    head = textfile.read_head(path, 4096)
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"PK\x03\x04"):
        return "ods" if b"opendocument.spreadsheet" in head else "xlsx"
    by_extension = EXTENSIONS.get(path.suffix.lower())
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if by_extension in ("json", "geojson", None) and stripped[:1] in (b"[", b"{"):
        if b'"FeatureCollection"' in head or by_extension == "geojson":
            return "geojson"
        if stripped[:1] == b"[":
            return "json"
        return "ndjson"
    return by_extension or "csv"


def _raw_columns(n: int) -> list[str]:
    return [f"r{i}" for i in range(n)]


# CSV


def open_csv(con: duckdb.DuckDBPyConnection, path: Path, plan: IngestPlan, overrides: Overrides,
             workdir: Path, *, full: bool, progress: Callable[[float], None] | None,
             max_line_bytes: int) -> RawSource:
    head = textfile.read_head(path)
    if not head.strip():
        raise Invalid(f"{path.name} : le fichier est vide.")
    encoding = textfile.check_encoding(overrides.encoding) if overrides.encoding else (
        textfile.detect_encoding(head))
    plan.encoding = encoding
    text = textfile.decode_head(head, encoding)
    dialect = textfile.detect_dialect(text, overrides.delimiter, overrides.header_row)
    plan.delimiter = dialect.delimiter
    plan.header_row = dialect.header_row
    plan.title_rows = dialect.title_rows
    plan.pad_short_rows = bool(dialect.short_rows)
    if dialect.headerless:
        plan.problems.append(
            "Pas de ligne d'en-tête : la première ligne ressemble à des données (dates, "
            "nombres ou phrases) ; les colonnes sont nommées colonne_1, colonne_2… Précisez la "
            "ligne d'en-tête si ce n'est pas le cas.")
    if dialect.title_rows:
        plan.problems.append(
            f"{len(dialect.title_rows)} ligne(s) de titre au-dessus de l'en-tête ignorée(s) : "
            + " / ".join(f"« {t[:80]} »" for t in dialect.title_rows[:3])
        )
    if dialect.short_rows:
        plan.problems.append(
            f"Lignes plus courtes que l'en-tête (complétées par des valeurs vides), par exemple "
            f"ligne(s) {', '.join(str(n) for n in dialect.short_rows[:5])}."
        )
    for line, fields in dialect.long_rows[:5]:
        plan.problems.append(
            f"Ligne {line} : {fields} champs alors que l'en-tête en compte "
            f"{dialect.column_count} ; le chargement sera refusé."
        )
    limit = None if full else 4 * textfile.SNIFF_BYTES
    errors = "strict"
    if encoding in textfile.NATIVE_ENCODINGS:
        scan = textfile.scan_utf8(path, limit)
        if scan.invalid and not overrides.encoding and not (scan.has_stray_bytes or scan.mixed):
            encoding = plan.encoding = "cp1252"  # pure ASCII head, then no UTF-8 at all
        elif scan.mixed and not overrides.encoding:
            raise Invalid(
                f"{path.name} : le fichier mélange deux encodages, des caractères UTF-8 et "
                f"{scan.invalid} octets invalides en UTF-8 ({scan.where()}). Enregistrez-le "
                "dans un seul encodage, ou précisez son encodage (par exemple cp1252).")
        elif scan.invalid:
            errors = "replace"
            plan.replaced_bytes, plan.replaced_lines = scan.invalid, scan.invalid_lines or []
            plan.problems.append(
                f"{scan.invalid} octet(s) invalide(s) en UTF-8 remplacé(s) par « \ufffd » "
                f"({scan.where()}) : corrigez-les dans le fichier source.")
    mixed = None if encoding.startswith("utf-16") else textfile.mixed_line_ends(
        path, textfile.SNIFF_BYTES)
    if mixed is not None:
        plan.problems.append(_mixed_line_ends(mixed))
    if encoding in textfile.NATIVE_ENCODINGS and errors == "strict" and mixed is None:
        text_path = path
    else:
        text_path = workdir / "source-utf8.csv"
        textfile.transcode(path, text_path, encoding, limit=limit, progress=progress,
                           errors=errors, lf_line_ends=mixed is not None)
    names = dialect.header
    if dialect.second_header is not None:
        line, lower = dialect.second_header
        names = _two_header_rows(plan, names, [textfile.header_name(c) for c in lower],
                                 (dialect.header_row, line))
    raw = RawSource(relation="", source_names=names, dialect=dialect, text_path=text_path,
                    max_line_bytes=max_line_bytes)
    raw.raw_types = ["VARCHAR"] * dialect.column_count
    raw.relation = csv_relation(text_path, dialect, pad=plan.pad_short_rows,
                                max_line_bytes=max_line_bytes)
    return raw


def _mixed_line_ends(line: int) -> str:
    return (f"Fins de ligne mélangées (CRLF, LF ou CR, à partir de la ligne {line}) : le "
            "fichier est lu comme un lecteur CSV standard le lit.")


def read_with_lf_line_ends(raw: RawSource, plan: IngestPlan, workdir: Path) -> bool:
    """When DuckDB stopped on a CSV whose line ends are mixed beyond its sniffed start: read
    it again through a UTF-8 copy with LF line ends (see textfile). False when they are not
    mixed (or the copy was already made)."""
    path = Path(plan.path)
    if raw.dialect is None or raw.text_path is None or raw.text_path.name == "source-lf.csv":
        return False
    mixed = textfile.mixed_line_ends(path)
    if mixed is None:
        return False
    target = workdir / "source-lf.csv"
    textfile.transcode(path, target, plan.encoding or "utf-8", lf_line_ends=True,
                       errors="replace" if plan.replaced_bytes else "strict")
    plan.problems.append(_mixed_line_ends(mixed))
    raw.text_path = target
    raw.relation = csv_relation(target, raw.dialect, pad=plan.pad_short_rows,
                                max_line_bytes=raw.max_line_bytes)
    return True


def csv_relation(text_path: Path, dialect: textfile.Dialect, *, pad: bool,
                 max_line_bytes: int) -> str:
    # max_line_size is always given: with DuckDB's default a single long row is silently
    # dropped instead of refused. DuckDB's parallel scanner cannot complete short rows when
    # cells hold line breaks: padding reads the file in one thread. DuckDB reads a file
    # larger than 16 times max_line_size (1 GiB by default) in blocks of that size, more
    # than the load's memory limit: such files are read in blocks of max_line_size (a
    # record longer than that is then refused without its line number).
    columns = "{" + ", ".join(f"'r{i}': 'VARCHAR'" for i in range(dialect.column_count)) + "}"
    buffer = f", buffer_size={max_line_bytes}" \
        if text_path.stat().st_size > 16 * max_line_bytes else ""
    return (
        f"read_csv({quote_literal(str(text_path))}, delim={quote_literal(dialect.delimiter)}, "
        f"quote='\"', escape='\"', header=false, skip={dialect.skip_records}, columns={columns}, "
        f"auto_detect=false, null_padding={'true, parallel=false' if pad else 'false'}, "
        f"allow_quoted_nulls=false, max_line_size={max_line_bytes}{buffer})"
    )


# JSON, NDJSON, Parquet (read by DuckDB with their own types)


def _relation_source(con: duckdb.DuckDBPyConnection, path: Path, what: str,
                     from_sql: str) -> RawSource:
    try:
        rel = con.sql(f"SELECT * FROM {from_sql}")
        names, types = rel.columns, [str(t) for t in rel.types]
    except duckdb.Error as exc:
        raise Invalid(f"{path.name} : {messages.french(exc, what)}.") from None
    select = ", ".join(f"{_ident(n)} AS r{i}" for i, n in enumerate(names))
    return RawSource(relation=f"(SELECT {select} FROM {from_sql})", source_names=list(names),
                     raw_types=types)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def open_json(con: duckdb.DuckDBPyConnection, path: Path, fmt: str) -> RawSource:
    style = "array" if fmt == "json" else "newline_delimited"
    return _relation_source(
        con, path, "fichier JSON" if fmt == "json" else "fichier NDJSON",
        f"read_json({quote_literal(str(path))}, format='{style}', records=true, "
        f"sample_size=-1, maximum_object_size=134217728)")


def open_parquet(con: duckdb.DuckDBPyConnection, path: Path) -> RawSource:
    return _relation_source(con, path, "fichier Parquet",
                            f"read_parquet({quote_literal(str(path))})")


# Spreadsheets and GeoJSON: read in Python, chunk by chunk, into a Parquet file of the workdir.
# A first pass gathers each column's kinds of values (and the header, the CRS), a second one
# writes the rows with the column types decided: memory holds one chunk, not the file.

CHUNK_CELLS = 500_000


class ColumnKinds:
    """The kinds of the values one column holds, gathered chunk by chunk, and the Arrow type
    they make: a typed column when every value has one kind, else text."""

    def __init__(self) -> None:
        self.kinds: set[str] = set()
        self.huge = False  # an integer beyond 64 bits
        self.clock = False  # a datetime with a time of day

    def add(self, values: Iterable[Any]) -> None:
        present = [v for v in values if v is not None and v != ""]
        kinds = set(map(_kind, present))
        self.kinds |= kinds
        if not self.huge and kinds & {"int", "integral"}:
            self.huge = any(abs(v) >= 2**63 for v in present if type(v) is int
                            or type(v) is float and v.is_integer())
        if not self.clock and "datetime" in kinds:
            self.clock = any(v.time() != time(0) for v in present if isinstance(v, datetime))

    def arrow_type(self) -> pa.DataType:
        kinds = self.kinds
        if not kinds:
            return pa.string()
        if kinds == {"bool"}:
            return pa.bool_()
        if kinds <= {"int", "integral"} and not self.huge:
            return pa.int64()
        if kinds <= {"int", "integral", "float"}:
            return pa.float64()
        if kinds <= {"date", "datetime"}:
            return pa.timestamp("us") if self.clock else pa.date32()
        return pa.string()

    def array(self, values: list[Any]) -> pa.Array:
        kind = self.arrow_type()
        values = [None if v == "" else v for v in values]
        if kind == pa.int64():
            return pa.array([None if v is None else int(v) for v in values], kind)
        if kind == pa.float64():
            return pa.array([None if v is None else float(v) for v in values], kind)
        if kind == pa.date32():
            return pa.array([v.date() if isinstance(v, datetime) else v for v in values], kind)
        if kind == pa.timestamp("us"):
            return pa.array([v if v is None or isinstance(v, datetime) else
                             datetime.combine(v, time(0)) for v in values], kind)
        if kind == pa.string():
            return pa.array([None if v is None else _text(v) for v in values], kind)
        return pa.array(values, kind)


def arrow_column(values: list[Any]) -> pa.Array:
    """A typed Arrow array when every value has one kind, else text."""
    kinds = ColumnKinds()
    kinds.add(values)
    return kinds.array(values)


def _kind(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "integral" if math.isfinite(v) and v.is_integer() else "float"
    if isinstance(v, datetime):
        return "datetime"
    if isinstance(v, date):
        return "date"
    return "text"


def _text(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (datetime, date, time)):
        return v.isoformat()
    if isinstance(v, timedelta):
        return str(v)
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False)
    return str(v)


class _ChunkWriter:
    """Rows written to a Parquet file as columns r0…, a chunk at a time."""

    def __init__(self, target: Path, kinds: list[ColumnKinds]) -> None:
        self.target, self.kinds = target, kinds
        self.schema = pa.schema([pa.field(f"r{i}", k.arrow_type()) for i, k in enumerate(kinds)])
        self.writer = pq.ParquetWriter(target, self.schema, compression="snappy")

    def write(self, columns: list[list[Any]]) -> None:
        arrays = [k.array(c) for k, c in zip(self.kinds, columns, strict=True)]
        self.writer.write_table(pa.Table.from_arrays(arrays, schema=self.schema))

    def close(self) -> None:
        self.writer.close()


def _parquet_source(con: duckdb.DuckDBPyConnection, target: Path, names: list[str]
                    ) -> RawSource:
    relation = f"read_parquet({quote_literal(str(target))})"
    types = [str(t) for t in con.sql(f"SELECT * FROM {relation}").types]
    return RawSource(relation=relation, source_names=names, raw_types=types)


HEAD_ROWS = 200  # rows looked at to find the header of a sheet


def open_spreadsheet(con: duckdb.DuckDBPyConnection, path: Path, plan: IngestPlan,
                     overrides: Overrides, limits: FileLimits, workdir: Path) -> RawSource:
    rows = _sheet(path, plan, overrides, limits)

    def numbered() -> Iterator[tuple[int, list[Any]]]:
        """The sheet's non-empty rows with their row numbers."""
        for n, row in enumerate(rows(), 1):
            if any(c not in (None, "") for c in row):
                yield n, row

    layout = _SheetLayout(overrides.header_row)
    for n, row in numbered():
        layout.add(n, row)
    if not layout.width:
        raise Invalid(f"{path.name} : la feuille « {plan.sheet} » est vide.")
    layout.finish(path.name)
    width, header = layout.width, layout.header
    if header is None:
        names, plan.header_row = [""] * width, 0
    else:
        plan.title_rows = [" ".join(t for t in (_text(c) for c in r if c not in (None, ""))
                                    if t.strip()) for r in layout.titles]
        if plan.title_rows:
            plan.problems.append(
                f"{len(plan.title_rows)} ligne(s) de titre au-dessus de l'en-tête ignorée(s)."
            )
        names = [_text(c) if c not in (None, "") else "" for c in header[1]]
        names += [""] * (width - len(names))
        plan.header_row = header[0]
        if layout.above is not None:
            upper = [_text(c) if c not in (None, "") else "" for c in layout.above[1]]
            names = _two_header_rows(plan, upper + [""] * (width - len(upper)), names,
                                     (layout.above[0], header[0]))
        if layout.second is not None:
            lower = [_text(c) if c not in (None, "") else "" for c in layout.second[1]]
            names = _two_header_rows(plan, names, lower, (header[0], layout.second[0]))
            plan.header_row = layout.second[0]
    # Second pass: the data rows, written a chunk at a time.
    target = workdir / "source.parquet"
    writer = _ChunkWriter(target, layout.kinds)
    first = plan.header_row
    chunk_rows = max(1_000, CHUNK_CELLS // width)
    chunk: list[list[Any]] = []
    try:
        for n, row in numbered():
            if n <= first:
                continue
            chunk.append(row)
            if len(chunk) == chunk_rows:
                writer.write(_columns(chunk, width))
                chunk = []
        writer.write(_columns(chunk, width))
    finally:
        writer.close()
    return _parquet_source(con, target, [textfile.header_name(h) for h in names])


def _columns(rows: list[list[Any]], width: int) -> list[list[Any]]:
    """Rows turned into `width` columns, short rows completed with None."""
    if not rows:
        return [[] for _ in range(width)]
    padded = [r if len(r) == width else r + [None] * (width - len(r)) for r in rows]
    return [list(c) for c in zip(*padded, strict=True)]


def _sheet(path: Path, plan: IngestPlan, overrides: Overrides, limits: FileLimits
           ) -> Callable[[], Iterator[list[Any]]]:
    """The rows of the sheet to load, from row 1 and column A (a function: each call reads
    them again), after the workbook's bounds were checked.

    python-calamine holds the whole sheet in memory (some 80 bytes a cell, bounded by
    `max_spreadsheet_cells`); openpyxl's streaming read-only mode would not, but reads twenty
    times slower (benchmarks/README.md)."""
    from python_calamine import CalamineError, CalamineWorkbook, PasswordError, XmlError, ZipError

    check_workbook(path, path.name, limits)
    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except PasswordError:
        raise Invalid(f"{path.name} : classeur protégé par un mot de passe ; enregistrez-le "
                      "sans protection.") from None
    except (CalamineError, XmlError, ZipError, OSError, ValueError):
        raise Invalid(f"{path.name} : classeur illisible (fichier endommagé ou d'un format "
                      "inconnu).") from None
    sheets = workbook.sheet_names
    if not sheets:
        raise Invalid(f"{path.name} : le classeur ne contient aucune feuille.")
    sheet = overrides.sheet or sheets[0]
    if sheet not in sheets:
        raise Invalid(f"{path.name} : pas de feuille « {sheet} » (feuilles : {', '.join(sheets)}).")
    plan.sheet = sheet
    if len(sheets) > 1 and not overrides.sheet:
        plan.problems.append(
            f"Le classeur a {len(sheets)} feuilles ; seule la première (« {sheet} ») est chargée."
        )
    cells = workbook.get_sheet_by_name(sheet)
    left = [""] * (cells.start[1] if cells.start else 0)
    return lambda: (left + list(row) for row in cells.iter_rows())


class _SheetLayout:
    """The first pass over a sheet's non-empty rows: title rows, header, width and each
    column's kinds of values. The header is found in the first HEAD_ROWS rows, or is the row
    the user chose (`wanted`; 0: none)."""

    def __init__(self, wanted: int | None) -> None:
        self.wanted = wanted
        self.head: list[tuple[int, list[Any]]] = []
        self.header: tuple[int, list[Any]] | None = None
        # A second header row under the first (codes under labels, years under a merged
        # title): found only when the header is found, not chosen.
        self.second: tuple[int, list[Any]] | None = None
        # A row of group titles right above the header, each merged over its columns
        # (« Accueil téléphonique » over Rapidité, Amabilité...): found, not chosen, too.
        self.above: tuple[int, list[Any]] | None = None
        self.titles: list[list[Any]] = []
        self.kinds: list[ColumnKinds] = []
        self.width = 0
        self.decided = False
        self._pending: list[list[Any]] = []

    def add(self, n: int, row: list[Any]) -> None:
        self.width = max(self.width, len(row))
        if self.decided:
            self._feed(row)
        elif self.wanted:  # rows above the chosen header are titles
            if n >= self.wanted:
                self.header, self.decided = (n, row), True
            elif len(self.titles) < HEAD_ROWS:
                self.titles.append(row)
        else:
            self.head.append((n, row))
            if len(self.head) == HEAD_ROWS:
                self._decide()

    def finish(self, filename: str) -> None:
        if not self.decided:
            if self.wanted:
                raise Invalid(f"{filename} : la ligne d'en-tête {self.wanted} est vide ou "
                              "au-delà des données.")
            self._decide()
        self._flush()
        self.kinds.extend(ColumnKinds() for _ in range(self.width - len(self.kinds)))

    def _feed(self, row: list[Any]) -> None:
        self._pending.append(row)
        if len(self._pending) >= 1_000:
            self._flush()

    def _flush(self) -> None:
        """Gather the kinds of the pending rows, a column at a time."""
        width = max(map(len, self._pending), default=0)
        self.kinds.extend(ColumnKinds() for _ in range(width - len(self.kinds)))
        for k, column in zip(self.kinds, _columns(self._pending, width), strict=False):
            k.add(column)
        self._pending = []

    def _decide(self) -> None:
        self.decided = True
        rest = self.head
        if self.wanted != 0:
            as_text = [[_text(c) if c not in (None, "") else "" for c in r] for _, r in self.head]
            index = _header_index(as_text, None)
            self.titles = [r for _, r in self.head[:index]]
            self.header, rest = self.head[index], self.head[index + 1:]
            if self.wanted is None and _second_header([r for _, r in self.head], index,
                                                      self.width):
                self.second, rest = rest[0], rest[1:]
            elif (self.wanted is None and index and self.head[index - 1][0] == self.header[0] - 1
                  and _group_titles(self.head[index - 1][1], self.header[1])):
                self.above, self.titles = self.head[index - 1], self.titles[:-1]
        for _, r in rest:
            self._feed(r)
        self.head = []


_CODE = re.compile(r"[A-Z][A-Z0-9_]*")
SECOND_HEADER_LOOKAHEAD = 50


def _second_header(rows: list[list[Any]], index: int, width: int) -> bool:
    """Whether the row after the header is a second header row (INSEE's workbooks write
    labels, then variable codes; a table of amounts writes a year under each merged title):
    every cell text and none looking like data, either all variable codes (`NB_COM`) or under
    a title merged over several cells, and below it at least one column whose cells are all
    numbers or dates where this row holds text. A first data row of plain words (« Total »,
    « n.c. ») is none of these, so it stays data."""
    if index + 2 > len(rows):
        return False
    upper, below = rows[index], rows[index + 1]
    merged: set[int] = set()  # columns under a title merged over several cells
    for j, c in enumerate(below):
        if c not in (None, "") and (j >= len(upper) or upper[j] in (None, "")):
            start = next((k for k in range(min(j, len(upper) - 1), -1, -1)
                          if upper[k] not in (None, "")), None)
            if start is not None:
                merged.update(range(start, j + 1))
    if merged:
        # Under a merged title, years are names: « Montant » over 2022, 2023, 2024.
        below = [_text(c) if j in merged and _year(c) else c for j, c in enumerate(below)]
    cells = [c for c in below if c not in (None, "")]
    need = 1 if width <= 1 else max(2, (width + 1) // 2)
    if len(cells) < need or not all(isinstance(c, str) for c in cells):
        return False
    if textfile.looks_like_data([c for j, c in enumerate(below)
                                 if c not in (None, "") and not (merged and j in merged)]):
        return False
    if not merged and not all(_CODE.fullmatch(c.strip()) for c in cells):
        return False
    data = rows[index + 2: index + 2 + SECOND_HEADER_LOOKAHEAD]
    for j, cell in enumerate(below):
        if not isinstance(cell, str) or not cell.strip():
            continue
        values = [r[j] for r in data if j < len(r) and r[j] not in (None, "")]
        if values and not any(isinstance(v, str) for v in values):
            return True
    return False


def _group_titles(upper: list[Any], header: list[Any]) -> bool:
    """Whether the row right above the header holds titles merged over groups of its
    columns: several short texts, each over a header cell, above a header whose names repeat
    from one group to the next (« Orientation » under « Accueil téléphonique » and again
    under « Locaux »): without the titles the names would not say which is which."""
    cells = [(j, c) for j, c in enumerate(upper) if c not in (None, "")]
    names = [_text(c).strip() for c in header if c not in (None, "") and _text(c).strip()]
    if len(cells) < 2 or len(set(names)) == len(names):
        return False
    if not all(isinstance(c, str) and j < len(header) and header[j] not in (None, "")
               for j, c in cells):
        return False
    return not textfile.looks_like_data([c for _, c in cells])


def _year(value: Any) -> bool:
    text = _text(value).strip() if value is not None else ""
    return text.isdigit() and 1800 <= int(text) <= 2100


def _two_header_rows(plan: IngestPlan, upper: list[str], lower: list[str],
                     lines: tuple[int, int]) -> list[str]:
    """Column names from two header rows: the lower row's codes when it holds only codes
    (`NB_COM` under « Nombre de communes »: the labels are reported), the upper row's when
    it holds only codes and no cell is empty (INSEE's CSV files: `NbMen` over « Ménages
    fiscaux »), else each upper cell (carried over the empty cells a merged title leaves)
    joined to the cell below it."""
    lower = [c.strip() for c in lower] + [""] * (len(upper) - len(lower))
    if all(c.strip() and textfile.is_code(c.strip()) for c in upper) and not all(
            textfile.is_code(c) for c in lower if c):
        labels = [f"{code.strip()} = « {label} »" for code, label in zip(upper, lower, strict=False)
                  if label and label != code.strip()]
        plan.problems.append(
            f"Deux lignes d'en-tête (lignes {lines[0]} et {lines[1]}) : les colonnes sont "
            f"nommées par les codes de la ligne {lines[0]} ; libellés de la ligne {lines[1]} : "
            f"{', '.join(labels[:20])}.")
        return upper
    if all(_CODE.fullmatch(c) for c in lower if c):
        labels = [f"{code} = « {label.strip()} »" for code, label in zip(lower, upper, strict=False)
                  if code and label.strip() and label.strip() != code]
        plan.problems.append(
            f"Deux lignes d'en-tête (lignes {lines[0]} et {lines[1]}) : les colonnes sont "
            f"nommées par les codes de la ligne {lines[1]}"
            + (f" ; libellés de la ligne {lines[0]} : {', '.join(labels[:20])}." if labels
               else "."))
        return [code or label for code, label in zip(lower, upper, strict=False)]
    names, carried = [], ""
    for top, bottom in zip(upper, lower, strict=False):
        carried = top.strip() or carried
        names.append(" ".join(dict.fromkeys(p for p in (carried, bottom) if p)))
    plan.problems.append(
        f"Deux lignes d'en-tête (lignes {lines[0]} et {lines[1]}) : chaque nom de colonne "
        "réunit les deux (par exemple « " + next((n for n in names if " " in n), names[0])
        + " »).")
    return names


def _header_index(rows: list[list[str]], header_row: int | None) -> int:
    width = max(sum(1 for c in r if c.strip()) for r in rows)
    need = 1 if width <= 1 else max(2, (width + 1) // 2)
    return next((i for i, r in enumerate(rows) if sum(1 for c in r if c.strip()) >= need), 0)


POSITION_SAMPLE = 20_000  # (x, y) pairs kept, evenly spread, to recognise a projection
CHUNK_FEATURES = 20_000


def open_geojson(con: duckdb.DuckDBPyConnection, path: Path, plan: IngestPlan,
                 overrides: Overrides, limits: FileLimits, workdir: Path) -> RawSource:
    stream = jsonstream.FeatureStream(path, path.name, limits)
    # First pass: property names and kinds, points, a sample of positions for the CRS.
    keys: dict[str, ColumnKinds] = {}
    pairs: list[tuple[float, float]] = []
    stride, seen, count, has_points = 1, 0, 0, False
    for feature in stream:
        count += 1
        for k, v in _properties(feature).items():
            found = keys.get(k)
            if found is None:
                found = keys[k] = ColumnKinds()
            found.add((v,))
        geometry = feature.get("geometry")
        has_points = has_points or _is_point(geometry)
        for p in _positions_of(geometry):
            seen += 1
            if seen % stride == 0:
                pairs.append((p[0], p[1]))
                if len(pairs) >= 2 * POSITION_SAMPLE:
                    pairs, stride = pairs[::2], stride * 2
    epsg = _geojson_crs(stream.members, pairs, plan, overrides)
    if plan.crs is not None and plan.crs["epsg"] is None:
        has_points = False  # plain numbers of an unknown projection: no positions
    props = list(keys)
    names = [*props, "geometry"] + (["latitude", "longitude"] if has_points else [])
    geometry_kinds = ColumnKinds()
    geometry_kinds.kinds.add("text")
    number = ColumnKinds()
    number.kinds.add("float")
    kinds = [*keys.values(), geometry_kinds] + ([number, number] if has_points else [])
    # Second pass: the rows, the geometries in WGS84.
    target = workdir / "source.parquet"
    writer = _ChunkWriter(target, kinds)
    lost: list[int] = []
    chunk: list[dict[str, Any]] = []

    def flush(first: int) -> None:
        geometries = [f.get("geometry") for f in chunk]
        if epsg is not None:
            converted = _reprojected(geometries, epsg)
            lost.extend(first + i for i, (g, c) in enumerate(zip(geometries, converted,
                                                                strict=True)) if g and c is None)
            geometries = converted
        columns = [[_properties(f).get(k) for f in chunk] for k in props]
        columns.append([json.dumps(g, ensure_ascii=False) if g else None for g in geometries])
        if has_points:
            columns.append([_coordinate(g, 1) for g in geometries])
            columns.append([_coordinate(g, 0) for g in geometries])
        writer.write(columns)
        chunk.clear()

    try:
        done = 0
        for feature in stream:
            chunk.append(feature)
            if len(chunk) == CHUNK_FEATURES:
                flush(done + 1)
                done += CHUNK_FEATURES
        flush(done + 1)
    finally:
        writer.close()
    if lost:
        assert epsg is not None
        plan.problems.append(
            f"{len(lost)} géométrie(s) hors du domaine de {crs.label(epsg)}, "
            f"donc sans position (entités {', '.join(str(n) for n in lost[:10])}) : "
            "vérifiez le système des coordonnées.")
    raw = _parquet_source(con, target, names)
    raw.fixed_types[len(props)] = "geometry"
    if has_points:
        raw.fixed_types[len(props) + 1] = "number"
        raw.fixed_types[len(props) + 2] = "number"
        raw.position_indexes = (len(props) + 1, len(props) + 2)
    if not count:
        plan.problems.append("Aucune entité dans la collection.")
    return raw


def _properties(feature: dict[str, Any]) -> dict[str, Any]:
    props = feature.get("properties")
    return props if isinstance(props, dict) else {}


def _is_point(geometry: Any) -> bool:
    return isinstance(geometry, dict) and geometry.get("type") == "Point"


def _coordinate(geometry: Any, i: int) -> float | None:
    if _is_point(geometry):
        c = geometry.get("coordinates") or []
        return float(c[i]) if len(c) > i else None
    return None


def _geojson_crs(members: dict[str, Any], pairs: list[tuple[float, float]], plan: IngestPlan,
                 overrides: Overrides) -> int | None:
    """The projection to convert the geometries from (None: already degrees, or unknown);
    the source CRS is recorded on the plan."""
    if not pairs:
        return None
    detection = crs.detect(
        pairs, override=crs.parse_user_crs(overrides.crs) if overrides.crs else None,
        declared=crs.geojson_crs(members), where="Les coordonnées des géométries")
    plan.crs = detection.settings()
    if detection.epsg != crs.WGS84:
        plan.problems.append(detection.note)
    return detection.epsg if detection.projected else None


def _positions_of(geometry: Any) -> list[list[float]]:
    """Every [x, y, …] position of a geometry, whatever its type."""
    if not isinstance(geometry, dict):
        return []
    if geometry.get("type") == "Point":  # most features: no walk
        point = geometry.get("coordinates")
        return [point] if isinstance(point, list) and len(point) >= 2 and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in point[:2]) else []
    if geometry.get("type") == "GeometryCollection":
        return [p for g in geometry.get("geometries") or [] for p in _positions_of(g)]
    found: list[list[float]] = []

    def walk(node: Any) -> None:
        if isinstance(node, list) and len(node) >= 2 and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in node[:2]):
            found.append(node)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(geometry.get("coordinates"))
    return found


def _reprojected(geometries: list[Any], epsg: int) -> list[Any]:
    """Copies of the geometries with their positions converted to WGS84 (x = longitude), in
    one call to the projection; None for a geometry with a position that has no image."""
    positions = [_positions_of(g) for g in geometries]
    flat = [p for ps in positions for p in ps]
    if not flat:
        return geometries
    lons, lats = crs.to_wgs84(epsg, [p[0] for p in flat], [p[1] for p in flat])
    converted = iter(zip(lons, lats, strict=True))

    def rebuild(node: Any) -> Any:
        if isinstance(node, list) and len(node) >= 2 and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in node[:2]):
            lon, lat = next(converted)
            return [round(lon, 7), round(lat, 7), *node[2:]]
        if isinstance(node, list):
            return [rebuild(child) for child in node]
        return node

    def one(geometry: Any) -> Any:
        if not isinstance(geometry, dict):
            return geometry
        if geometry.get("type") == "GeometryCollection":
            return {**geometry, "geometries": [one(g) for g in geometry.get("geometries") or []]}
        return {**geometry, "coordinates": rebuild(geometry.get("coordinates"))}

    result = [one(g) for g in geometries]
    # A geometry with a position outside the projection's domain gets no made-up position.
    finite = iter([math.isfinite(lon) and math.isfinite(lat)
                   for lon, lat in zip(lons, lats, strict=True)])
    for i, ps in enumerate(positions):
        if not all([next(finite) for _ in ps]):
            result[i] = None
    return result
