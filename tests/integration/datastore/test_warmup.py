"""Query layouts are built in the background: at start-up for the versions already there,
and right after a version is created through the web, without any query asking for them."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from patrimoine.access import service as accounts
from patrimoine.access.models import Account
from patrimoine.bootstrap import Services, bootstrap
from patrimoine.core.settings import Settings
from patrimoine.datastore import versions
from patrimoine.datastore.engine import CACHE_DIR
from patrimoine.datastore.ingest import ingest
from patrimoine.datastore.models import DatasetVersion
from patrimoine.inventory import service as inventory
from patrimoine.inventory.models import Dataset
from patrimoine.protection.findings import service as findings
from patrimoine.web.app import create_app
from patrimoine.web.layout_warmer import LayoutWarmer, startup_versions
from tests import factories
from tests.factories import LIGERAC_COUNTERS_CSV, REFERENT, SYSTEM, ligerac, persons_csv

CSV = "commune;places\nOrléans;120\nOlivet;80\nSaran;45\n"


@pytest.fixture
def warm_services(settings: Settings) -> Iterator[Services]:
    svc = bootstrap(settings.model_copy(update={"warm_layouts": True}))
    yield svc
    svc.db.dispose()


def _dataset(svc: Services, title: str = "Équipements") -> int:
    with svc.db.unit_of_work() as s:
        return factories.dataset(s, factories.organisation(s, title), title=title).id


def _load(svc: Services, tmp_path: Path, text: str, name: str = "donnees.csv",
          dataset_id: int | None = None) -> DatasetVersion:
    dataset_id = dataset_id or _dataset(svc)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with svc.db.unit_of_work() as s:
        entry = s.get(Dataset, dataset_id)
        assert entry is not None
        return ingest(s, svc.settings, SYSTEM, entry, path)


def _layouts(svc: Services, version: DatasetVersion) -> list[Path]:
    root = svc.settings.data_dir / CACHE_DIR
    return sorted(root.glob(f"{version.content_hash}*.duckdb")) if root.is_dir() else []


def test_start_up_builds_the_newest_layout_without_a_request(
        warm_services: Services, tmp_path: Path) -> None:
    version = _load(warm_services, tmp_path, CSV)
    assert _layouts(warm_services, version) == []
    app = create_app(services=warm_services)
    with TestClient(app):
        warmer: LayoutWarmer = app.state.layout_warmer
        assert warmer.wait_built(version.id, 60), "no layout was built in the background"
        assert _layouts(warm_services, version)
        assert warmer.wait_idle(60)
        assert warmer.prepared == [version.id]


def test_start_up_order_newest_data_first_and_the_public_version(
        warm_services: Services, tmp_path: Path) -> None:
    closed = _load(warm_services, tmp_path, CSV)
    opened = _dataset(warm_services, "Fréquentation")
    clean = _load(warm_services, tmp_path, CSV + "Ingré;30\n", "propre.csv", opened)
    persons = _load(warm_services, tmp_path, persons_csv(), "personnes.csv", opened)
    with warm_services.db.unit_of_work() as s:
        entry = s.get(Dataset, opened)
        assert entry is not None
        data = inventory.dataset_input(entry).model_copy(update=factories.PUBLIC)
        inventory.update_dataset(s, SYSTEM, entry, data)
        findings.ensure_scanned(s, warm_services.settings, s.get(DatasetVersion, clean.id))
    with warm_services.db.session() as s:
        # The open dataset's newest version waits for the gate (never scanned): the public
        # reads the clean one, prepared as well; the closed dataset's data is older.
        assert startup_versions(s) == [persons.id, clean.id, closed.id]


def test_switched_off_nothing_is_built(services: Services, tmp_path: Path) -> None:
    assert Settings.model_fields["warm_layouts"].default is True
    off = services.settings.model_copy(update={"warm_layouts": False})
    version = _load(services, tmp_path, CSV)
    app = create_app(services=Services(off, services.db))
    with TestClient(app):
        assert app.state.layout_warmer._thread is None
    assert _layouts(services, version) == []


def test_a_version_uploaded_through_the_api_is_built_in_the_background(
        warm_services: Services) -> None:
    world = ligerac(warm_services.db)
    with warm_services.db.unit_of_work() as s:
        account = s.scalars(select(Account).where(Account.email == REFERENT)).one()
        _row, secret = accounts.create_api_token(s, account, "tests")
    app = create_app(services=warm_services)
    with TestClient(app) as client:
        r = client.post(f"/api/v1/datasets/{world.slug}/versions",
                        headers={"Authorization": f"Bearer {secret}"},
                        files={"file": ("comptages.csv", LIGERAC_COUNTERS_CSV.encode("cp1252"),
                                        "text/csv")},
                        data={"overrides": json.dumps({"types": {"passages": "number"}})})
        assert r.status_code == 201, r.text
        with warm_services.db.session() as s:
            version = s.scalars(select(DatasetVersion)).one()
        assert app.state.layout_warmer.wait_built(version.id, 60), \
            "no layout was built in the background"
        assert _layouts(warm_services, version)
        assert app.state.layout_warmer.wait_idle(60)
        assert app.state.layout_warmer.prepared == [version.id]


def test_a_failed_build_is_logged_and_the_server_goes_on(
        warm_services: Services, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    version = _load(warm_services, tmp_path, CSV)
    versions.version_path(warm_services.settings, version).unlink()  # its file is gone
    app = create_app(services=warm_services)
    with caplog.at_level(logging.ERROR, logger="patrimoine.web.layout_warmer"), \
            TestClient(app) as client:
        assert app.state.layout_warmer.wait_idle(60)
        assert client.get("/api/v1/openapi.json").status_code == 200
    assert app.state.layout_warmer.prepared == []
    assert any(f"version {version.id}" in r.getMessage() for r in caplog.records)


def test_a_version_loaded_outside_the_server_is_built_by_the_next_rescan(
        warm_services: Services, tmp_path: Path, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(LayoutWarmer, "RESCAN_S", 0.2)
    broken = _load(warm_services, tmp_path, CSV + "Cléry;12\n", "casse.csv")
    versions.version_path(warm_services.settings, broken).unlink()
    app = create_app(services=warm_services)
    with caplog.at_level(logging.ERROR, logger="patrimoine.web.layout_warmer"), TestClient(app):
        warmer: LayoutWarmer = app.state.layout_warmer
        assert warmer.wait_idle(60)
        # As `patrimoine datastore load` does, in its own transaction, while the server runs.
        version = _load(warm_services, tmp_path, CSV)
        assert warmer.wait_built(version.id, 60), "no layout was built by the rescan"
        assert _layouts(warm_services, version)
        time.sleep(0.5)  # more rescans: the failed version is not tried again
    assert warmer.prepared == [version.id]
    assert sum(f"version {broken.id}" in r.getMessage() for r in caplog.records) == 1
