"""Disclosure checks computed with DuckDB over a version's Parquet file.

- `k_anonymity`: over chosen quasi-identifiers (columns that, combined, may single a person
  out: postcode, year of birth, sex…), the size of the smallest group of identical rows (k),
  how many groups (and rows) fall below a target k, and the smallest groups.
- `suppress_small_counts`: counts of rows per group with every count below the small-count
  threshold (settings.small_count_threshold, 11 by default, the statistical secrecy rule)
  replaced by null, so that a published aggregate never shows a group of few persons.
  No total is given, since a total and all but one group would reveal the hidden one.
  The counts come from the reader's view of the version (`reading.ReadableVersion.counts`),
  so that a grant's rows and hidden columns apply to them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from patrimoine.core.errors import Invalid
from patrimoine.core.settings import Settings
from patrimoine.datastore.models import DatasetVersion
from patrimoine.protection.findings.service import connect, parquet_source, quote

MAX_COLUMNS = 10
MAX_GROUPS = 10_000


def _json(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def check_columns(names: Sequence[str], columns: list[str], what: str) -> list[str]:
    """`columns` cleaned and checked against the `names` the reader may use (French Invalid)."""
    wanted = [c.strip() for c in columns if c and c.strip()]
    if not wanted:
        raise Invalid(f"Indiquez au moins une colonne ({what}).")
    if len(wanted) > MAX_COLUMNS:
        raise Invalid(f"Au plus {MAX_COLUMNS} colonnes ({what}).")
    unknown = [c for c in wanted if c not in names]
    if unknown:
        raise Invalid("Colonne(s) inconnue(s) : " + ", ".join(unknown) + ". Colonnes : "
                      + ", ".join(names) + ".")
    if len(set(wanted)) != len(wanted):
        raise Invalid("Une colonne est citée deux fois.")
    return wanted


@dataclass
class KAnonymityReport:
    columns: list[str]
    rows: int
    classes: int  # distinct combinations of the quasi-identifiers
    k: int  # size of the smallest class (0 for an empty table)
    target: int
    classes_below_target: int
    rows_below_target: int
    worst: list[dict[str, Any]] = field(default_factory=list)  # {"values": {...}, "size": n}

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": self.columns, "rows": self.rows, "classes": self.classes, "k": self.k,
            "target": self.target, "classes_below_target": self.classes_below_target,
            "rows_below_target": self.rows_below_target, "worst": self.worst,
        }


def k_anonymity(settings: Settings, version: DatasetVersion, columns: list[str],
                target: int | None = None, worst: int = 10) -> KAnonymityReport:
    cols = check_columns(version.column_names(), columns, "quasi-identifiants")
    target = settings.small_count_threshold if target is None else target
    if target < 1:
        raise Invalid("Le k visé doit être au moins 1.")
    worst = max(0, min(int(worst), 100))
    keys = ", ".join(quote(c) for c in cols)
    classes = (f"SELECT {keys}, count(*) AS n FROM {parquet_source(settings, version)} "
               f"GROUP BY {keys}")
    con = connect()
    try:
        con.execute(f"CREATE TEMP TABLE classes AS {classes}")
        summary = con.execute(
            "SELECT coalesce(sum(n), 0), count(*), coalesce(min(n), 0), "
            "count(*) FILTER (WHERE n < $1), coalesce(sum(n) FILTER (WHERE n < $1), 0) "
            "FROM classes", [target]).fetchone()
        smallest = con.execute(
            f"SELECT {keys}, n FROM classes ORDER BY n, {keys} NULLS FIRST LIMIT {worst}"
        ).fetchall()
    finally:
        con.close()
    assert summary is not None
    rows, count, k, below, below_rows = (int(x) for x in summary)
    return KAnonymityReport(
        columns=cols, rows=rows, classes=count, k=k, target=target,
        classes_below_target=below, rows_below_target=below_rows,
        worst=[{"values": {c: _json(v) for c, v in zip(cols, r[:-1], strict=True)},
                "size": int(r[-1])} for r in smallest])


@dataclass
class CountsResult:
    by: list[str]
    threshold: int
    groups: list[dict[str, Any]]  # {"values": {...}, "count": n or None, "suppressed": bool}
    suppressed_groups: int
    truncated: bool

    def to_dict(self) -> dict[str, Any]:
        return {"by": self.by, "threshold": self.threshold, "groups": self.groups,
                "suppressed_groups": self.suppressed_groups, "truncated": self.truncated}


def suppress_small_counts(by: list[str], groups: Iterable[tuple[Sequence[Any], int]],
                          threshold: int, truncated: bool) -> CountsResult:
    """The rows per group of `by` (each group's values and count, as the reader's view
    counted them), counts below the threshold suppressed (None)."""
    if threshold < 1:
        raise Invalid("Le seuil doit être au moins 1.")
    out = []
    suppressed = 0
    for values, n in groups:
        hidden = n < threshold
        suppressed += hidden
        out.append({"values": {c: _json(v) for c, v in zip(by, values, strict=True)},
                    "count": None if hidden else n, "suppressed": hidden})
    return CountsResult(by=by, threshold=threshold, groups=out, suppressed_groups=suppressed,
                        truncated=truncated)
