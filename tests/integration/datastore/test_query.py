"""Queries on a version: filters, search, sort, pages, cursors, positions, bad input."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from patrimoine.core.errors import Invalid
from patrimoine.datastore import engine
from patrimoine.datastore import query as q
from patrimoine.datastore.engine import VersionTable
from tests.factories import EQUIPEMENTS_COLUMNS, LIMITS, generated_sql, open_table


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> VersionTable:
    return open_table(tmp_path_factory.mktemp("equipements"))


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> VersionTable:
    return open_table(tmp_path_factory.mktemp("big"), generated_sql(2_500))


def rows(table: VersionTable, where: list[str] = [], any_of: list[str] = [],  # noqa: B006
         tree: str | None = None, **page: object) -> list[int]:
    query = q.Query(filter=q.build_filter(where, any_of, tree))
    result = q.records(table, query, q.Page(**page))  # type: ignore[arg-type]
    return [r["_row"] for r in result.rows]


def test_first_page_has_every_column_total_and_typed_values(table: VersionTable) -> None:
    page = q.records(table, q.Query(), q.Page())
    assert page.total == 9 and page.next_cursor is None
    assert page.columns == ["_row"] + [c["name"] for c in EQUIPEMENTS_COLUMNS]
    first = page.rows[0]
    assert first["commune"] == "Saint-Étienne" and first["montant"] == 1200.5
    assert first["signe"] == date(2024, 1, 15) and first["actif"] is True
    assert first["maj"] == datetime(2024, 1, 15, 10, 0)


def test_select_columns(table: VersionTable) -> None:
    page = q.records(table, q.Query(), q.Page(columns=("commune", "nom"), limit=2))
    assert page.columns == ["_row", "commune", "nom"]
    assert page.rows[0] == {"_row": 1, "commune": "Saint-Étienne", "nom": "Piscine Jean-Bouin"}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("commune:eq:Lyon", [2, 3, 9]),
        ("commune:ne:Lyon", [1, 4, 5, 6, 7, 8]),  # "différent de" keeps empty cells
        ("montant:lt:20", [4, 6, 7]),
        ("montant:lte:20", [4, 6, 7, 9]),
        ("montant:gt:300", [1, 5]),
        ("montant:gte:300,0", [1, 2, 5]),  # French decimal comma accepted
        ("quantite:in:1,3,10", [1, 2, 3]),
        ("commune:in:Paris,Évry", [4, 5, 6]),
        ("nom:contains:MEDIATHEQUE", [2]),  # accents and case ignored
        ("nom:contains:oeuvre", [4]),  # ligature folded
        ("commune:startswith:saint-e", [1, 7]),
        ("montant:null", [3]),
        ("quantite:notnull", [1, 2, 3, 5, 6, 7, 8, 9]),
        ("actif:eq:oui", [1, 3, 5, 7, 9]),
        ("actif:eq:false", [2, 6, 8]),
        ("signe:gte:2024-03-01", [6, 7]),
        ("signe:lt:01/01/2024", [3]),  # dd/mm/yyyy accepted
        ("maj:gt:2024-03-01T00:00:00", [6, 7]),
        ("maj:eq:2024-03-01", [5]),
        ("latitude:lt:44", [8]),
        ("nom:eq:' OR 1=1 --", []),  # a value is only ever a bound parameter
    ],
)
def test_every_operator(table: VersionTable, condition: str, expected: list[int]) -> None:
    assert rows(table, [condition]) == expected


def test_and_or_and_json_tree(table: VersionTable) -> None:
    assert rows(table, ["commune:eq:Lyon", "montant:gte:20"]) == [2, 9]
    assert rows(table, any_of=["commune:eq:Évry", "montant:gt:1000"]) == [1, 4]
    assert rows(table, ["actif:eq:true"], ["commune:eq:Paris", "commune:eq:Lyon"]) == [3, 5, 9]
    tree = ('{"or": [{"column": "commune", "op": "eq", "value": "Paris"}, '
            '{"and": [{"column": "commune", "op": "eq", "value": "Lyon"}, '
            '{"column": "montant", "op": "gt", "value": 100}]}]}')
    assert rows(table, tree=tree) == [2, 5, 6]
    tree_in = '{"column": "quantite", "op": "in", "value": [2, 4]}'
    assert rows(table, tree=tree_in) == [6, 9]
    assert rows(table, tree='{"or": []}') == []
    assert rows(table, tree='{"and": []}') == list(range(1, 10))


@pytest.mark.parametrize(
    ("where", "tree", "message"),
    [
        (["inconnue:eq:1"], None, "« inconnue » n'existe pas"),
        (['commune"; DROP TABLE records; --:eq:x'], None, "n'existe pas"),
        (["commune:like:x"], None, "Opérateur « like » inconnu"),
        (["commune"], None, "mal formé"),
        (["quantite:eq:beaucoup"], None, "un nombre entier est attendu"),
        (["montant:gt:nan"], None, "un nombre est attendu"),
        (["actif:eq:peut-être"], None, "oui/non"),
        (["signe:eq:2024-13-45"], None, "une date"),
        (["quantite:contains:1"], None, "ne s'applique qu'aux colonnes de texte"),
        (["commune:eq"], None, "Une valeur est attendue"),
        ([], "{pas du json", "pas du JSON valide"),
        ([], '{"column": "commune"}', "Filtre JSON mal formé"),
        ([], '{"or": {"column": "commune"}}', "attend une liste"),
        ([], '{"column": "quantite", "op": "eq", "value": [1]}', "un nombre entier"),
        ([], '{"column": "commune", "op": "eq", "value": {"a": 1}}', "un texte est attendu"),
        (["quantite:eq:"], None, "un nombre entier est attendu"),
        ([], '{"column": "montant", "op": "eq", "value": {"a": 1}}', "un nombre est attendu"),
    ],
)
def test_bad_filters_get_french_errors(table: VersionTable, where: list[str], tree: str | None,
                                       message: str) -> None:
    with pytest.raises(Invalid) as exc:
        rows(table, where, tree=tree)
    assert message in exc.value.message + " ".join(exc.value.errors)
    assert exc.value.status == 422


def test_hostile_identifiers_in_columns_and_sort(table: VersionTable) -> None:
    for bad in ('nom" FROM records; --', "_recherche", "*", "records.nom"):
        with pytest.raises(Invalid, match="n'existe pas"):
            q.records(table, q.Query(), q.Page(columns=(bad,)))
        with pytest.raises(Invalid, match="n'existe pas"):
            q.records(table, q.Query(), q.Page(sort=(q.SortKey(bad),)))
    assert q.records(table, q.Query(), q.Page()).total == 9  # table intact


def test_sort_on_several_columns_nulls_last(table: VersionTable) -> None:
    assert rows(table, sort=q.parse_sort("commune,-montant")) == [4, 2, 9, 3, 5, 6, 1, 7, 8]
    assert rows(table, sort=q.parse_sort("-montant")) == [1, 5, 2, 8, 9, 7, 6, 4, 3]
    assert rows(table, sort=q.parse_sort("montant")) == [4, 6, 7, 9, 8, 2, 5, 1, 3]
    assert rows(table, sort=q.parse_sort("signe"))[-1] == 5


def test_full_text_search_ignores_accents_and_case(table: VersionTable) -> None:
    def search(text: str) -> list[int]:
        return [r["_row"] for r in q.records(table, q.Query(search=text), q.Page()).rows]

    assert search("etienne") == [1, 7]
    assert search("SAINT-ÉTIENNE piscine") == [1]
    assert search("ŒUVRE") == [4] and search("oeuvre evry") == [4]
    assert search("mediatheque elise") == [2]
    assert search("introuvable") == []
    assert search("   ") == list(range(1, 10))
    page = q.records(table, q.Query(search="lyon"), q.Page(limit=1))
    assert page.total == 3 and page.next_cursor


def test_offset_pages(big: VersionTable) -> None:
    page = q.records(big, q.Query(), q.Page(limit=100, offset=2_450))
    assert [r["_row"] for r in page.rows] == list(range(2_451, 2_501))
    assert page.total == 2_500 and page.next_cursor is None
    assert q.records(big, q.Query(), q.Page(offset=5_000)).rows == []
    with pytest.raises(Invalid, match="taille de page"):
        q.records(big, q.Query(), q.Page(limit=5_000))
    with pytest.raises(Invalid, match="négatif"):
        q.records(big, q.Query(), q.Page(offset=-1))


ALWAYS = ["montant:null", "montant:notnull"]  # a filter that keeps every row


@pytest.mark.parametrize("sort", ["montant", "-montant", "commune", "-commune", "signe",
                                  "-maj", "actif", "-quantite", "nom"])
def test_sorted_layout_matches_plain_sql_order(big: VersionTable, sort: str) -> None:
    """The precomputed sort positions give exactly the order of an SQL ORDER BY."""
    keys = q.parse_sort(sort)
    for offset, limit in ((0, 1000), (1000, 1000), (2000, 1000), (2270, 70)):
        fast = rows(big, sort=keys, offset=offset, limit=limit)
        plain = rows(big, any_of=ALWAYS, sort=keys, offset=offset, limit=limit)
        assert fast == plain, (sort, offset)


def _walk(table: VersionTable, query: q.Query, sort: str, limit: int) -> list[int]:
    seen: list[int] = []
    cursor = None
    for _ in range(1_000):
        page = q.records(table, query, q.Page(sort=q.parse_sort(sort), limit=limit,
                                              cursor=cursor))
        seen += [r["_row"] for r in page.rows]
        cursor = page.next_cursor
        if cursor is None:
            return seen
    raise AssertionError("pagination sans fin")


@pytest.mark.parametrize("sort", ["", "-montant", "commune,-signe", "actif,quantite", "-maj"])
@pytest.mark.parametrize("filtered", [False, True])
def test_cursor_pages_walk_every_row_once_in_order(big: VersionTable, sort: str,
                                                   filtered: bool) -> None:
    query = q.Query(filter=q.build_filter(["quantite:ne:3"] if filtered else [], [], None))
    expected = [r["_row"] for r in q.records(
        big, q.Query(filter=q.build_filter(["quantite:ne:3"] if filtered else [], ALWAYS, None)),
        q.Page(sort=q.parse_sort(sort), limit=1000)).rows]
    expected += [r["_row"] for r in q.records(
        big, q.Query(filter=q.build_filter(["quantite:ne:3"] if filtered else [], ALWAYS, None)),
        q.Page(sort=q.parse_sort(sort), limit=1000, offset=1000)).rows]
    expected += [r["_row"] for r in q.records(
        big, q.Query(filter=q.build_filter(["quantite:ne:3"] if filtered else [], ALWAYS, None)),
        q.Page(sort=q.parse_sort(sort), limit=1000, offset=2000)).rows]
    walked = _walk(big, query, sort, 333)
    assert walked == expected
    assert len(set(walked)) == len(walked)


def test_cursor_of_another_query_or_garbage_is_refused(big: VersionTable) -> None:
    page = q.records(big, q.Query(), q.Page(sort=q.parse_sort("montant"), limit=10))
    assert page.next_cursor
    with pytest.raises(Invalid, match="Curseur"):
        q.records(big, q.Query(), q.Page(sort=q.parse_sort("-montant"), cursor=page.next_cursor))
    for garbage in ("!!!", "e30", "bm90IGpzb24", page.next_cursor[:-3]):
        with pytest.raises(Invalid, match="Curseur"):
            q.records(big, q.Query(), q.Page(cursor=garbage))


def test_bounding_box_and_distance(table: VersionTable) -> None:
    lyon = q.Query(bbox=q.parse_bbox("4.8,45.7,4.9,45.8"))
    assert [r["_row"] for r in q.records(table, lyon, q.Page()).rows] == [2, 3, 9]
    # Saint-Étienne centre: rows 1 and 7 are a few hundred metres away, Lyon is ~50 km.
    near = q.Query(near=q.parse_near("45.4397,4.3872,1000"))
    assert [r["_row"] for r in q.records(table, near, q.Page()).rows] == [1, 7]
    wide = q.Query(near=q.parse_near("45.4397,4.3872,60000"))
    assert [r["_row"] for r in q.records(table, wide, q.Page()).rows] == [1, 2, 3, 7, 9]
    for bad, parse in (("1,2,3", q.parse_bbox), ("4.9,45.7,4.8,45.8", q.parse_bbox),
                       ("45,4", q.parse_near), ("45,4,-5", q.parse_near),
                       ("a,b,c", q.parse_near)):
        with pytest.raises(Invalid):
            parse(bad)


def test_positions_filters_need_positions(tmp_path: Path) -> None:
    table = open_table(tmp_path, positions=None)
    with pytest.raises(Invalid, match="pas de positions"):
        q.records(table, q.Query(bbox=q.parse_bbox("0,0,1,1")), q.Page())


def test_default_order_pages_on_many_row_groups_follow_row_ids(tmp_path: Path) -> None:
    """Unsorted pages rely on insertion order (no ORDER BY): check it over many row groups."""
    large = open_table(tmp_path, generated_sql(300_000))
    query = q.Query(filter=q.build_filter(["commune:eq:Lyon"], [], None))
    expected = [r[0] for r in large.fetch(
        "SELECT _row FROM records WHERE commune = 'Lyon' ORDER BY _row")]
    for offset in (0, 30_000, 54_000):
        page = q.records(large, query, q.Page(limit=1000, offset=offset))
        assert [r["_row"] for r in page.rows] == expected[offset:offset + 1000]
    searched = q.records(large, q.Query(search="ligne 29999"), q.Page(limit=1000))
    assert [r["_row"] for r in searched.rows] == sorted(r["_row"] for r in searched.rows)
    assert searched.total == 13  # 29999, 129999, 229999 and 299990 to 299999


def test_datetime_filters_with_time_zone_and_count_off(table: VersionTable) -> None:
    # 2024-03-05T14:00+02:00 is 12:00 UTC, the stored wall time of row 6.
    assert rows(table, ["maj:eq:2024-03-05T14:00:00+02:00"]) == [6]
    assert rows(table, ["maj:lt:2024-01-15T10:00:00Z"]) == []
    page = q.records(table, q.Query(filter=q.build_filter(["commune:eq:Lyon"], [], None)),
                     q.Page(limit=2, count=False))
    assert page.total is None and page.next_cursor is not None
    rest = q.records(table, q.Query(filter=q.build_filter(["commune:eq:Lyon"], [], None)),
                     q.Page(limit=2, count=False, cursor=page.next_cursor))
    assert [r["_row"] for r in rest.rows] == [9]


def test_a_column_named_rowid_and_rows_out_of_order(tmp_path: Path) -> None:
    sql = """SELECT * FROM (VALUES (3::BIGINT, 30::BIGINT, 'c'), (1::BIGINT, 10::BIGINT, 'a'),
             (2::BIGINT, 20::BIGINT, 'b')) t(_row, "RowId", nom)"""
    parquet = tmp_path / "desordre.parquet"
    con = duckdb.connect()
    con.execute(f"COPY ({sql}) TO '{parquet}' (FORMAT parquet)")  # rows left out of order
    con.close()
    assert pq.read_table(parquet).column("_row").to_pylist() == [3, 1, 2]
    table = engine.open_file(parquet, [{"name": "RowId", "type": "integer"},
                                       {"name": "nom", "type": "string"}],
                             cache_root=tmp_path / "cache", key="desordre", limits=LIMITS)
    page = q.records(table, q.Query(), q.Page(limit=2))
    assert [(r["_row"], r["RowId"]) for r in page.rows] == [(1, 10), (2, 20)]
    nxt = q.records(table, q.Query(), q.Page(limit=2, cursor=page.next_cursor))
    assert [r["nom"] for r in nxt.rows] == ["c"]
    assert rows(table, ["RowId:gt:15"], sort=q.parse_sort("-RowId")) == [3, 2]


def test_row_numbers_with_gaps_are_refused_in_french(tmp_path: Path) -> None:
    from patrimoine.core.errors import PatrimoineError

    sql = "SELECT * FROM (VALUES (1::BIGINT, 'a'), (5::BIGINT, 'b')) t(_row, nom)"
    with pytest.raises(PatrimoineError, match="de 1 à n sans trou"):
        open_table(tmp_path, sql, [{"name": "nom", "type": "string"}], None)
    assert [p.name for p in (tmp_path / "cache").iterdir() if "duckdb" in p.name] == []
