"""Queries on a version, built from parameters (never from user SQL).

The package's public API, what the rest of Patrimoine calls:
- which rows (`filters`): `Query`, `Condition`, `Group`, `Filter`, `BoundingBox`, `Near`,
  `OPERATORS`; parsed by `build_filter`, `parse_condition`, `parse_filter_json`,
  `parse_bbox`, `parse_near`; `filter_tree` writes a filter back as JSON; `where_clause`,
  `compile_filter` and `check_filter` compile or check it (`Sql`);
- pages of records (`records`): `records`, `Page`, `RecordsPage`, `SortKey`, `parse_sort`,
  `check_sort`, `order_by`;
- facets (`facets`): `facets`, `Facet`, `FacetValue`;
- aggregates (`aggregates`): `aggregate`, `GroupKey`, `Metric`, `AggregateResult`,
  `parse_group`, `parse_metric`;
- a reader's own SQL (`sql`, the one exception to "never from user SQL": one SELECT over the
  version alone, checked then run in the sandbox): `run_sql`, `check_sql`, `sql_tables`,
  `SqlResult`.
"""

from patrimoine.datastore.query.aggregates import (
    AggregateResult,
    GroupKey,
    Metric,
    aggregate,
    parse_group,
    parse_metric,
)
from patrimoine.datastore.query.facets import Facet, FacetValue, facets
from patrimoine.datastore.query.filters import (
    OPERATORS,
    BoundingBox,
    Condition,
    Filter,
    Group,
    Near,
    Query,
    Sql,
    build_filter,
    check_filter,
    compile_filter,
    filter_tree,
    parse_bbox,
    parse_condition,
    parse_filter_json,
    parse_near,
    where_clause,
)
from patrimoine.datastore.query.records import (
    Page,
    RecordsPage,
    SortKey,
    check_sort,
    order_by,
    parse_sort,
    records,
)
from patrimoine.datastore.query.sql import SqlResult, check_sql, run_sql, sql_tables

__all__ = [
    "OPERATORS", "AggregateResult", "BoundingBox", "Condition", "Facet", "FacetValue", "Filter",
    "Group", "GroupKey", "Metric", "Near", "Page", "Query", "RecordsPage", "SortKey", "Sql",
    "SqlResult", "aggregate", "build_filter", "check_filter", "check_sort", "check_sql",
    "compile_filter", "facets", "filter_tree", "order_by", "parse_bbox", "parse_condition",
    "parse_filter_json", "parse_group", "parse_metric", "parse_near", "parse_sort", "records",
    "run_sql", "sql_tables", "where_clause",
]
