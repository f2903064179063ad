"""Facets: the most frequent values of columns among the rows a query selects."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from patrimoine.core.errors import Invalid
from patrimoine.datastore.engine import VersionTable, check_identifier, quote, sort_expr
from patrimoine.datastore.query.filters import Query, where_clause
from patrimoine.datastore.query.records import clean_value


@dataclass
class FacetValue:
    value: Any
    count: int


@dataclass
class Facet:
    column: str
    values: list[FacetValue]
    truncated: bool


def facets(table: VersionTable, query: Query, columns: list[str], size: int = 30) -> list[Facet]:
    """The most frequent values of each column (with their counts) among the matching rows."""
    if not 1 <= size <= 1000:
        raise Invalid("Le nombre de valeurs par facette doit être compris entre 1 et 1000.")
    if len(columns) > 20:
        raise Invalid("20 facettes au plus par requête.")
    where = where_clause(table, query)
    where_sql = f" WHERE {where.text}" if where.text else ""
    out = []
    for name in columns:
        column = check_identifier(table.columns, name, "colonne de facette")
        col = quote(column.name)
        # Every row (no filter, no view limited to some rows): the layout's value counts.
        counts = table.value_counts(column.name) if not where.text else None
        if counts is not None:
            out.append(Facet(column.name, [FacetValue(clean_value(v), n)
                                           for v, n in counts.ordered[:size]],
                             truncated=counts.distinct > size))
            continue
        rows = table.fetch(
            f"SELECT {col}, count(*) AS n FROM records{where_sql} GROUP BY {col} "
            f"ORDER BY n DESC, {sort_expr(column)} ASC NULLS LAST LIMIT {size + 1}",
            where.params,
        )
        out.append(Facet(column.name, [FacetValue(clean_value(v), int(n)) for v, n in rows[:size]],
                         truncated=len(rows) > size))
    return out
