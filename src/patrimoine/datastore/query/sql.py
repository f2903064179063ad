"""A reader's own SQL over one version: a single SELECT, read in the sandbox.

The only module of the datastore that runs SQL written by someone else (CKAN's
`datastore_search_sql`). Before anything runs, DuckDB's own parser reads the text
(`json_serialize_sql`, which serialises SELECT statements only) and the tree is checked:

- exactly one statement, and a SELECT (no INSERT, COPY, SET, PRAGMA, ATTACH, EXPLAIN...);
- the only table it names is the version, by the name the caller gives it (a resource id);
  no schema or catalogue, no WITH (a common table expression could name a layout table
  where it is out of scope), no table function (`read_csv`, `glob`, `query_table`...);
- no function that reads files, settings or the database's catalogue (`FILE_FUNCTIONS` and
  the prefixes in `REFUSED_PREFIXES`).

The query then runs on the version's read-only sandboxed connection (engine/sandbox.py:
external access disabled, configuration locked, time limit), over a relation holding the
view's rows and columns only: a restricted view's hidden columns and rows are not there
to be read. At most `max_rows` rows come back; `truncated` says there were more.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import duckdb

from patrimoine.core.errors import Forbidden, Invalid
from patrimoine.datastore.engine import QueryTimeout, VersionTable, quote
from patrimoine.datastore.engine.sandbox import time_guard

# Functions that read files or the engine's state, refused even where the sandbox would
# stop them: the caller gets a clear refusal rather than an engine error.
FILE_FUNCTIONS = frozenset({
    "glob", "read_csv", "read_csv_auto", "read_parquet", "parquet_scan", "read_json",
    "read_json_auto", "read_json_objects", "read_json_objects_auto", "read_ndjson",
    "read_ndjson_auto", "read_ndjson_objects", "read_text", "read_blob", "sniff_csv",
    "query", "query_table", "getenv", "getvariable", "current_setting", "load_extension",
    "install_extension", "checkpoint", "force_checkpoint", "enable_profiling",
    "enable_logging", "which_secret", "sql_auto_complete", "json_execute_serialized_sql",
    "json_serialize_sql", "json_deserialize_sql", "json_serialize_plan",
})
REFUSED_PREFIXES = ("read_", "parquet_", "duckdb_", "pragma_", "iceberg_", "delta_",
                    "sqlite_", "postgres_", "mysql_", "http", "s3", "arrow_", "icu_")
# Table references a SELECT may hold besides the version itself (checked on its own): joins
# of it, subqueries, pivots, VALUES lists and a SELECT without FROM.
ALLOWED_REFS = frozenset({"JOIN", "SUBQUERY", "PIVOT", "EXPRESSION_LIST", "EMPTY"})
ROW_ID = "_id"


@dataclass(frozen=True)
class SqlResult:
    """The answer: column names and DuckDB types (as DuckDB writes them), the rows."""

    columns: list[tuple[str, str]]
    rows: list[tuple[Any, ...]]
    truncated: bool


def _parse(text: str) -> dict[str, Any]:
    con = duckdb.connect(":memory:", config={
        "enable_external_access": False, "autoload_known_extensions": False,
        "autoinstall_known_extensions": False})
    try:
        found = con.execute("SELECT json_serialize_sql(?)", [text]).fetchone()
    finally:
        con.close()
    assert found is not None
    tree: dict[str, Any] = json.loads(found[0])
    if tree.get("error"):
        message = str(tree.get("error_message") or "")
        if "Only SELECT" in message:
            raise Invalid("Seules les requêtes SELECT sont acceptées (aucune écriture, "
                          "COPY, SET, PRAGMA ni ATTACH).")
        raise Invalid(f"Requête SQL illisible : {message}.")
    if len(tree.get("statements") or []) != 1:
        raise Invalid("La requête doit être une seule instruction SELECT (pas de « ; » entre "
                      "plusieurs instructions).")
    return tree


def _nodes(value: Any) -> Iterator[dict[str, Any]]:
    """Every object of the parse tree, depth first."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _refused_function(name: str) -> bool:
    name = name.lower()
    return name in FILE_FUNCTIONS or name.startswith(REFUSED_PREFIXES)


def _check_node(node: dict[str, Any]) -> None:
    """What no query may hold, whatever table it reads: WITH, a refused function, a table
    function, a table reference other than a table, a join, a subquery or a VALUES list."""
    kind = node.get("type")
    cte_map = node.get("cte_map")
    if isinstance(cte_map, dict) and cte_map.get("map"):
        raise Invalid("Les expressions WITH ne sont pas acceptées : écrivez une sous-requête.")
    if node.get("class") == "FUNCTION":
        name = str(node.get("function_name", ""))
        if _refused_function(name) or node.get("schema") or node.get("catalog"):
            raise Forbidden(f"La fonction « {name} » n'est pas autorisée.")
    elif kind == "TABLE_FUNCTION":
        name = str((node.get("function") or {}).get("function_name", ""))
        raise Forbidden(f"La fonction « {name} » n'est pas autorisée : seule une ressource "
                        "peut être lue.")
    elif "class" not in node and "query_location" in node and kind != "BASE_TABLE" \
            and kind not in ALLOWED_REFS:
        # Another kind of table reference (SHOW, DESCRIBE, SUMMARIZE...).
        raise Invalid(f"Construction SQL non acceptée ici ({kind}).")


def check_sql(text: str, table_name: str) -> None:
    """Refuse, in French, what is not one SELECT over `table_name` alone (Invalid for what
    is not a single SELECT, Forbidden for another table or a refused function)."""
    for node in _nodes(_parse(text)["statements"]):
        _check_node(node)
        if node.get("type") == "BASE_TABLE":
            _check_table(node, table_name)


def sql_tables(text: str) -> list[str]:
    """The tables a query names, in order of first appearance, once it passed every check
    that does not depend on them (see `check_sql`): which version to open before
    `run_sql` checks the whole query again against it."""
    found: list[tuple[int, str]] = []
    for node in _nodes(_parse(text)["statements"]):
        _check_node(node)
        if node.get("type") == "BASE_TABLE":
            found.append((int(node.get("query_location") or 0), str(node.get("table_name"))))
    names: list[str] = []
    for _, name in sorted(found):
        if name not in names:
            names.append(name)
    return names


def _check_table(node: dict[str, Any], table_name: str) -> None:
    name = str(node.get("table_name", ""))
    if node.get("schema_name") or node.get("catalog_name") or \
            name.lower() != table_name.lower():
        raise Forbidden(f"La table « {name} » n'est pas accessible : seule la ressource "
                        f"« {table_name} » peut être lue.")
    if node.get("at_clause"):
        raise Invalid("La clause AT n'est pas acceptée.")


def run_sql(table: VersionTable, table_name: str, text: str, max_rows: int) -> SqlResult:
    """Check `text` (see `check_sql`), then run it over the view `table` called `table_name`;
    at most `max_rows` rows."""
    check_sql(text, table_name)
    columns = ", ".join([f"_row AS {ROW_ID}"] + [quote(c.name) for c in table.columns])
    base = f"SELECT {columns} FROM records"
    params: list[Any] = []
    if table.row_scope is not None:
        base += f" WHERE {table.row_scope[0]}"
        params = list(table.row_scope[1])
    cur = table.cursor()
    try:
        with time_guard(cur, table.limits.query_time_limit_seconds):
            relation = cur.sql(base, params=params).query(table_name, text)
            if relation is None:  # DuckDB answers None for a statement without rows
                raise Invalid("Seules les requêtes SELECT sont acceptées.")
            names = list(relation.columns)
            types = [str(t) for t in relation.types]
            rows = relation.limit(max_rows + 1).fetchall()
    except duckdb.OutOfMemoryException as exc:
        raise QueryTimeout("La requête demande plus de mémoire que permis. Ajoutez des "
                           "filtres ou regroupez moins finement.") from exc
    except (duckdb.ParserException, duckdb.BinderException, duckdb.CatalogException,
            duckdb.ConversionException, duckdb.InvalidInputException,
            duckdb.OutOfRangeException, duckdb.NotImplementedException) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise Invalid(f"La requête SQL n'a pas pu être exécutée : {first}") from exc
    finally:
        cur.close()
    return SqlResult(list(zip(names, types, strict=True)), rows[:max_rows],
                     len(rows) > max_rows)
