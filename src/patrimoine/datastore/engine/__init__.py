"""DuckDB over published versions: a read-only, sandboxed, per-version query engine.

The package's public API, what the rest of Patrimoine calls: `open_version`, `open_file`,
`prepare_version`, `layout_ready`, `restrict`, `VersionTable`, `RowStore`,
`check_identifier`, `Limits`, `QueryTimeout`, `TooManyRows`, `CACHE_DIR`, `LAYOUT_VERSION`,
and the SQL vocabulary the queries share: `Column`, `quote`, `sort_expr`, `fold_sql`,
`postings_condition`, `TEXT_TYPES`, `SORTABLE_TYPES`.
"""

from patrimoine.datastore.engine.tables import (
    CACHE_DIR,
    DEFAULT_LIMITS,
    LAYOUT_VERSION,
    SORTABLE_TYPES,
    TEXT_TYPES,
    Column,
    Limits,
    QueryTimeout,
    RowStore,
    TooManyRows,
    VersionTable,
    check_identifier,
    fold_sql,
    layout_ready,
    open_file,
    open_version,
    postings_condition,
    prepare_version,
    quote,
    restrict,
    sort_expr,
)

__all__ = [
    "CACHE_DIR", "DEFAULT_LIMITS", "LAYOUT_VERSION", "SORTABLE_TYPES", "TEXT_TYPES", "Column",
    "Limits", "QueryTimeout", "RowStore", "TooManyRows", "VersionTable", "check_identifier",
    "fold_sql", "layout_ready", "open_file", "open_version", "postings_condition",
    "prepare_version", "quote", "restrict", "sort_expr",
]
