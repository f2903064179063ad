"""What keeps many visitors at once from collapsing the server: a page view writes nothing
(usage counters are added up in memory and flushed in batches), and requests take a turn on
the database before a connection, so the pool is never exhausted by requests waiting for a
thread (with 15 connections for 40 threads, 50 visitors waited 30 s and got HTTP 500)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event, select

from patrimoine.bootstrap import Services, bootstrap
from patrimoine.core.settings import Settings
from patrimoine.usage.models import DatasetDailyUsage
from patrimoine.web.app import create_app
from tests.factories import portal_world

BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"}
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def _counts(services: Services) -> list[tuple[int, int, int]]:
    with services.db.session() as s:
        return [(u.dataset_id, u.views, u.downloads)
                for u in s.scalars(select(DatasetDailyUsage))]


def test_page_views_write_nothing_until_the_counters_are_flushed(
        services: Services, tmp_path: Path) -> None:
    world = portal_world(services, tmp_path)
    slug = world.counters.slug
    written: list[str] = []

    def spy(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith(WRITES):
            written.append(statement)

    with TestClient(create_app(services=services)) as client:
        # The first read of a version never scanned for personal data scans it (once).
        client.get(f"/datasets/{slug}?page=1", headers=BROWSER)
        event.listen(services.db.engine, "before_cursor_execute", spy)
        try:
            for _ in range(5):
                assert client.get(f"/datasets/{slug}", headers=BROWSER).status_code == 200
            for _ in range(2):
                client.get(f"/datasets/{slug}/telecharger?format=csv", headers=BROWSER,
                           follow_redirects=False)
        finally:
            event.remove(services.db.engine, "before_cursor_execute", spy)
        assert written == []
        # The page shows what was counted, written or not.
        assert "6 consultations" in client.get(f"/datasets/{slug}", headers=BROWSER).text
        assert services.usage.flush(services.db) == 1
        assert _counts(services) == [(world.counters.id, 6, 2)]
        assert services.usage.flush(services.db) == 0  # nothing counted twice
        client.get(f"/datasets/{slug}", headers=BROWSER)
    # Stopping the application writes what is left.
    assert _counts(services) == [(world.counters.id, 7, 2)]


def test_a_flush_that_fails_keeps_its_counts(services: Services, tmp_path: Path) -> None:
    world = portal_world(services, tmp_path)
    services.usage.view(world.counters.id)
    broken = bootstrap(Settings(data_dir=tmp_path / "elsewhere",
                                database_url=f"sqlite:///{tmp_path}/absent/x.sqlite3"),
                       check_schema=False)
    try:
        services.usage.flush(broken.db)
    except Exception:  # noqa: BLE001 - the database cannot be opened: the counts wait
        pass
    else:
        raise AssertionError("the flush should have failed")
    assert services.usage.flush(services.db) == 1
    assert _counts(services) == [(world.counters.id, 1, 0)]


def test_many_requests_at_once_never_exhaust_the_pool(settings: Settings,
                                                      tmp_path: Path) -> None:
    settings.db_connections = 2
    services = bootstrap(settings, check_schema=False)
    world = portal_world(services, tmp_path)
    pool = services.db.engine.pool
    busiest = 0

    def checkout(*_args: Any) -> None:
        nonlocal busiest
        busiest = max(busiest, pool.checkedout())  # type: ignore[attr-defined]

    event.listen(pool, "checkout", checkout)
    paths = [f"/datasets/{world.counters.slug}", "/datasets", "/",
             f"/api/v1/datasets/{world.counters.slug}/versions/1/records?limit=5",
             "/api/3/action/package_search?q=velo"] * 8
    try:
        with TestClient(create_app(services=services)) as client, \
                ThreadPoolExecutor(max_workers=len(paths)) as visitors:
            statuses = list(visitors.map(lambda p: client.get(p, headers=BROWSER).status_code,
                                         paths))
    finally:
        services.db.dispose()
    assert statuses == [200] * len(paths)
    # Two requests at a time on the database, plus the counters' flush at shutdown.
    assert busiest <= settings.db_connections + 1
