"""Read a CSV, spreadsheet or JSON file into column names and rows for the scanner.

Only what `patrimoine protection scan FILE` needs: CSV files and workbooks are read by the
core reader (core/tabular: encoding, delimiter, header row below a title; every sheet of a
workbook, its cells keeping their numbers and dates); JSON may be a list of objects, an
object holding such a list, a GeoJSON FeatureCollection or JSON lines. Columns without a
name are called colonne_N, and a repeated name gets a suffix.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from patrimoine.core import tabular
from patrimoine.core.errors import Invalid
from patrimoine.core.filelimits import load_json

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
        if suffix in SPREADSHEETS or suffix in TEXTS or suffix == "":
            tables = [Table(_header(t.headers), [row.cells for row in t.rows], t.sheet)
                      for t in tabular.read_tables(path.read_bytes(), path.name, typed=True)]
        elif suffix in JSONS:
            tables = [_json(path)]
        else:
            raise Invalid(f"Format non pris en charge : « {path.suffix} ». Formats acceptés : "
                          "CSV, XLSX, XLS, ODS, JSON, GeoJSON.")
    except Invalid:
        raise
    except OSError:
        raise Invalid(f"Lecture impossible du fichier {path.name}.") from None
    tables = [t for t in tables if t.columns]
    if not tables:
        raise Invalid(f"Le fichier {path.name} ne contient aucune colonne.")
    return tables


def _json(path: Path) -> Table:
    text, _ = tabular.decode_text(path.read_bytes(), path.name)
    if path.suffix.lower() in {".jsonl", ".ndjson"}:
        records = [load_json(line, path.name) for line in text.splitlines() if line.strip()]
    else:
        records = _records(load_json(text, path.name))
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
    raise Invalid("JSON attendu : une liste d'objets.")


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
