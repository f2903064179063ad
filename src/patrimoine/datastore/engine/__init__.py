"""DuckDB over published versions: a read-only, sandboxed, per-version query engine.

The package's public API, what the rest of Patrimoine calls:
- opening a version (`tables`): `open_version`, `open_file`, `prepare_version`,
  `layout_ready`, `layout_wanted`, `layout_state` (built, or why its build failed:
  `LayoutState`, `LayoutFailure`; `LayoutUnavailable` when a build fails), `restrict` (a
  view without some columns or rows), `forget` (a destroyed content's opened tables);
  `VersionTable` runs the queries (on the layout, or on the Parquet file until there is
  one), `RowStore` holds a version's records as JSON;
- the sandbox (`sandbox`): `Limits` (time, rows, memory, threads: from the settings), and
  the errors `QueryTimeout` and `TooManyRows`;
- the layout (`layout`): `CACHE_DIR` (where layouts live under the data folder),
  `LAYOUT_VERSION`;
- the SQL vocabulary (`sql`): `Column`, `check_identifier` (a column by name, or a French
  error), `quote`, `sort_expr`, `fold_sql`, `postings_condition`, `TEXT_TYPES`,
  `SORTABLE_TYPES`.
"""

from patrimoine.datastore.engine.layout import CACHE_DIR, LAYOUT_VERSION
from patrimoine.datastore.engine.sandbox import Limits, QueryTimeout, TooManyRows
from patrimoine.datastore.engine.sql import (
    SORTABLE_TYPES,
    TEXT_TYPES,
    Column,
    check_identifier,
    fold_sql,
    postings_condition,
    quote,
    sort_expr,
)
from patrimoine.datastore.engine.tables import (
    LayoutFailure,
    LayoutState,
    LayoutUnavailable,
    RowStore,
    VersionTable,
    forget,
    layout_ready,
    layout_state,
    layout_wanted,
    open_file,
    open_version,
    prepare_version,
    restrict,
)

__all__ = [
    "CACHE_DIR", "LAYOUT_VERSION", "SORTABLE_TYPES", "TEXT_TYPES", "Column", "LayoutFailure",
    "LayoutState", "LayoutUnavailable", "Limits", "QueryTimeout", "RowStore", "TooManyRows",
    "VersionTable", "check_identifier", "fold_sql", "forget", "layout_ready", "layout_state",
    "layout_wanted", "open_file", "open_version", "postings_condition", "prepare_version",
    "quote", "restrict", "sort_expr",
]
