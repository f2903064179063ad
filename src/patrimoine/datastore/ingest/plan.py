"""What sniffing found in a file, shown before publishing, and what the user may override."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

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
