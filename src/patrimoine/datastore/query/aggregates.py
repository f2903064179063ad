"""Aggregates: counts, sums, averages, extremes and distinct counts over the rows a query
selects, grouped by columns and date buckets, under the row limit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from patrimoine.core.errors import Invalid
from patrimoine.datastore.engine import (
    SORTABLE_TYPES,
    TEXT_TYPES,
    Column,
    VersionTable,
    check_identifier,
    quote,
)
from patrimoine.datastore.query.filters import Query, where_clause
from patrimoine.datastore.query.records import SortKey, clean_value

BUCKETS = {"day": "day", "month": "month", "year": "year",
           "jour": "day", "mois": "month", "annee": "year", "année": "year"}
METRICS = ("count", "sum", "avg", "min", "max", "count_distinct")
NUMERIC_TYPES = ("integer", "number")


@dataclass(frozen=True)
class GroupKey:
    column: str
    bucket: str | None = None

    @property
    def alias(self) -> str:
        return f"{self.column}_{self.bucket}" if self.bucket else self.column


@dataclass(frozen=True)
class Metric:
    function: str
    column: str | None = None

    @property
    def alias(self) -> str:
        return f"{self.function}_{self.column}" if self.column else self.function


def _alias_order(alias: str, collated: dict[str, bool]) -> str:
    return quote(alias) + (" COLLATE noaccent.nocase" if collated.get(alias) else "")


def parse_group(text: str) -> GroupKey:
    """`colonne` or `colonne:month` (day, month, year; jour, mois, annee)."""
    column, _, bucket = text.partition(":")
    if bucket and bucket.lower() not in BUCKETS:
        raise Invalid(f"Regroupement de dates « {bucket} » inconnu : day, month ou year.")
    return GroupKey(column, BUCKETS[bucket.lower()] if bucket else None)


def parse_metric(text: str) -> Metric:
    """`count`, or `fonction:colonne` with sum, avg, min, max, count, count_distinct."""
    function, _, column = text.partition(":")
    function = function.lower()
    if function not in METRICS:
        raise Invalid(f"Calcul « {function} » inconnu.",
                      errors=["Calculs : count, sum, avg, min, max, count_distinct."])
    if function not in ("count",) and not column:
        raise Invalid(f"Le calcul {function} demande une colonne : {function}:colonne.")
    return Metric(function, column or None)


@dataclass
class AggregateResult:
    columns: list[str]
    rows: list[dict[str, Any]]


def aggregate(
    table: VersionTable,
    query: Query,
    groups: list[GroupKey],
    metrics: list[Metric],
    sort: tuple[SortKey, ...] = (),
    limit: int | None = None,
) -> AggregateResult:
    """Counts, sums, averages, extremes and distinct counts, grouped by columns and date
    buckets, over the matching rows."""
    if len(groups) > 5:
        raise Invalid("5 regroupements au plus.")
    metrics = metrics or [Metric("count")]
    if len(metrics) > 20:
        raise Invalid("20 calculs au plus.")
    select: list[str] = []
    grouping: list[str] = []
    collated: dict[str, bool] = {}
    for g in groups:
        column = check_identifier(table.columns, g.column, "colonne de regroupement")
        expr, keys = _group_expr(g, column)
        select.append(f"{expr} AS {quote(g.alias)}")
        grouping += keys
        collated[g.alias] = column.type in TEXT_TYPES and not g.bucket
    aliases = [g.alias for g in groups]
    for m in metrics:
        expr = _metric_expr(table, m)
        if m.alias in aliases:
            raise Invalid(f"Le calcul {m.alias} est demandé deux fois.")
        select.append(f"{expr} AS {quote(m.alias)}")
        aliases.append(m.alias)
    where = where_clause(table, query)
    where_sql = f" WHERE {where.text}" if where.text else ""
    group_sql = f" GROUP BY {', '.join(grouping)}" if grouping else ""
    order = _order(sort, groups, aliases, collated)
    order_sql = f" ORDER BY {', '.join(order)}" if order else ""
    sql = f"SELECT {', '.join(select)} FROM records{where_sql}{group_sql}{order_sql}"
    if limit is not None:
        most = table.limits.max_aggregate_rows
        if not 1 <= limit <= most:
            raise Invalid(f"La limite doit être comprise entre 1 et {most}.")
        rows = table.fetch(f"{sql} LIMIT {int(limit)}", where.params)
    else:
        rows = table.fetch_limited(sql, where.params, what="Ce regroupement")
    return AggregateResult(aliases, [dict(zip(aliases, map(clean_value, r), strict=True))
                                     for r in rows])


def _group_expr(group: GroupKey, column: Column) -> tuple[str, list[str]]:
    """The expression a group shows, and the expressions it groups by."""
    col = quote(column.name)
    if not group.bucket:
        return col, [col]
    if column.type not in ("date", "datetime"):
        raise Invalid(f"Le regroupement par {group.bucket} ne s'applique qu'aux dates ; "
                      f"« {column.name} » n'en est pas une.")
    # Grouping on year() and month() integers is ~3x faster than on date_trunc().
    if group.bucket == "day":
        return f"CAST({col} AS DATE)", [f"CAST({col} AS DATE)"]
    if group.bucket == "month":
        return f"make_date(year({col}), month({col}), 1)", [f"year({col})", f"month({col})"]
    return f"make_date(year({col}), 1, 1)", [f"year({col})"]


def _metric_expr(table: VersionTable, metric: Metric) -> str:
    if metric.column is None:
        return "count(*)"
    column = check_identifier(table.columns, metric.column, "colonne de calcul")
    if metric.function in ("sum", "avg") and column.type not in NUMERIC_TYPES:
        raise Invalid(f"Le calcul {metric.function} demande une colonne numérique ; "
                      f"« {column.name} » n'en est pas une.")
    if metric.function in ("min", "max") and column.type not in SORTABLE_TYPES:
        raise Invalid(f"Le calcul {metric.function} ne s'applique pas à « {column.name} ».")
    sql_func = {"count_distinct": "count(DISTINCT {})", "count": "count({})"}.get(
        metric.function, metric.function + "({})")
    return sql_func.format(quote(column.name))


def _order(sort: tuple[SortKey, ...], groups: list[GroupKey], aliases: list[str],
           collated: dict[str, bool]) -> list[str]:
    """The asked sort (on result columns), then the groups in order."""
    order = []
    for key in sort:
        if key.column not in aliases:
            raise Invalid(f"Tri « {key.column} » impossible : triez sur "
                          + ", ".join(aliases) + ".")
        order.append(f"{_alias_order(key.column, collated)} "
                     f"{'DESC' if key.descending else 'ASC'} NULLS LAST")
    return order + [f"{_alias_order(g.alias, collated)} ASC NULLS LAST" for g in groups]
