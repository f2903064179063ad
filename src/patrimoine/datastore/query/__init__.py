"""Queries on a version, built from parameters (never from user SQL).

The package's public API, what the rest of Patrimoine calls: `Query`, `Condition`, `Group`,
`Filter`, `BoundingBox`, `Near`, `OPERATORS`, `build_filter`, `parse_condition`,
`parse_filter_json`, `parse_bbox`, `parse_near`, `filter_tree`, `where_clause`,
`compile_filter`, `check_filter`, `Sql`; `records`, `Page`, `RecordsPage`, `SortKey`,
`parse_sort`, `check_sort`, `order_by`; `facets`, `Facet`, `FacetValue`; `aggregate`,
`GroupKey`, `Metric`, `AggregateResult`, `parse_group`, `parse_metric`.
"""

from patrimoine.datastore.query.filters import (
    OPERATORS,
    AggregateResult,
    BoundingBox,
    Condition,
    Facet,
    FacetValue,
    Filter,
    Group,
    GroupKey,
    Metric,
    Near,
    Page,
    Query,
    RecordsPage,
    SortKey,
    Sql,
    aggregate,
    build_filter,
    check_filter,
    check_sort,
    compile_filter,
    facets,
    filter_tree,
    order_by,
    parse_bbox,
    parse_condition,
    parse_filter_json,
    parse_group,
    parse_metric,
    parse_near,
    parse_sort,
    records,
    where_clause,
)

__all__ = [
    "OPERATORS", "AggregateResult", "BoundingBox", "Condition", "Facet", "FacetValue", "Filter",
    "Group", "GroupKey", "Metric", "Near", "Page", "Query", "RecordsPage", "SortKey", "Sql",
    "aggregate", "build_filter", "check_filter", "check_sort", "compile_filter", "facets",
    "filter_tree", "order_by", "parse_bbox", "parse_condition", "parse_filter_json",
    "parse_group", "parse_metric", "parse_near", "parse_sort", "records", "where_clause",
]
