"""What the full export and the re-import share: the layout of an export folder, the mapping
of SQLAlchemy column types to Table Schema, the text form of each value and its reading back,
the secret columns that never leave the instance, and the order tables are inserted in.

Everything is derived from `Base.metadata` (every table of every capability, through
storage/schema.py), so a table added by a capability is exported and restored with no code
here. A column whose `info` says `{"secret": True}`, or whose name says it is a password, a
secret or a token hash, is left out of the export (see SECRET_NAME).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum as PyEnum
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKeyConstraint,
    Integer,
    Interval,
    LargeBinary,
    Numeric,
    Table,
    Time,
    Uuid,
)
from sqlalchemy.sql.ddl import sort_tables_and_constraints

from patrimoine.core import csvcells
from patrimoine.core.db import UTCDateTime
from patrimoine.core.errors import Invalid

FORMAT = "patrimoine-export"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATAPACKAGE = "datapackage.json"
CATALOG = "catalog.ttl"
README = "README.md"  # in French, for the operator who opens the folder
TABLES_DIR = "tables"
DATASETS_DIR = "datasets"
# SQL NULL in the CSV files (PostgreSQL's COPY convention), declared as the Table Schema's
# missing value, so that an empty cell is an empty string and NULL stays NULL.
NULL = "\\N"
CHUNK = 1 << 20
# Files of the data folder that are state, not secrets, carried as they are (name in the data
# folder -> path in the export). Everything else there stays: the session key
# (`secret_key`), the pseudonymisation keys (`keys/`), caches, uploads in progress.
DATA_FILES = {"audit-anchor": "audit/audit-anchor.json"}
# Documents kept for register entries: the same relative path in the export and the data folder.
DOCUMENTS_DIR = "documents"
BATCH = 1000

# Columns left out whatever their table: secrets by their name.
SECRET_NAME = re.compile(r"(password|passwd|secret|token_hash|private_key|api_key)", re.I)
SECRET_REASONS = {
    "password": "empreinte de mot de passe : les comptes sont restaurés sans mot de passe "
                "utilisable, à redéfinir (patrimoine user set-password)",
    "token_hash": "empreinte de jeton d'API : les jetons restaurés ne sont plus utilisables, "
                  "à recréer",
}


def is_secret(column: Column[Any]) -> bool:
    return bool(column.info.get("secret")) or bool(SECRET_NAME.search(column.name))


def secret_reason(column: Column[Any]) -> str:
    for word, reason in SECRET_REASONS.items():
        if word in column.name.lower():
            return reason
    return "secret : jamais exporté"


def exported_columns(table: Table) -> list[Column[Any]]:
    return [c for c in table.columns if not is_secret(c)]


def unusable_value(column: Column[Any]) -> Any:
    """What a restored row holds in place of an excluded secret: NULL when allowed, else a
    random value that no password or token can match ("!" is no valid hash)."""
    if column.nullable:
        return None
    if isinstance(column.type, LargeBinary):
        return b"!" + secrets.token_bytes(31)
    length = getattr(column.type, "length", None) or 64
    return ("!" + secrets.token_hex(32))[: max(length, 2)]


# --------------------------------------------------------------------------- table order


@dataclass(frozen=True)
class TablePlan:
    table: Table
    # Foreign-key columns inserted as NULL, then set once every row is in (self references
    # and cycles between tables).
    deferred: tuple[str, ...]


def insertion_plan(tables: list[Table]) -> list[TablePlan]:
    """Tables in dependency order (parents first) with the columns to set afterwards."""
    ordered = sort_tables_and_constraints(tables)
    cyclic: set[tuple[str, str]] = set()
    for table, fkcs in ordered:
        if table is None:
            for fkc in fkcs:
                cyclic.update((fkc.table.name, c.name) for c in fkc.columns)
    plans = []
    for table, _ in ordered:
        if table is None:
            continue
        deferred = []
        for constraint in table.constraints:
            if not isinstance(constraint, ForeignKeyConstraint):
                continue
            self_ref = constraint.referred_table is table
            for column in constraint.columns:
                if (self_ref or (table.name, column.name) in cyclic) and column.nullable:
                    deferred.append(column.name)
        plans.append(TablePlan(table, tuple(dict.fromkeys(deferred))))
    return plans


# --------------------------------------------------------------------------- Table Schema


def field_type(column: Column[Any]) -> tuple[str, dict[str, Any]]:
    """Table Schema type (and extra properties) of a column."""
    t = column.type
    if isinstance(t, Boolean):
        return "boolean", {"trueValues": ["true"], "falseValues": ["false"]}
    if isinstance(t, Integer):
        return "integer", {}
    if isinstance(t, (Float, Numeric)):
        return "number", {}
    if isinstance(t, (UTCDateTime, DateTime)):
        return "datetime", {}
    if isinstance(t, Date):
        return "date", {}
    if isinstance(t, Time):
        return "time", {}
    if isinstance(t, Interval):
        return "number", {"description": "durée en secondes"}
    if isinstance(t, JSON):
        return "any", {"format": "json"}  # refined to object/array from the values seen
    if isinstance(t, LargeBinary):
        return "string", {"format": "binary"}
    if isinstance(t, Uuid):
        return "string", {"format": "uuid"}
    if isinstance(t, Enum):
        return "string", {"constraints": {"enum": list(t.enums)}}
    return "string", {}


def table_schema(table: Table, json_kinds: dict[str, set[str]]) -> dict[str, Any]:
    fields = []
    for column in exported_columns(table):
        kind, extra = field_type(column)
        if kind == "any" and column.name in json_kinds:
            seen = json_kinds[column.name]
            kind = {frozenset({"object"}): "object", frozenset({"array"}): "array"}.get(
                frozenset(seen), "any")
        field: dict[str, Any] = {"name": column.name, "type": kind, **extra}
        constraints = dict(field.pop("constraints", {}))
        if not column.nullable:
            constraints["required"] = True
        if column.unique or (column.primary_key and len(table.primary_key.columns) == 1):
            constraints["unique"] = True
        if constraints:
            field["constraints"] = constraints
        if column.comment:
            field["description"] = column.comment
        fields.append(field)
    schema: dict[str, Any] = {"fields": fields, "missingValues": [NULL]}
    pk = [c.name for c in table.primary_key.columns]
    if pk:
        schema["primaryKey"] = pk
    names = {c.name for c in exported_columns(table)}
    fks = []
    for constraint in table.foreign_key_constraints:
        local = [c.name for c in constraint.columns]
        remote = [e.column.name for e in constraint.elements]
        if set(local) <= names:
            fks.append({"fields": local, "reference": {
                "resource": "" if constraint.referred_table is table
                else constraint.referred_table.name, "fields": remote}})
    if fks:
        schema["foreignKeys"] = fks
    return schema


# --------------------------------------------------------------------------- values


def json_kind(value: Any) -> str:
    return "object" if isinstance(value, dict) else "array" if isinstance(value, list) else "any"


def to_text(column: Column[Any], value: Any) -> str:
    """The CSV cell of a value read through the column's type."""
    if value is None:
        return NULL
    t = column.type
    if isinstance(t, JSON):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, PyEnum):
        return str(value.value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "INF" if value > 0 else "-INF"
        return repr(value)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, timedelta):
        return repr(value.total_seconds())
    if isinstance(value, str):  # a spreadsheet must not run it; from_text takes it back
        return csvcells.neutralise(value)
    return str(value)


def from_text(column: Column[Any], text: str) -> Any:
    """The Python value of a CSV cell, ready for an insert through the column's type."""
    if text == NULL:
        return None
    t = column.type
    if isinstance(t, JSON):
        return json.loads(text)
    if isinstance(t, Boolean):
        if text not in ("true", "false"):
            raise ValueError(f"booléen attendu (true/false), lu « {text} »")
        return text == "true"
    if isinstance(t, Integer):
        return int(text)
    if isinstance(t, Numeric) and not isinstance(t, Float) and t.asdecimal:
        return Decimal(text)
    if isinstance(t, (Float, Numeric)):
        return {"NaN": math.nan, "INF": math.inf, "-INF": -math.inf}.get(text) or float(text)
    if isinstance(t, (UTCDateTime, DateTime)):
        value = datetime.fromisoformat(text)
        wants_aware = isinstance(t, UTCDateTime) or getattr(t, "timezone", False)
        if wants_aware and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value
    if isinstance(t, Date):
        return date.fromisoformat(text)
    if isinstance(t, Time):
        return time.fromisoformat(text)
    if isinstance(t, Interval):
        return timedelta(seconds=float(text))
    if isinstance(t, LargeBinary):
        return base64.b64decode(text, validate=True)
    if isinstance(t, Uuid):
        value_uuid = uuid.UUID(text)
        return value_uuid if t.as_uuid else text
    if isinstance(t, Enum) and t.enum_class is not None:
        for member in t.enum_class:
            if str(member.value) == text:
                return member
        raise ValueError(f"valeur « {text} » hors de la liste autorisée")
    return csvcells.restore(text)


# --------------------------------------------------------------------------- files


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def safe_relative(root: Path, relative: str) -> Path:
    """The file `relative` names inside `root`; refused if it would leave it."""
    if not relative or relative.startswith(("/", "\\")) or "\\" in relative:
        raise Invalid(f"Chemin de fichier refusé dans l'export : « {relative} ».")
    path = (root / relative).resolve()
    if not path.is_relative_to(root.resolve()) or ".." in Path(relative).parts:
        raise Invalid(f"Chemin de fichier refusé dans l'export : « {relative} ».")
    return path
