"""What changed between two versions of a dataset: rows and columns."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import duckdb

from patrimoine.core.errors import Invalid
from patrimoine.core.settings import Settings
from patrimoine.datastore.ingest.coltypes import quote_ident, quote_literal
from patrimoine.datastore.models import DatasetVersion
from patrimoine.datastore.versions import version_path


@dataclass
class VersionDiff:
    old_number: int
    new_number: int
    old_rows: int
    new_rows: int
    rows_added: int
    rows_removed: int
    # Rows whose key is in both versions with other values; None when no key column is given
    # (rows are then compared whole, so a changed row counts as one removed and one added).
    rows_changed: int | None
    key: str | None
    columns_added: list[str] = field(default_factory=list)
    columns_removed: list[str] = field(default_factory=list)
    # [(column, old type, new type)]
    columns_retyped: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return not (self.rows_added or self.rows_removed or self.rows_changed
                    or self.columns_added or self.columns_removed or self.columns_retyped)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def diff(settings: Settings, v1: DatasetVersion, v2: DatasetVersion,
         key: str | None = None) -> VersionDiff:
    """Compare two versions by full-row hash, or by a key column when `key` is given.

    Rows are hashed over the columns both versions share, so adding a column does not
    make every row look changed."""
    old_types = {c["name"]: c["type"] for c in v1.columns}
    new_types = {c["name"]: c["type"] for c in v2.columns}
    common = [n for n in old_types if n in new_types]
    result = VersionDiff(
        old_number=v1.number, new_number=v2.number, old_rows=v1.row_count,
        new_rows=v2.row_count, rows_added=0, rows_removed=0, rows_changed=None, key=key,
        columns_added=[n for n in new_types if n not in old_types],
        columns_removed=[n for n in old_types if n not in new_types],
        columns_retyped=[(n, old_types[n], new_types[n]) for n in common
                         if old_types[n] != new_types[n]],
    )
    if key is not None and key not in common:
        raise Invalid(f"La colonne clé « {key} » n'existe pas dans les deux versions "
                      f"(colonnes communes : {', '.join(common) or 'aucune'}).")
    con = duckdb.connect()
    try:
        for alias, version in (("a", v1), ("b", v2)):
            path = quote_literal(str(version_path(settings, version)))
            # Values as text so that a retyped column compares by what it shows.
            values = [f"CAST({quote_ident(n)} AS VARCHAR)" for n in common if n != key]
            row_hash = f"hash([{', '.join(values)}])" if values else "0"
            key_expr = f"CAST({quote_ident(key)} AS VARCHAR)" if key else "NULL"
            con.execute(f"CREATE TEMP TABLE {alias} AS SELECT {key_expr} AS k, {row_hash} AS h "
                        f"FROM read_parquet({path})")
        if key is None:
            result.rows_added = _count(con, "SELECT h FROM b EXCEPT ALL SELECT h FROM a")
            result.rows_removed = _count(con, "SELECT h FROM a EXCEPT ALL SELECT h FROM b")
        else:
            result.rows_added = _count(con, "SELECT k FROM b EXCEPT ALL SELECT k FROM a")
            result.rows_removed = _count(con, "SELECT k FROM a EXCEPT ALL SELECT k FROM b")
            result.rows_changed = _count(
                con, "SELECT b.k FROM b JOIN a ON a.k = b.k WHERE a.h <> b.h")
    finally:
        con.close()
    return result


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(f"SELECT count(*) FROM ({sql})").fetchone()
    return int(row[0]) if row else 0
