"""Versions whose layout cannot be built in memory: the build spills to disk, and when it
fails all the same, every query is answered from the version's Parquet file, with the same
answers as through the layout; the failure is recorded for staff and retried with backoff,
never on every request."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from patrimoine.bootstrap import Services, bootstrap
from patrimoine.core.db import Database
from patrimoine.datastore import engine
from patrimoine.datastore import query as q
from patrimoine.datastore.engine import layout
from patrimoine.datastore.engine import tables as engine_tables
from patrimoine.datastore.engine.layout import layout_path, memory_bytes
from patrimoine.datastore.models import DatasetVersion
from patrimoine.datastore.query.aggregates import GroupKey, Metric
from patrimoine.inventory.models import Dataset
from patrimoine.web.app import create_app
from tests.factories import (
    CDO,
    EQUIPEMENTS_COLUMNS,
    LIMITS,
    generated_sql,
    ligerac,
    login,
    parquet_version,
    write_parquet,
)

ROWS = 40_000  # about 1 MB of Parquet, 8 MB of layout

# Every kind of query the API answers, as a reader asks it (under versions/1/).
SHAPES = [
    "records?limit=50",
    "records?limit=50&offset=31000",
    "records?limit=50&where=commune:eq:Lyon",
    "records?limit=50&where=commune:eq:Lyon&offset=5000",
    "records?limit=50&where=commune:in:Lyon,%C3%89vry&where=actif:eq:oui",
    "records?limit=50&where=montant:gte:200&sort=signe",
    "records?limit=50&where=nom:contains:ligne%20123",
    "records?limit=50&where=nom:startswith:ligne%209",
    "records?limit=50&where=commune:null:",
    "records?limit=50&sort=-montant",
    "records?limit=50&sort=commune&offset=20000",
    "records?limit=50&sort=commune,-quantite",
    "records?limit=50&q=saint",
    "records?limit=50&q=saint%20ligne&where=actif:eq:true",
    "records?limit=50&bbox=1,43,3,45",
    "records?limit=50&near=44,2,20000",
    "records?limit=50&columns=nom,montant&offset=100",
    "facets?facet=commune&facet=actif&facet=quantite",
    "facets?facet=commune&where=montant:lt:100",
    "aggregate?group_by=commune&metric=sum:montant&metric=count",
    "aggregate?group_by=signe:month&metric=count&metric=count_distinct:quantite",
    "export.csv",
    "export.csv?where=commune:eq:Paris&sort=-maj",
    "export.ndjson?q=evry",
]


def _answers(client: TestClient, slug: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for shape in SHAPES:
        r = client.get(f"/api/v1/datasets/{slug}/versions/1/{shape}")
        assert r.status_code == 200, (shape, r.text)
        out[shape] = r.text if "export" in shape else r.json()
        if shape.startswith("records") and out[shape]["next_cursor"]:
            # The next page too (cursors may differ: a sort read from the layout's sort
            # positions needs no sort values in its cursor).
            cursor = out[shape].pop("next_cursor")
            r = client.get(f"/api/v1/datasets/{slug}/versions/1/{shape}&cursor={cursor}")
            assert r.status_code == 200, (shape, r.text)
            out[shape + " (page 2)"] = {**r.json(), "next_cursor": None}
    return out


def _version(services: Services, slug: str) -> DatasetVersion:
    with services.db.unit_of_work() as s:
        entry = s.query(Dataset).filter_by(slug=slug).one()
        version = parquet_version(services.settings, s, entry, generated_sql(ROWS),
                                  EQUIPEMENTS_COLUMNS)
        s.execute(update(DatasetVersion).where(DatasetVersion.id == version.id)
                  .values(row_count=ROWS))
        return version


def test_a_build_out_of_memory_answers_from_parquet_and_waits_for_its_retry(
        services: Services, db: Database) -> None:
    world = ligerac(db)
    version = _version(services, world.slug)
    # A build limited to 4 MB cannot finish, even spilling to disk.
    small = bootstrap(services.settings.model_copy(update={"layout_memory_limit": "4MB"}),
                      check_schema=False)
    try:
        with TestClient(create_app(services=small)) as client:
            login(client, CDO)
            from_parquet = _answers(client, world.slug)
            _answers(client, world.slug)  # every request again
            state = engine.layout_state(small.settings, version)
            assert not state.ready and state.failure is not None
            # One build for all these requests: the next waits for its backoff.
            assert state.failure.attempts == 1
            assert "mémoire" in state.failure.reason
            assert "PATRIMOINE_LAYOUT_MEMORY_LIMIT = 4MB" in state.failure.reason
            assert state.failure.retry_at - state.failure.failed_at \
                == timedelta(seconds=engine_tables.BUILD_RETRY_S)
            # Staff see it where they follow the dataset's versions.
            page = client.get(f"/admin/inventaire/{world.slug}/publication").text
            assert "Préparation en échec" in page and "PATRIMOINE_LAYOUT_MEMORY_LIMIT" in page
            # Once the backoff has passed, the next request tries again, and waits 4 times
            # longer after a second failure.
            record = layout_path(Path(small.settings.data_dir) / engine.CACHE_DIR,
                                 version.content_hash).with_suffix(".failed.json")
            data = json.loads(record.read_text())
            data["retry_at"] = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
            record.write_text(json.dumps(data))
            assert client.get(f"/api/v1/datasets/{world.slug}/versions/1/records"
                              ).status_code == 200
            again = engine.layout_state(small.settings, version).failure
            assert again is not None and again.attempts == 2
            assert again.retry_at - again.failed_at \
                == timedelta(seconds=4 * engine_tables.BUILD_RETRY_S)
    finally:
        small.db.dispose()

    # Built with the default limit (as `datastore load --build-layout` would, whatever the
    # backoff), the layout answers exactly as the Parquet file did.
    engine.prepare_version(services.settings, version, force=True)
    state = engine.layout_state(services.settings, version)
    assert state.ready and state.failure is None
    with TestClient(create_app(services=services)) as client:
        login(client, CDO)
        from_layout = _answers(client, world.slug)
        assert "Préparation en échec" not in \
            client.get(f"/admin/inventaire/{world.slug}/publication").text
    assert from_layout.keys() == from_parquet.keys()
    for shape, answer in from_layout.items():
        assert answer == from_parquet[shape], shape


def test_a_layout_built_under_a_small_memory_limit_spills_and_answers_alike(
        tmp_path: Path) -> None:
    parquet = write_parquet(tmp_path / "v.parquet", generated_sql(ROWS))
    spilling = replace(LIMITS, layout_memory_limit="24MB", temp_directory=str(tmp_path / "t"))
    laid_out = engine.open_file(parquet, EQUIPEMENTS_COLUMNS, cache_root=tmp_path / "cache",
                                key="spilled", limits=spilling)
    assert laid_out.laid_out and laid_out.search_index and laid_out.row_store is not None
    # The same file whose build fails (no room to spill): read from the Parquet file.
    failing = replace(spilling, layout_memory_limit="16MB", duckdb_temp_space="1MB")
    from_file = engine.open_file(parquet, EQUIPEMENTS_COLUMNS, cache_root=tmp_path / "other",
                                 key="failed", limits=failing)
    assert not from_file.laid_out
    failure = engine_tables._read_failure(layout_path(tmp_path / "other", "failed"))
    assert failure is not None and "PATRIMOINE_DUCKDB_TEMP_SPACE = 1MB" in failure.reason
    # Neither the build nor its failure leaves a file behind in the temporary directory.
    assert not list((tmp_path / "t").iterdir())

    def answers(table: engine.VersionTable) -> list[Any]:
        out: list[Any] = []
        for query, page in [
            (q.Query(), q.Page(limit=30, offset=12_345)),
            (q.Query(search="étienne"), q.Page(limit=30, offset=100)),
            (q.Query(filter=q.build_filter(["commune:eq:Évry"], [], None)),
             q.Page(limit=30, sort=q.parse_sort("-montant,nom"))),
            (q.Query(), q.Page(limit=30, sort=q.parse_sort("maj"), offset=9000)),
        ]:
            page_out = q.records(table, query, page)
            out.append((page_out.rows, page_out.total))
        out.append(q.facets(table, q.Query(), ["commune", "signe"], size=10))
        out.append(q.aggregate(table, q.Query(search="paris"), [GroupKey("signe", "year")],
                               [Metric("avg", "montant"), Metric("count")]))
        return out

    assert answers(laid_out) == answers(from_file)


def test_word_postings_written_a_range_of_words_at_a_time_answer_alike(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A few hundred postings per sorted range (a million rows of 1 GB do 16 million): many
    # ranges, and the frequent words ("ligne", the communes) each written alone.
    monkeypatch.setattr(layout, "POSTINGS_PER_BYTE", 300 / memory_bytes("1GB"))
    parquet = write_parquet(tmp_path / "v.parquet", generated_sql(3000))
    limits = replace(LIMITS, temp_directory=str(tmp_path / "t"))
    laid_out = engine.open_file(parquet, EQUIPEMENTS_COLUMNS, cache_root=tmp_path / "cache",
                                key="ranges", limits=limits)
    assert laid_out.search_index  # its own consistency checks passed
    for term in ("ligne", "lyon", "saint-etienne", "12", "ligne 2999", "evry 30", "nimes"):
        query = q.Query(search=term)
        assert laid_out.term_ranges(term.split()[0]) is not None or term == "ligne"
        found = q.records(laid_out, query, q.Page(limit=1000)).rows
        scan = " AND ".join(["contains(_recherche, ?)"] * len(term.split()))
        expected = laid_out.fetch(f"SELECT _row FROM records WHERE {scan} ORDER BY _row "
                                  "LIMIT 1000", term.split())
        assert [r["_row"] for r in found] == [r[0] for r in expected], term
