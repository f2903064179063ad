"""Disclosure checks computed with DuckDB over a version's Parquet file.

- `k_anonymity`: over chosen quasi-identifiers (columns that, combined, may single a person
  out: postcode, year of birth, sex…), the size of the smallest group of identical rows (k),
  how many groups (and rows) fall below a target k, and the smallest groups; with a sensitive
  column, l (l-diversity): the fewest distinct sensitive values in a group, since a group
  whose members all share the same diagnosis discloses it whatever its size.
- `suppress_small_counts`: counts of rows per group with every group below the small-count
  threshold (settings.small_count_threshold, 11 by default, the statistical secrecy rule)
  left out, values and count: a suppressed cell's group keys (a name, a birth date) would
  reveal who is in it. Only how many groups were suppressed is given, and no total, since a
  total and all but one group would reveal the hidden one.
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
    sensitive: str | None = None
    l: int | None = None  # noqa: E741 - fewest distinct sensitive values in a class
    least_diverse: list[dict[str, Any]] = field(default_factory=list)  # {"values", "distinct"}

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": self.columns, "rows": self.rows, "classes": self.classes, "k": self.k,
            "target": self.target, "classes_below_target": self.classes_below_target,
            "rows_below_target": self.rows_below_target, "worst": self.worst,
            "sensitive": self.sensitive, "l": self.l, "least_diverse": self.least_diverse,
        }


def k_anonymity(settings: Settings, version: DatasetVersion, columns: list[str],
                target: int | None = None, worst: int = 10,
                sensitive: str | None = None) -> KAnonymityReport:
    cols = check_columns(version.column_names(), columns, "quasi-identifiants")
    if sensitive is not None:
        sensitive = check_columns(version.column_names(), [sensitive], "colonne sensible")[0]
        if sensitive in cols:
            raise Invalid(f"« {sensitive} » ne peut être à la fois quasi-identifiant et "
                          "colonne sensible.")
    target = settings.small_count_threshold if target is None else target
    if target < 1:
        raise Invalid("Le k visé doit être au moins 1.")
    worst = max(0, min(int(worst), 100))
    keys = ", ".join(quote(c) for c in cols)
    distinct = f"count(DISTINCT {quote(sensitive)})" if sensitive else "0"
    classes = (f"SELECT {keys}, count(*) AS n, {distinct} AS d "
               f"FROM {parquet_source(settings, version)} GROUP BY {keys}")
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
        diverse = con.execute(
            f"SELECT {keys}, d FROM classes ORDER BY d, {keys} NULLS FIRST LIMIT {worst}"
        ).fetchall() if sensitive else []
    finally:
        con.close()
    assert summary is not None
    rows, count, k, below, below_rows = (int(x) for x in summary)
    return KAnonymityReport(
        columns=cols, rows=rows, classes=count, k=k, target=target,
        classes_below_target=below, rows_below_target=below_rows,
        worst=[{"values": {c: _json(v) for c, v in zip(cols, r[:-1], strict=True)},
                "size": int(r[-1])} for r in smallest],
        sensitive=sensitive,
        l=(int(diverse[0][-1]) if diverse else 0) if sensitive else None,
        least_diverse=[{"values": {c: _json(v) for c, v in zip(cols, r[:-1], strict=True)},
                        "distinct": int(r[-1])} for r in diverse])


@dataclass
class CountsResult:
    by: list[str]
    threshold: int
    groups: list[dict[str, Any]]  # {"values": {...}, "count": n}, the groups not suppressed
    suppressed_groups: int
    truncated: bool

    def to_dict(self) -> dict[str, Any]:
        return {"by": self.by, "threshold": self.threshold, "groups": self.groups,
                "suppressed_groups": self.suppressed_groups, "truncated": self.truncated}


def suppress_small_counts(by: list[str], groups: Iterable[tuple[Sequence[Any], int]],
                          threshold: int, truncated: bool) -> CountsResult:
    """The rows per group of `by` (each group's values and count, as the reader's view
    counted them), the groups below the threshold left out (only their number is given)."""
    if threshold < 1:
        raise Invalid("Le seuil doit être au moins 1.")
    out = []
    suppressed = 0
    for values, n in groups:
        if n < threshold:
            suppressed += 1
            continue
        out.append({"values": {c: _json(v) for c, v in zip(by, values, strict=True)},
                    "count": n})
    return CountsResult(by=by, threshold=threshold, groups=out, suppressed_groups=suppressed,
                        truncated=truncated)
