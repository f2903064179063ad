"""What sniffing found in a file, shown before publishing, and what the user may override."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from patrimoine.core.tabular import DELIMITER_NAMES
from patrimoine.datastore.ingest.crs import parse_user_crs
from patrimoine.datastore.models import COLUMN_TYPES

FORMATS = ("csv", "xlsx", "ods", "json", "ndjson", "geojson", "parquet")
DELIMITERS = (";", ",", "\t", "|")

TYPE_LABELS = {
    "string": "texte",
    "integer": "entier",
    "number": "nombre décimal",
    "boolean": "booléen (oui/non)",
    "date": "date",
    "datetime": "date et heure",
    "geometry": "géométrie GeoJSON",
}


class Overrides(BaseModel):
    """Corrections to what sniffing detected; every field is optional."""

    model_config = ConfigDict(extra="forbid")

    format: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    # 1-based line of the header (CSV) or row (spreadsheets); 0: the file has no header.
    header_row: int | None = None
    sheet: str | None = None
    # Column (normalised or source name) -> type.
    types: dict[str, str] = {}
    # Source coordinate system of positions ("EPSG:2154"), when detection gets it wrong.
    crs: str | None = None

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str | None) -> str | None:
        if value is not None and value not in FORMATS:
            raise ValueError(f"format inconnu « {value} » (formats : {', '.join(FORMATS)})")
        return value

    @field_validator("delimiter")
    @classmethod
    def _one_char(cls, value: str | None) -> str | None:
        if value is not None:
            value = {"tab": "\t", "\\t": "\t", "tabulation": "\t"}.get(value, value)
            if len(value) != 1:
                raise ValueError("le séparateur doit être un seul caractère")
        return value

    @field_validator("crs")
    @classmethod
    def _known_crs(cls, value: str | None) -> str | None:
        return None if value is None or not value.strip() else f"EPSG:{parse_user_crs(value)}"

    @field_validator("types")
    @classmethod
    def _known_types(cls, value: dict[str, str]) -> dict[str, str]:
        for column, type_ in value.items():
            if type_ not in COLUMN_TYPES:
                raise ValueError(
                    f"type inconnu « {type_} » pour la colonne « {column} » "
                    f"(types : {', '.join(COLUMN_TYPES)})"
                )
        return value


@dataclass
class ColumnPlan:
    name: str
    source_name: str
    type: str
    # How raw values are read: {"decimal": ",", "formats": [...], "utc": bool}
    parse: dict[str, Any] = field(default_factory=dict)
    # The DuckDB type of the raw column (VARCHAR for text formats).
    raw_type: str = "VARCHAR"
    sample: list[str] = field(default_factory=list)
    overridden: bool = False
    # What the column holds (core.meanings): {"meaning", "label", "confidence"}, or None.
    meaning: dict[str, Any] | None = None

    def contract(self) -> dict[str, str]:
        return {"name": self.name, "type": self.type, "source_name": self.source_name}


@dataclass
class IngestPlan:
    """Detected settings, columns with inferred types and sample values, first rows, problems."""

    path: str
    filename: str
    format: str
    size_bytes: int
    encoding: str | None = None
    delimiter: str | None = None
    decimal: str | None = None
    header_row: int = 1  # 1-based; 0 = no header
    title_rows: list[str] = field(default_factory=list)
    sheet: str | None = None
    pad_short_rows: bool = False
    columns: list[ColumnPlan] = field(default_factory=list)
    first_rows: list[list[Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    positions: dict[str, str] | None = None
    # Invalid UTF-8 bytes read as « \ufffd »: how many, and the first lines holding them.
    replaced_bytes: int = 0
    replaced_lines: list[int] = field(default_factory=list)
    # Source coordinate system of the positions: {"epsg": "EPSG:2154", "how": …, "note": …}.
    crs: dict[str, Any] | None = None
    # Every record accounted for: what a standard reader finds, what was loaded, the lines of
    # the records not loaded and the cells that did not fit their column (set to null).
    records_read: int | None = None
    records_loaded: int | None = None
    rejected_records: list[int] = field(default_factory=list)
    rejected_cells: list[dict[str, Any]] = field(default_factory=list)

    def rejects(self) -> bool:
        """Whether records or cells of the file were not loaded as they are."""
        return bool(self.rejected_records or self.rejected_cells
                    or (self.records_read or 0) > (self.records_loaded or 0))

    def settings(self) -> dict[str, Any]:
        """The settings recorded with the version (dataset_version.ingest_settings)."""
        replaced = ({"invalid_utf8": {"bytes": self.replaced_bytes, "lines": self.replaced_lines}}
                    if self.replaced_bytes else {})
        crs = {"crs": self.crs} if self.crs else {}
        return {**replaced, **crs,
            "format": self.format,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "decimal": self.decimal,
            "header_row": self.header_row,
            "title_rows": self.title_rows,
            "sheet": self.sheet,
            "pad_short_rows": self.pad_short_rows,
            "records_read": self.records_read,
            "records_loaded": self.records_loaded,
            "rejected_records": self.rejected_records,
            "rejected_cells": self.rejected_cells,
            "overrides": {c.name: c.type for c in self.columns if c.overridden},
            "parse": {c.name: c.parse for c in self.columns if c.parse},
            "meanings": {c.name: c.meaning for c in self.columns if c.meaning},
        }

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["first_rows"] = [[_plain(v) for v in row] for row in self.first_rows]
        return data


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def load_report(settings: Mapping[str, Any] | None) -> dict[str, Any]:
    """What every door (`datastore load --json` and its text, the API, the staff pages)
    shows of a load, from the settings recorded with its version: records read, loaded and
    rejected with their lines, cells rejected, the dialect and encoding used, the source CRS
    and the meaning recognised in each column."""
    s = settings or {}
    read, loaded = s.get("records_read"), s.get("records_loaded")
    crs = s.get("crs") or {}
    return {
        "records_read": read,
        "records_loaded": loaded,
        "records_rejected": max(0, (read or 0) - (loaded or 0)),
        "rejected_lines": list(s.get("rejected_records") or []),
        "rejected_cells": list(s.get("rejected_cells") or []),
        "format": s.get("format"),
        "encoding": s.get("encoding"),
        "delimiter": s.get("delimiter"),
        "header_row": s.get("header_row"),
        "sheet": s.get("sheet"),
        "source_crs": crs.get("epsg"),
        "meanings": {name: m["label"] for name, m in (s.get("meanings") or {}).items()},
    }


def report_lines(report: Mapping[str, Any]) -> list[str]:
    """The report in French sentences, the same for the command line and the pages."""
    lines = []
    if report["records_read"] is not None:
        rejected = report["rejected_lines"]
        lines.append(
            f"Enregistrements : {_count(report['records_read'])} lu(s), "
            f"{_count(report['records_loaded'])} chargé(s), "
            f"{_count(report['records_rejected'])} rejeté(s)"
            + (f" (ligne(s) {', '.join(str(n) for n in rejected[:20])}"
               f"{'…' if len(rejected) > 20 else ''})" if rejected else "") + ".")
    cells = report["rejected_cells"]
    if cells:
        shown = " ; ".join(
            (f"ligne {c['line']}" if c.get("line") else f"enregistrement {c['record']}")
            + f", colonne « {c['column']} » : « {c['value']} »" for c in cells[:20])
        lines.append(f"Valeurs rejetées (laissées vides) : {_count(len(cells))} — {shown}"
                     f"{'…' if len(cells) > 20 else ''}.")
    reading = [f"format {str(report['format'] or '').upper()}"]
    if report["encoding"]:
        reading.append(f"encodage {report['encoding']}")
    if report["delimiter"]:
        delimiter = report["delimiter"]
        reading.append(f"séparateur {DELIMITER_NAMES.get(delimiter, delimiter)}")
    if report["sheet"]:
        reading.append(f"feuille « {report['sheet']} »")
    if report["header_row"] is not None and report["format"] in ("csv", "xlsx", "ods"):
        reading.append(f"en-tête ligne {report['header_row']}" if report["header_row"]
                       else "sans en-tête")
    lines.append("Lecture : " + ", ".join(reading) + ".")
    if report["source_crs"]:
        lines.append(f"Système des coordonnées du fichier : {report['source_crs']}"
                     + (" (converties en WGS84)." if report["source_crs"] != "EPSG:4326"
                        else "."))
    if report["meanings"]:
        lines.append("Sens reconnus : " + ", ".join(
            f"{name} ({label})" for name, label in report["meanings"].items()) + ".")
    return lines


def _count(n: int | None) -> str:
    return f"{n or 0:,}".replace(",", "\u202f")
