"""HEAD is answered wherever GET is (link checkers, harvesters): same status and headers,
no body, a streamed export stopped at once, and no visit counted."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from patrimoine.bootstrap import Services
from patrimoine.core.db import Database
from patrimoine.core.settings import Settings
from patrimoine.usage.models import DatasetDailyUsage
from tests import factories as f
from tests.factories import generated_sql, portal_world

BASE = "/api/v1/datasets"
BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"}
SAME = ("content-type", "content-length", "etag", "last-modified", "cache-control")


def test_head_gives_the_headers_of_get_without_the_body(
    client: TestClient, services: Services, tmp_path: Path
) -> None:
    world = portal_world(services, tmp_path)
    for path in ("/", "/datasets", f"/datasets/{world.counters.slug}", "/datasets.atom",
                 "/sitemap.xml", "/robots.txt", "/api/v1/openapi.json",
                 f"{BASE}/{world.counters.slug}/records?limit=2",
                 f"/datasets/{world.counters.slug}/introuvable"):
        # GET first: it counts the visit the page then shows, which HEAD does not count.
        get = client.get(path, headers=BROWSER)
        head = client.head(path, headers=BROWSER)
        assert head.status_code == get.status_code, path
        assert head.content == b"", path
        for name in SAME:
            assert head.headers.get(name) == get.headers.get(name), (path, name)
    # Only GET routes: a form handler still refuses HEAD as it refuses GET.
    assert client.head("/deconnexion").status_code == client.get("/deconnexion").status_code


def test_head_counts_no_visit_and_no_download(client: TestClient, services: Services,
                                              tmp_path: Path) -> None:
    world = portal_world(services, tmp_path)
    for _ in range(3):
        assert client.head(f"/datasets/{world.counters.slug}", headers=BROWSER).status_code == 200
        client.head(f"/datasets/{world.counters.slug}/telecharger?format=csv", headers=BROWSER)
    services.usage.flush(services.db)
    with services.db.session() as s:
        assert s.scalars(select(DatasetDailyUsage)).all() == []
    client.get(f"/datasets/{world.counters.slug}", headers=BROWSER)
    services.usage.flush(services.db)
    with services.db.session() as s:
        assert [u.views for u in s.scalars(select(DatasetDailyUsage))] == [1]


def test_head_on_an_export_stops_the_stream(client: TestClient, db: Database,
                                            settings: Settings) -> None:
    with db.unit_of_work() as s:
        dataset = f.dataset(s, f.organisation(s), "Export long", **f.PUBLIC)
        f.parquet_version(settings, s, dataset, generated_sql(200_000))
        slug = dataset.slug
    url = f"{BASE}/{slug}/export.csv"
    head = client.head(url)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"].startswith("text/csv") and head.headers["etag"]
    # The whole-version CSV is kept only once it was written to the end: the HEAD stopped it.
    assert not list((settings.data_dir / "cache" / "duckdb").glob("*.export-*-csv.duckdb"))
    full = client.get(url)
    assert full.headers["etag"] == head.headers["etag"]
    assert len(full.text.splitlines()) == 200_001
    assert list((settings.data_dir / "cache" / "duckdb").glob("*.export-*-csv.duckdb"))
