"""What a reader asks a readable version in: the datastore's query vocabulary.

Faces (web API, portal pages, CKAN) turn their parameters into these values and hand them to
a `ReadableVersion` (reading/service.py); they never import the datastore's query, engine or
export modules, which run queries on any version for anyone. Only descriptions and parsers
are here: nothing in this module reads data.
"""

from patrimoine.datastore.engine import Limits
from patrimoine.datastore.export import FORMATS, MEDIA_TYPES, ExportRequest
from patrimoine.datastore.query import (
    OPERATORS,
    Condition,
    Filter,
    Group,
    GroupKey,
    Metric,
    Page,
    Query,
    SortKey,
    build_filter,
    parse_bbox,
    parse_condition,
    parse_group,
    parse_metric,
    parse_near,
    parse_sort,
    sql_tables,
)

__all__ = [
    "FORMATS", "MEDIA_TYPES", "OPERATORS", "Condition", "ExportRequest",
    "Filter", "Group", "GroupKey", "Limits", "Metric", "Page", "Query", "SortKey",
    "build_filter", "parse_bbox", "parse_condition", "parse_group", "parse_metric",
    "parse_near", "parse_sort", "sql_tables",
]
