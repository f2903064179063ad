"""Each file kind opened as a DuckDB relation of raw columns r0, r1, … with source names.

Text formats give VARCHAR columns (typed later by coltypes); typed formats (JSON, Parquet,
spreadsheets, GeoJSON properties) keep their own types.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from patrimoine.core.errors import Invalid
from patrimoine.core.filelimits import (
    FileLimits,
    check_json_size,
    check_workbook,
    load_json,
)
from patrimoine.datastore.ingest import crs, messages, textfile
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
    raw = RawSource(relation="", source_names=dialect.header, dialect=dialect, text_path=text_path,
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
    # cells hold line breaks: padding reads the file in one thread.
    columns = "{" + ", ".join(f"'r{i}': 'VARCHAR'" for i in range(dialect.column_count)) + "}"
    return (
        f"read_csv({quote_literal(str(text_path))}, delim={quote_literal(dialect.delimiter)}, "
        f"quote='\"', escape='\"', header=false, skip={dialect.skip_records}, columns={columns}, "
        f"auto_detect=false, null_padding={'true, parallel=false' if pad else 'false'}, "
        f"allow_quoted_nulls=false, max_line_size={max_line_bytes})"
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


# Spreadsheets and GeoJSON: read in Python into an Arrow table


def arrow_column(values: list[Any]) -> pa.Array:
    """A typed Arrow array when every value has one kind, else text."""
    present = [v for v in values if v is not None and v != ""]
    values = [None if v == "" else v for v in values]
    kinds = {_kind(v) for v in present}
    if kinds == {"bool"}:
        return pa.array(values, pa.bool_())
    if kinds and kinds <= {"int", "integral"} and all(abs(int(v)) < 2**63 for v in present):
        return pa.array([None if v is None else int(v) for v in values], pa.int64())
    if kinds <= {"int", "integral", "float"} and kinds:
        return pa.array([None if v is None else float(v) for v in values], pa.float64())
    if kinds == {"date"}:
        return pa.array(values, pa.date32())
    if kinds <= {"date", "datetime"} and kinds:
        if all(isinstance(v, date) and not isinstance(v, datetime) or v.time() == time(0)
               for v in present):
            return pa.array([None if v is None else (v.date() if isinstance(v, datetime) else v)
                             for v in values], pa.date32())
        return pa.array([None if v is None else (v if isinstance(v, datetime) else
                                                 datetime.combine(v, time(0)))
                         for v in values], pa.timestamp("us"))
    return pa.array([None if v is None else _text(v) for v in values], pa.string())


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


def _register(con: duckdb.DuckDBPyConnection, names: list[str], columns: list[pa.Array],
              ) -> RawSource:
    table = pa.table({f"r{i}": col for i, col in enumerate(columns)})
    con.register("uploaded_table", table)
    types = [str(t) for t in con.sql("SELECT * FROM uploaded_table").types]
    return RawSource(relation="uploaded_table", source_names=names, raw_types=types)


def open_spreadsheet(con: duckdb.DuckDBPyConnection, path: Path, plan: IngestPlan,
                     overrides: Overrides, limits: FileLimits) -> RawSource:
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
    numbered = [(n, list(r)) for n, r in
                enumerate(workbook.get_sheet_by_name(sheet).to_python(skip_empty_area=False), 1)
                if any(c not in (None, "") for c in r)]
    if not numbered:
        raise Invalid(f"{path.name} : la feuille « {sheet} » est vide.")
    rows = [r for _, r in numbered]
    width = max(len(r) for r in rows)
    as_text = [[_text(c) if c not in (None, "") else "" for c in r] + [""] * (width - len(r))
               for r in rows[:200]]
    if overrides.header_row:
        header_index = next((i for i, (n, _) in enumerate(numbered) if n >= overrides.header_row),
                            None)
        if header_index is None:
            raise Invalid(f"{path.name} : la ligne d'en-tête {overrides.header_row} est vide "
                          "ou au-delà des données.")
    else:
        header_index = _header_index(as_text, None)
    if overrides.header_row == 0:
        header, data = [""] * width, rows
        plan.header_row = 0
    else:
        plan.title_rows = [" ".join(c for c in r if c.strip()) for r in as_text[:header_index]]
        if plan.title_rows:
            plan.problems.append(
                f"{len(plan.title_rows)} ligne(s) de titre au-dessus de l'en-tête ignorée(s)."
            )
        header = [_text(c) if c not in (None, "") else "" for c in rows[header_index]]
        header += [""] * (width - len(header))
        data = rows[header_index + 1:]
        plan.header_row = numbered[header_index][0]
        if overrides.header_row is None and _second_header(rows, header_index, width):
            lower = [_text(c) if c not in (None, "") else "" for c in rows[header_index + 1]]
            header = _two_header_rows(plan, header, lower,
                                      (plan.header_row, numbered[header_index + 1][0]))
            data = rows[header_index + 2:]
            plan.header_row = numbered[header_index + 1][0]
    columns = [arrow_column([r[i] if i < len(r) else None for r in data]) for i in range(width)]
    return _register(con, [textfile.header_name(h) for h in header], columns)


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


def _year(value: Any) -> bool:
    text = _text(value).strip() if value is not None else ""
    return text.isdigit() and 1800 <= int(text) <= 2100


def _two_header_rows(plan: IngestPlan, upper: list[str], lower: list[str],
                     lines: tuple[int, int]) -> list[str]:
    """Column names from two header rows: the lower row's codes when it holds only codes
    (`NB_COM` under « Nombre de communes »: the labels are reported), else each upper cell
    (carried over the empty cells a merged title leaves) joined to the cell below it."""
    lower = [c.strip() for c in lower] + [""] * (len(upper) - len(lower))
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


def open_geojson(con: duckdb.DuckDBPyConnection, path: Path, plan: IngestPlan,
                 overrides: Overrides, limits: FileLimits) -> RawSource:
    check_json_size(path.stat().st_size, path.name, limits, "GeoJSON")  # before reading it
    document = load_json(path.read_bytes(), path.name, limits, "GeoJSON")
    if isinstance(document, dict) and document.get("type") == "Feature":
        features = [document]
    elif isinstance(document, dict) and isinstance(document.get("features"), list):
        features = document["features"]
    else:
        raise Invalid(f"{path.name} : ce n'est pas une collection d'entités GeoJSON "
                      "(FeatureCollection).")
    keys: dict[str, None] = {}
    for feature in features:
        for k in (feature.get("properties") or {}):
            keys.setdefault(k, None)
    props = list(keys)
    geometries = [f.get("geometry") for f in features]
    geometries = _geometries_in_wgs84(document, geometries, plan, overrides)
    points = [g for g in geometries if isinstance(g, dict) and g.get("type") == "Point"]
    columns = [arrow_column([(f.get("properties") or {}).get(k) for f in features])
               for k in props]
    if plan.crs is not None and plan.crs["epsg"] is None:
        points = []  # plain numbers of an unknown projection: no positions
    names = [*props, "geometry"]
    columns.append(pa.array([json.dumps(g, ensure_ascii=False) if g else None
                             for g in geometries], pa.string()))
    if points:
        def coord(g: Any, i: int) -> float | None:
            if isinstance(g, dict) and g.get("type") == "Point":
                c = g.get("coordinates") or []
                return float(c[i]) if len(c) > i else None
            return None
        names += ["latitude", "longitude"]
        columns.append(pa.array([coord(g, 1) for g in geometries], pa.float64()))
        columns.append(pa.array([coord(g, 0) for g in geometries], pa.float64()))
    raw = _register(con, names, columns)
    raw.fixed_types[len(props)] = "geometry"
    if points:
        raw.fixed_types[len(props) + 1] = "number"
        raw.fixed_types[len(props) + 2] = "number"
        raw.position_indexes = (len(props) + 1, len(props) + 2)
    if not features:
        plan.problems.append("Aucune entité dans la collection.")
    return raw


def _geometries_in_wgs84(document: Any, geometries: list[Any], plan: IngestPlan,
                         overrides: Overrides) -> list[Any]:
    """The geometries with every coordinate in WGS84 degrees (RFC 7946), their source CRS
    recorded on the plan; unchanged when already in degrees or in an unknown projection."""
    pairs = [(p[0], p[1]) for g in geometries for p in _positions_of(g)]
    if not pairs:
        return geometries
    detection = crs.detect(
        pairs, override=crs.parse_user_crs(overrides.crs) if overrides.crs else None,
        declared=crs.geojson_crs(document), where="Les coordonnées des géométries")
    plan.crs = detection.settings()
    if detection.epsg != crs.WGS84:
        plan.problems.append(detection.note)
    if not detection.projected:
        return geometries
    assert detection.epsg is not None
    converted = [_reprojected(g, detection.epsg) for g in geometries]
    lost = [n for n, (g, c) in enumerate(zip(geometries, converted, strict=True), 1)
            if g and c is None]
    if lost:
        plan.problems.append(
            f"{len(lost)} géométrie(s) hors du domaine de {crs.label(detection.epsg)}, "
            f"donc sans position (entités {', '.join(str(n) for n in lost[:10])}) : "
            "vérifiez le système des coordonnées.")
    return converted


def _positions_of(geometry: Any) -> list[list[float]]:
    """Every [x, y, …] position of a geometry, whatever its type."""
    if not isinstance(geometry, dict):
        return []
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


def _reprojected(geometry: Any, epsg: int) -> Any:
    """A copy of the geometry with its positions converted to WGS84 (x = longitude), or
    None when a position has no image in WGS84."""
    if not isinstance(geometry, dict):
        return geometry
    if geometry.get("type") == "GeometryCollection":
        return {**geometry, "geometries": [_reprojected(g, epsg)
                                           for g in geometry.get("geometries") or []]}
    positions = _positions_of(geometry)
    if not positions:
        return geometry
    lons, lats = crs.to_wgs84(epsg, [p[0] for p in positions], [p[1] for p in positions])
    if not all(math.isfinite(v) for v in (*lons, *lats)):
        return None  # outside the projection's domain: no made-up position
    converted = iter(zip(lons, lats, strict=True))

    def rebuild(node: Any) -> Any:
        if isinstance(node, list) and len(node) >= 2 and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in node[:2]):
            lon, lat = next(converted)
            return [round(lon, 7), round(lat, 7), *node[2:]]
        if isinstance(node, list):
            return [rebuild(child) for child in node]
        return node

    return {**geometry, "coordinates": rebuild(geometry.get("coordinates"))}
