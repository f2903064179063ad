"""Read a CSV, spreadsheet or JSON file into column names and rows for the scanner.

Only what `patrimoine protection scan FILE` needs: the encoding and delimiter of a CSV are
detected (charset-normalizer, csv.Sniffer), spreadsheets are read with python-calamine
(first sheet, first non-empty row as header), JSON may be a list of objects, an object
holding such a list, a GeoJSON FeatureCollection or JSON lines.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from charset_normalizer import from_bytes

from patrimoine.core.errors import Invalid

SPREADSHEETS = {".xlsx", ".xlsm", ".xls", ".ods"}
TEXTS = {".csv", ".tsv", ".txt"}
JSONS = {".json", ".geojson", ".jsonl", ".ndjson"}


@dataclass
class Table:
    columns: list[str]
    rows: list[list[Any]]
    sheet: str | None = None  # the sheet's name, for spreadsheets


def read_table(path: Path) -> Table:
    """The (first) table in `path`; Invalid with a French message when it cannot be read."""
    return read_tables(path)[0]


def read_tables(path: Path) -> list[Table]:
    """Every non-empty table in `path` (one per sheet of a spreadsheet)."""
    if not path.exists():
        raise Invalid(f"Fichier introuvable : {path}")
    if not path.is_file():
        raise Invalid(f"Ce n'est pas un fichier : {path}")
    suffix = path.suffix.lower()
    try:
        if suffix in SPREADSHEETS:
            tables = _spreadsheet(path)
        elif suffix in JSONS:
            tables = [_json(path)]
        elif suffix in TEXTS or suffix == "":
            tables = [_csv(path.read_bytes())]
        else:
            raise Invalid(f"Format non pris en charge : « {path.suffix} ». Formats acceptés : "
                          "CSV, XLSX, XLS, ODS, JSON, GeoJSON.")
    except Invalid:
        raise
    except (OSError, ValueError, csv.Error, UnicodeDecodeError) as exc:
        raise Invalid(f"Lecture impossible du fichier {path.name} : {exc}") from exc
    except Exception as exc:  # calamine raises its own error types for damaged workbooks
        raise Invalid(f"Lecture impossible du fichier {path.name} : fichier endommagé ou "
                      f"format inattendu ({type(exc).__name__}).") from exc
    tables = [t for t in tables if t.columns]
    if not tables:
        raise Invalid(f"Le fichier {path.name} ne contient aucune colonne.")
    return tables


def decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        # French files that are not UTF-8 are nearly always Windows-1252 (Excel's "CSV").
        return data.decode("cp1252")
    except UnicodeDecodeError:
        pass
    best = from_bytes(data[:200_000]).best()
    encoding = best.encoding if best is not None else "cp1252"
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return data.decode("cp1252", errors="replace")


def _csv(data: bytes) -> Table:
    if b"\x00" in data[:4096]:
        raise Invalid("Ce fichier n'est pas un fichier texte (CSV) lisible.")
    text = decode(data)
    head = text[:65536]
    try:
        dialect: Any = csv.Sniffer().sniff(head, delimiters=";,\t|")
        delimiter = dialect.delimiter
    except csv.Error:
        first = head.splitlines()[0] if head else ""
        delimiter = max(";,\t|", key=first.count) if first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = [r for r in reader if any(cell.strip() for cell in r)]
    if not rows:
        return Table([], [])
    return Table(_header(rows[0]), rows[1:])


def _spreadsheet(path: Path) -> list[Table]:
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(path))
    tables = []
    for index, name in enumerate(book.sheet_names):
        data = book.get_sheet_by_index(index).to_python(skip_empty_area=True)
        rows = [r for r in data if any(c not in (None, "") for c in r)]
        if rows:
            tables.append(Table(_header(rows[0]), [list(r) for r in rows[1:]], name))
    return tables


def _json(path: Path) -> Table:
    text = decode(path.read_bytes())
    if path.suffix.lower() in {".jsonl", ".ndjson"}:
        records = [json.loads(line) for line in text.splitlines() if line.strip()]
    else:
        records = _records(json.loads(text))
    columns: dict[str, None] = {}
    flat = [_flatten(r) for r in records if isinstance(r, dict)]
    for r in flat:
        for k in r:
            columns.setdefault(k, None)
    names = list(columns)
    return Table(names, [[r.get(c) for c in names] for r in flat])


def _records(data: Any) -> list[Any]:
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        if data.get("type") == "FeatureCollection":
            return [_feature(f) for f in data.get("features", []) if isinstance(f, dict)]
        for value in data.values():
            if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                return value
        return [data]
    raise ValueError("JSON attendu : une liste d'objets")


def _feature(feature: dict[str, Any]) -> dict[str, Any]:
    record = dict(feature.get("properties") or {})
    geometry = feature.get("geometry") or {}
    if geometry.get("type") == "Point" and len(geometry.get("coordinates") or []) >= 2:
        lon, lat = geometry["coordinates"][:2]
        record["geometrie"] = f"{lat}, {lon}"
    return record


def _flatten(record: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in record.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, name + "."))
        elif isinstance(v, list):
            out[name] = ", ".join(str(x) for x in v)
        else:
            out[name] = v
    return out


def _header(cells: list[Any]) -> list[str]:
    names: list[str] = []
    for i, cell in enumerate(cells, start=1):
        name = str(cell).strip() if cell not in (None, "") else f"colonne_{i}"
        base, n = name, 2
        while name in names:
            name, n = f"{base}_{n}", n + 1
        names.append(name)
    return names
