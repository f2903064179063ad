"""A reader's own SQL (datastore/query/sql.py): one SELECT over the version alone, run in
the sandbox over the reader's view only."""

from __future__ import annotations

from pathlib import Path

import pytest

from patrimoine.core.errors import Forbidden, Invalid
from patrimoine.datastore import engine
from patrimoine.datastore.query import check_sql, run_sql, sql_tables
from tests import factories as f

NAME = "0b5c3f0e-6a52-4d3e-9f7c-5d1f0c2a7e41"


@pytest.fixture
def table(tmp_path: Path) -> engine.VersionTable:
    return f.open_table(tmp_path)


def test_a_select_reads_the_version_under_its_name(table: engine.VersionTable) -> None:
    answer = run_sql(table, NAME, f'SELECT commune, count(*) AS n FROM "{NAME}" '
                                  "GROUP BY commune ORDER BY n DESC, commune", 1000)
    assert [name for name, _ in answer.columns] == ["commune", "n"]
    assert answer.columns[1][1] == "BIGINT"
    assert sum(n for _, n in answer.rows) == table.row_count and not answer.truncated
    ids = run_sql(table, NAME, f'SELECT _id FROM "{NAME}" ORDER BY _id', 3)
    assert ids.rows == [(1,), (2,), (3,)] and ids.truncated


def test_a_view_shows_its_rows_and_columns_only(table: engine.VersionTable) -> None:
    view = engine.restrict(table, hidden=frozenset({"nom"}),
                           rows=('"commune" = ?', ("Paris",)), scope_key="paris")
    answer = run_sql(view, NAME, f'SELECT DISTINCT commune FROM "{NAME}"', 100)
    assert answer.rows == [("Paris",)]
    everything = run_sql(view, NAME, f'SELECT * FROM "{NAME}"', 100)
    assert "nom" not in [name for name, _ in everything.columns]
    with pytest.raises(Invalid, match="nom"):
        run_sql(view, NAME, f'SELECT nom FROM "{NAME}"', 100)
    # The layout's own tables are not reachable, whatever the name given to the view.
    for other in ("records", "search_postings", "value_summary"):
        with pytest.raises(Forbidden):
            run_sql(view, NAME, f"SELECT * FROM {other}", 100)


@pytest.mark.parametrize("text", [
    "DELETE FROM t", "INSERT INTO t VALUES (1)", "UPDATE t SET a = 1", "DROP TABLE t",
    "CREATE TABLE x AS SELECT 1", "COPY t TO '/tmp/x.csv'", "ATTACH 'x.duckdb'",
    "SET threads = 64", "PRAGMA database_list", "EXPLAIN SELECT 1", "CALL duckdb_tables()",
    "SELECT 1; SELECT 2", "SELECT 1; DROP TABLE t", "INSTALL httpfs", "LOAD httpfs",
    "SELEC 1", "WITH x AS (SELECT 1) SELECT * FROM x", "DESCRIBE t", "SHOW TABLES",
    "SELECT * FROM (DESCRIBE t)", "SELECT * FROM (SUMMARIZE t)",
])
def test_only_one_select_is_read(text: str) -> None:
    with pytest.raises(Invalid):
        check_sql(text, "t")


@pytest.mark.parametrize("text", [
    "SELECT * FROM read_csv('/etc/passwd')", "SELECT * FROM read_csv_auto('/etc/passwd')",
    "SELECT * FROM read_parquet('x.parquet')", "SELECT * FROM parquet_scan('x')",
    "SELECT * FROM read_json('x')", "SELECT * FROM glob('/*')", "SELECT * FROM read_text('x')",
    "SELECT * FROM read_blob('x')", "SELECT * FROM query_table('records')",
    "SELECT * FROM query('SELECT * FROM records')", "SELECT * FROM duckdb_tables()",
    "SELECT * FROM range(10)", "SELECT current_setting('threads') FROM t",
    "SELECT getenv('HOME') FROM t", "SELECT a FROM t WHERE a IN (SELECT file FROM glob('*'))",
    "SELECT main.lower(a) FROM t", "SELECT * FROM t, records", "SELECT * FROM main.t",
    "SELECT * FROM other.main.t", "SELECT * FROM '/etc/passwd'",
])
def test_no_other_table_and_no_file_function(text: str) -> None:
    with pytest.raises(Forbidden):
        check_sql(text, "t")


def test_the_tables_a_query_names() -> None:
    assert sql_tables('SELECT a FROM "x" JOIN y USING (a) WHERE b IN (SELECT b FROM "x")') \
        == ["x", "y"]
    assert sql_tables('SELECT (SELECT max(b) FROM z), a FROM "x"') == ["z", "x"]
    assert sql_tables("SELECT 1") == []
    with pytest.raises(Forbidden):
        sql_tables("SELECT * FROM read_csv('/etc/passwd')")
    check_sql('SELECT a, count(*) FROM "T" WHERE a LIKE \'%x%\' GROUP BY ALL '
              "ORDER BY 2 DESC LIMIT 5", "t")  # names are case-insensitive, as in DuckDB
