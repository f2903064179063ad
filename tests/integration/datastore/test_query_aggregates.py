"""Facets, aggregates, and the engine's guards: time limit, row limit, no file access."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from patrimoine.core.errors import Invalid
from patrimoine.core.settings import Settings
from patrimoine.datastore import query as q
from patrimoine.datastore.engine import Limits, QueryTimeout, TooManyRows, VersionTable
from tests.factories import generated_sql, open_table, write_parquet


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> VersionTable:
    return open_table(tmp_path_factory.mktemp("equipements"))


def where(*conditions: str) -> q.Query:
    return q.Query(filter=q.build_filter(list(conditions), [], None))


def test_facets_count_values_nulls_and_truncation(table: VersionTable) -> None:
    (commune,) = q.facets(table, q.Query(), ["commune"])
    assert [(v.value, v.count) for v in commune.values] == [
        ("Lyon", 3), ("Paris", 2), ("Saint-Étienne", 2), ("Évry", 1), (None, 1)]
    assert not commune.truncated
    (top,) = q.facets(table, q.Query(), ["commune"], size=2)
    assert [v.value for v in top.values] == ["Lyon", "Paris"] and top.truncated
    actif, signe = q.facets(table, where("commune:eq:Lyon"), ["actif", "signe"])
    assert [(v.value, v.count) for v in actif.values] == [(True, 2), (False, 1)]
    assert sum(v.count for v in signe.values) == 3
    searched = q.facets(table, q.Query(search="saint etienne"), ["nom"])[0]
    assert {v.value for v in searched.values} == {"Piscine Jean-Bouin", "@arobase"}
    with pytest.raises(Invalid, match="n'existe pas"):
        q.facets(table, q.Query(), ["commune; DROP TABLE records"])
    with pytest.raises(Invalid):
        q.facets(table, q.Query(), ["commune"], size=0)


def agg(table: VersionTable, groups: list[str], metrics: list[str], query: q.Query | None = None,
        sort: str = "", limit: int | None = None) -> list[dict[str, object]]:
    return q.aggregate(table, query or q.Query(), [q.parse_group(g) for g in groups],
                       [q.parse_metric(m) for m in metrics], q.parse_sort(sort), limit).rows


def test_every_metric_grouped(table: VersionTable) -> None:
    out = agg(table, ["commune"], ["count", "sum:montant", "avg:quantite", "min:signe",
                                   "max:montant", "count_distinct:actif", "count:montant"])
    lyon = next(r for r in out if r["commune"] == "Lyon")
    assert lyon == {"commune": "Lyon", "count": 3, "sum_montant": 320.0, "avg_quantite": 5.0,
                    "min_signe": date(2023, 12, 31), "max_montant": 300.0,
                    "count_distinct_actif": 2, "count_montant": 2}
    assert [r["commune"] for r in out] == ["Évry", "Lyon", "Paris", "Saint-Étienne", None]
    assert agg(table, [], ["count", "sum:quantite"]) == [{"count": 9, "sum_quantite": 40}]


def test_group_by_several_columns_sorted_by_a_metric(table: VersionTable) -> None:
    out = agg(table, ["commune", "actif"], ["count"], sort="-count,commune")
    assert out[0] == {"commune": "Lyon", "actif": True, "count": 2}
    assert len(out) == 7
    top = agg(table, ["commune"], ["sum:montant"], sort="-sum_montant", limit=1)
    assert top == [{"commune": "Saint-Étienne", "sum_montant": 1210.5}]
    filtered = agg(table, ["commune"], ["count"], where("montant:gt:100"))
    assert filtered == [{"commune": "Lyon", "count": 1}, {"commune": "Paris", "count": 1},
                        {"commune": "Saint-Étienne", "count": 1}]


def test_dates_bucketed_by_day_month_year(table: VersionTable) -> None:
    months = agg(table, ["signe:month"], ["count"])
    assert months == [
        {"signe_month": date(2023, 12, 1), "count": 1},
        {"signe_month": date(2024, 1, 1), "count": 2},
        {"signe_month": date(2024, 2, 1), "count": 3},
        {"signe_month": date(2024, 3, 1), "count": 2},
        {"signe_month": None, "count": 1},
    ]
    years = agg(table, ["maj:annee"], ["sum:montant"])
    assert years == [{"maj_year": date(2024, 1, 1), "sum_montant": 2565.49},
                     {"maj_year": None, "sum_montant": None}]
    days = agg(table, ["signe:day", "commune"], ["count"], where("commune:eq:Paris"))
    assert days == [{"signe_day": date(2024, 3, 5), "commune": "Paris", "count": 1},
                    {"signe_day": None, "commune": "Paris", "count": 1}]


@pytest.mark.parametrize(
    ("groups", "metrics", "sort", "message"),
    [
        (["commune:month"], ["count"], "", "ne s'applique qu'aux dates"),
        (["signe:week"], ["count"], "", "day, month ou year"),
        (["commune"], ["median:montant"], "", "Calcul « median » inconnu"),
        (["commune"], ["sum"], "", "demande une colonne"),
        (["commune"], ["sum:commune"], "", "colonne numérique"),
        (["commune"], ["avg:actif"], "", "colonne numérique"),
        (['commune" --'], ["count"], "", "n'existe pas"),
        (["commune"], ["max:inconnue"], "", "n'existe pas"),
        (["commune"], ["count", "count"], "", "demandé deux fois"),
        (["commune"], ["count"], "-montant", "triez sur"),
    ],
)
def test_bad_aggregates_get_french_errors(table: VersionTable, groups: list[str],
                                          metrics: list[str], sort: str, message: str) -> None:
    with pytest.raises(Invalid) as exc:
        agg(table, groups, metrics, sort=sort)
    assert message in exc.value.message + " ".join(exc.value.errors)


def test_row_limit_gives_a_french_error(tmp_path: Path) -> None:
    small = open_table(tmp_path, limits=Limits.from_settings(
        Settings(max_aggregate_rows=3, max_page_size=5)))
    with pytest.raises(TooManyRows, match="plus de 3 lignes"):
        agg(small, ["commune"], ["count"])
    assert len(agg(small, ["commune"], ["count"], limit=3)) == 3
    assert len(agg(small, ["actif"], ["count"])) == 3
    with pytest.raises(Invalid, match="entre 1 et 5"):
        q.records(small, q.Query(), q.Page(limit=6))


def test_limits_default_to_todays_values() -> None:
    assert Limits.from_settings(Settings(data_dir=Path("/srv/data"))) == Limits(
        query_time_limit_seconds=10.0, export_time_limit_seconds=900.0, max_page_size=1_000,
        max_aggregate_rows=10_000, duckdb_memory_limit="1GB", duckdb_threads=2,
        layout_memory_limit="1GB", layout_threads=2, duckdb_temp_space="100GB",
        temp_directory="/srv/data/tmp/duckdb")


def test_limits_set_in_the_environment_bind_the_queries(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in [("MAX_AGGREGATE_ROWS", "3"), ("MAX_PAGE_SIZE", "5"),
                        ("DUCKDB_MEMORY_LIMIT", "256MiB"), ("DUCKDB_THREADS", "1")]:
        monkeypatch.setenv(f"PATRIMOINE_{name}", value)
    small = open_table(tmp_path, limits=Limits.from_settings(Settings()))
    with pytest.raises(TooManyRows, match="plus de 3 lignes"):
        agg(small, ["commune"], ["count"])
    with pytest.raises(Invalid, match="entre 1 et 5"):
        q.records(small, q.Query(), q.Page(limit=6))
    assert small.fetch("SELECT current_setting('memory_limit'), current_setting('threads')") \
        == [("256.0 MiB", 1)]


def test_time_limit_interrupts_with_a_french_error(tmp_path: Path) -> None:
    slow = open_table(tmp_path, generated_sql(3_000), limits=Limits.from_settings(
        Settings(query_time_limit_seconds=0.2, export_time_limit_seconds=0.2)))
    expensive = ("SELECT count(*) FROM records a, records b, records c "
                 "WHERE a.montant + b.montant < c.montant")
    with pytest.raises(QueryTimeout) as exc:
        slow.fetch(expensive)
    assert "durée maximale autorisée (0,2 s)" in exc.value.message
    with pytest.raises(QueryTimeout):
        list(slow.stream(expensive))
    # The connection is still usable afterwards.
    assert slow.fetch("SELECT count(*) FROM records") == [(3_000,)]


def test_queries_cannot_reach_any_other_file(tmp_path: Path, table: VersionTable) -> None:
    secret = write_parquet(tmp_path / "secret.parquet", "SELECT 1::BIGINT AS _row, 'x' AS s")
    (tmp_path / "notes.csv").write_text("a,b\n1,2\n")
    attempts = [
        ("SELECT * FROM read_parquet(?)", [str(secret)]),
        (f"SELECT * FROM '{secret}'", []),
        ("SELECT * FROM read_csv(?)", [str(tmp_path / "notes.csv")]),
        ("SELECT * FROM read_text('/etc/passwd')", []),
        (f"ATTACH '{tmp_path / 'other.duckdb'}' AS other", []),
        (f"COPY records TO '{tmp_path / 'out.csv'}'", []),
        ("SELECT * FROM glob('/etc/*')", []),
        ("INSTALL httpfs", []),
    ]
    for sql, params in attempts:
        with pytest.raises(duckdb.Error):
            table.fetch(sql, params)
    for sql in ("SET enable_external_access = true", "RESET enable_external_access",
                "SET allowed_directories = ['/']", "SET lock_configuration = false"):
        with pytest.raises(duckdb.Error):
            table.fetch(sql)
    assert not (tmp_path / "out.csv").exists()
    with pytest.raises(duckdb.Error):
        table.fetch("DROP TABLE records")  # read-only
    assert table.fetch("SELECT count(*) FROM records") == [(9,)]


def test_concurrent_queries_share_one_version(tmp_path: Path) -> None:
    """Every query gets its own cursor: threads can query and sort a version at once."""
    from concurrent.futures import ThreadPoolExecutor

    shared = open_table(tmp_path, generated_sql(20_000))

    def work(i: int) -> tuple[int, int | None, int]:
        sort = q.parse_sort(["-montant", "commune", "signe", "-maj"][i % 4])
        page = q.records(shared, q.Query(), q.Page(sort=sort, offset=i * 10, limit=50))
        (facet,) = q.facets(shared, where("actif:eq:true"), ["commune"])
        return len(page.rows), page.total, sum(v.count for v in facet.values)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(32)))
    assert {r[:2] for r in results} == {(50, 20_000)}
    assert len({r[2] for r in results}) == 1
