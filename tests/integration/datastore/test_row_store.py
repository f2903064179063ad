"""The row store and the value counts of a layout answer exactly what DuckDB answers.

Pages read from the row store (records(as_json=True)) must decode to the rows the DuckDB path
gives, encoded as the API encodes them; facets and equality counts read from the value counts
must equal a grouping of every row.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from patrimoine.datastore import engine
from patrimoine.datastore import query as q
from patrimoine.datastore.engine import VersionTable
from patrimoine.datastore.engine import tables as engine_tables
from patrimoine.datastore.engine.layout import row_store_paths
from patrimoine.datastore.query.filters import convert_value
from patrimoine.web.api.datastore import _json_default
from tests.factories import (
    EQUIPEMENTS_COLUMNS,
    LIMITS,
    generated_sql,
    open_table,
    write_parquet,
)

ODD_COLUMNS: list[dict[str, Any]] = [
    {"name": "l'intitulé \"exact\"", "type": "string"},
    {"name": "valeur", "type": "number"},
    {"name": "moment", "type": "datetime"},
    {"name": "jour", "type": "date"},
    {"name": "oui", "type": "boolean"},
    {"name": "n", "type": "integer"},
]
ODD_SQL = """
SELECT _row::BIGINT AS _row, t AS "l'intitulé \"\"exact\"\"\", v::DOUBLE AS valeur, m AS moment,
  d AS jour, b AS oui, n::BIGINT AS n
FROM (VALUES
 (1, 'guillemets " et \\ barre', 'nan'::DOUBLE, TIMESTAMP '2024-01-15 10:00:00.250',
  DATE '2024-01-15', true, 9007199254740993),
 (2, 'ligne' || chr(10) || 'suivante' || chr(1), 'inf'::DOUBLE, TIMESTAMP '1969-12-31 23:59:59.5',
  DATE '1901-02-03', false, -3),
 (3, 'séparateur ' || chr(8232) || ' ¤ 😀', -0.0, TIMESTAMP '2024-03-01 00:00:00',
  NULL, NULL, 0),
 (4, NULL, 0.1 + 0.2, NULL, DATE '2024-02-29', true, NULL),
 (5, '', 1e300, TIMESTAMP '2024-03-01 00:00:00', DATE '2024-02-29', NULL, 7),
 (6, 'guillemets " et \\ barre', '-inf'::DOUBLE, TIMESTAMP '2000-01-01 00:00:00.000001',
  DATE '2024-02-29', false, 7)
) t(_row, t, v, m, d, b, n)
"""


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> VersionTable:
    return open_table(tmp_path_factory.mktemp("big"), generated_sql(2_500))


@pytest.fixture(scope="module")
def odd(tmp_path_factory: pytest.TempPathFactory) -> VersionTable:
    return open_table(tmp_path_factory.mktemp("odd"), ODD_SQL, ODD_COLUMNS, positions=None)


def as_api(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows as the API's JSON encoder writes them, decoded."""
    return json.loads(json.dumps(rows, default=_json_default))  # type: ignore[no-any-return]


def both(table: VersionTable, query: q.Query, page: q.Page) -> tuple[q.RecordsPage, q.RecordsPage]:
    stored = q.records(table, query, page, as_json=True)
    plain = q.records(table, query, page)
    assert stored.rows_json is not None and plain.rows_json is None
    return stored, plain


def assert_same(table: VersionTable, query: q.Query, page: q.Page) -> q.RecordsPage:
    stored, plain = both(table, query, page)
    assert json.loads(stored.rows_json or b"") == as_api(plain.rows)
    assert (stored.total, stored.next_cursor, stored.columns) == \
        (plain.total, plain.next_cursor, plain.columns)
    return stored


def test_layout_has_a_row_store_and_value_counts(big: VersionTable) -> None:
    assert big.row_store is not None and big.counted
    data, index = row_store_paths(big.layout_path)
    assert data.is_file() and index.stat().st_size == (big.row_count + 1) * 8


@pytest.mark.parametrize("page", [
    q.Page(), q.Page(limit=1), q.Page(offset=1_234, limit=57), q.Page(offset=2_490),
    q.Page(offset=5_000), q.Page(sort=q.parse_sort("montant")),
    q.Page(sort=q.parse_sort("-commune"), offset=2_450), q.Page(sort=q.parse_sort("maj")),
    q.Page(sort=q.parse_sort("commune,-montant"), limit=40), q.Page(count=False),
])
@pytest.mark.parametrize("where", [[], ["commune:eq:Évry"], ["commune:eq:Nulle part"],
                                   ["montant:gt:100", "actif:eq:oui"], ["quantite:eq:4"],
                                   ["signe:eq:2023-02-07"], ["commune:null"]])
def test_pages_from_the_row_store_equal_the_duckdb_pages(
    big: VersionTable, page: q.Page, where: list[str]
) -> None:
    assert_same(big, q.Query(filter=q.build_filter(where, [], None)), page)


@pytest.mark.parametrize("search", ["evry ligne", "Ligne 12", "introuvable"])
def test_search_pages_from_the_row_store(big: VersionTable, search: str) -> None:
    assert_same(big, q.Query(search=search), q.Page(limit=25))


def test_following_cursors_gives_the_same_pages(big: VersionTable) -> None:
    for query, sort in ((q.Query(), "-montant"), (q.Query(search="lyon"), ""),
                        (q.Query(filter=q.build_filter(["commune:eq:Lyon"], [], None)),
                         "quantite")):
        page = q.Page(limit=200, sort=q.parse_sort(sort))
        seen = 0
        while True:
            result = assert_same(big, query, page)
            seen += len(json.loads(result.rows_json or b""))
            if result.next_cursor is None:
                break
            page = q.Page(limit=200, sort=page.sort, cursor=result.next_cursor)
        assert seen == (result.total or 0)


def test_odd_values_and_names_are_written_as_the_api_writes_them(odd: VersionTable) -> None:
    result = assert_same(odd, q.Query(), q.Page())
    rows = json.loads(result.rows_json or b"")
    assert rows[0]["valeur"] is None and rows[1]["valeur"] is None  # NaN, infinity
    assert rows[0]["moment"] == "2024-01-15T10:00:00.250000"
    assert rows[2]["moment"] == "2024-03-01T00:00:00"
    assert rows[0]["n"] == 9007199254740993
    assert rows[1]["l'intitulé \"exact\""] == "ligne\nsuivante\x01"
    assert_same(odd, q.Query(), q.Page(sort=q.parse_sort("-moment")))
    assert_same(odd, q.Query(filter=q.build_filter(["n:eq:7"], [], None)), q.Page())


def test_a_selection_of_columns_or_a_view_hiding_some_reads_duckdb(big: VersionTable) -> None:
    some = q.records(big, q.Query(), q.Page(columns=("commune",)), as_json=True)
    assert some.rows_json is None and some.rows[0] == {"_row": 1, "commune": "Saint-Étienne"}
    hidden = engine.restrict(big, hidden=frozenset({"nom"}), scope_key="t")
    view = q.records(hidden, q.Query(), q.Page(limit=3), as_json=True)
    assert view.rows_json is None and "nom" not in view.rows[0]
    # A view limited to some rows but showing every column still reads the row store.
    scoped = engine.restrict(big, rows=('"commune" = ?', ("Lyon",)), scope_key="lyon")
    assert_same(scoped, q.Query(), q.Page(limit=30))


def live_facet(table: VersionTable, column: str, size: int) -> q.Facet:
    """The facet computed by grouping every row (a filter true for all rows forces it)."""
    everything = q.Query(filter=q.build_filter([], [f"{column}:null", f"{column}:notnull"], None))
    return q.facets(table, everything, [column], size)[0]


@pytest.mark.parametrize("column", ["nom", "commune", "montant", "quantite", "actif", "signe",
                                    "maj"])
@pytest.mark.parametrize("size", [1, 5, 30, 1000])
def test_facets_from_value_counts_equal_a_grouping(big: VersionTable, column: str,
                                                   size: int) -> None:
    counted = q.facets(big, q.Query(), [column], size)[0]
    live = live_facet(big, column, size)
    assert counted.truncated == live.truncated
    # Values with the same count may come in either order: compare counts by value.
    assert [v.count for v in counted.values] == [v.count for v in live.values]
    every = dict(big.fetch(f"SELECT {engine.quote(column)}, count(*) FROM records GROUP BY 1"))
    assert all(every[v.value] == v.count for v in counted.values)


def test_equality_counts_equal_a_count(big: VersionTable, odd: VersionTable) -> None:
    for table, where in ((big, "commune:eq:Lyon"), (big, "quantite:eq:4"),
                         (big, "signe:eq:2023-02-07"), (big, "actif:eq:non"),
                         (big, "commune:eq:Absente"), (odd, "n:eq:7"),
                         (odd, "l'intitulé \"exact\":eq:guillemets \" et \\ barre")):
        query = q.Query(filter=q.build_filter([where], [], None))
        counted = q.records(table, query, q.Page(limit=1)).total
        column, _, value = where.rpartition(":eq:")
        counting = q.Query(filter=q.build_filter([f"{column}:in:{value}"], [], None)) \
            if "," not in value else None
        if counting is not None:
            assert counted == q.records(table, counting, q.Page(limit=1)).total
        assert counted == int(table.fetch(
            f"SELECT count(*) FROM records WHERE {engine.quote(column)} = ?",
            [convert_value(table.column(column), value)])[0][0])  # type: ignore[arg-type]


def test_a_layout_without_its_row_store_still_answers(tmp_path: Path) -> None:
    table = open_table(tmp_path, generated_sql(300))
    expected = as_api(q.records(table, q.Query(), q.Page(limit=20, offset=100)).rows)
    data, index = row_store_paths(table.layout_path)
    engine_tables._opened.clear()
    data.write_bytes(data.read_bytes()[:-10])  # a damaged store is not used
    reopened = engine.open_file(tmp_path / f"{table.key}.parquet", [
        {"name": c.name, "type": c.type} for c in table.columns],
        cache_root=tmp_path / "cache", key=table.key, limits=table.limits)
    assert reopened.row_store is None
    page = q.records(reopened, q.Query(), q.Page(limit=20, offset=100), as_json=True)
    assert page.rows_json is None and as_api(page.rows) == expected
    index.unlink()
    engine_tables._opened.clear()
    again = engine.open_file(tmp_path / f"{table.key}.parquet", [
        {"name": c.name, "type": c.type} for c in table.columns],
        cache_root=tmp_path / "cache", key=table.key, limits=table.limits)
    assert again.row_store is None


def test_building_a_layout_removes_the_files_of_older_layout_versions(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    key = "abc"
    old = [cache / f"{key}-v1.duckdb", cache / f"{key}-v4.sort-2.duckdb",
           cache / f".{key}-v4.sort-2.duckdb.lock", cache / f"{key}-v4.export-comma-csv.duckdb"]
    other = cache / "abcd-v4.duckdb"
    for path in [*old, other]:
        path.write_bytes(b"x")
    parquet = write_parquet(tmp_path / "v.parquet", generated_sql(10))
    table = engine.open_file(parquet, EQUIPEMENTS_COLUMNS, cache_root=cache, key=key,
                             limits=LIMITS)
    assert not any(p.exists() for p in old) and other.exists()
    assert table.layout_path.exists()


def test_a_build_removes_what_a_killed_build_left(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    key = "tue"
    left = [cache / f".{key}-v{engine.LAYOUT_VERSION}.duckdb.99999.tmp",
            cache / f".{key}-v{engine.LAYOUT_VERSION}.duckdb.99999.tmp.wal",
            cache / f".{key}-v{engine.LAYOUT_VERSION}.rows.json.99999.tmp"]
    for path in left:
        path.write_bytes(b"half")
    parquet = write_parquet(tmp_path / "v.parquet", generated_sql(10))
    table = engine.open_file(parquet, EQUIPEMENTS_COLUMNS, cache_root=cache, key=key,
                             limits=LIMITS)
    assert table.row_store is not None and not any(p.exists() for p in left)
    assert not [p for p in cache.iterdir() if p.name.endswith((".tmp", ".wal"))]
