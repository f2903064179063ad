"""Sobriety figures: volumes with caches and archives, datasets nobody read for a year,
identical contents and near-identical titles."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import update

from patrimoine.access import audit
from patrimoine.bootstrap import Services
from patrimoine.charter import sobriety
from patrimoine.datastore.engine import prepare_version
from patrimoine.datastore.models import DatasetVersion
from patrimoine.inventory.models import Dataset
from patrimoine.usage.models import DatasetDailyUsage
from tests import factories as f
from tests.factories import SYSTEM, load, retention_world, subscribers_csv, write


def _compute(services: Services, today: date | None = None) -> sobriety.Sobriety:
    with services.db.session() as s:
        return sobriety.compute(s, services.settings, today=today)


def test_volumes_count_versions_and_caches(services: Services, tmp_path: Path) -> None:
    w = retention_world(services)
    version = load(services, w.dataset, write(tmp_path, "donnees.csv", subscribers_csv()))
    [v] = _compute(services).volumes
    # The Parquet file and the original it was loaded from.
    assert version.source_size == (tmp_path / "donnees.csv").stat().st_size
    assert v.versions == 1 and v.datasets == 1
    assert v.versions_bytes == version.size_bytes + version.source_size
    prepare_version(services.settings, version)  # builds the DuckDB layout (a cache)
    [v] = _compute(services).volumes
    assert v.cache_bytes > 0 and v.total_bytes == v.versions_bytes + v.cache_bytes


def test_unread_for_a_year(services: Services, tmp_path: Path) -> None:
    w = retention_world(services)
    load(services, w.dataset, write(tmp_path, "donnees.csv", subscribers_csv()))
    with services.db.unit_of_work() as s:
        org = f.organisation(s)
        read_on_portal = f.dataset(s, org, "Horaires des piscines")
        read_in_api = f.dataset(s, org, "Menus des cantines")
        s.flush()
        ids = (read_on_portal.id, read_in_api.id)
        slug_api = read_in_api.slug
    load(services, Dataset(id=ids[0]), write(tmp_path, "p.csv", "jour,ouverture\nlundi,9\n"))
    load(services, Dataset(id=ids[1]), write(tmp_path, "m.csv", "jour,menu\nlundi,frites\n"))
    today = date.today()
    two_years_ago = datetime.now(UTC) - timedelta(days=730)
    with services.db.unit_of_work() as s:
        s.execute(update(DatasetVersion).values(created_at=two_years_ago))
        s.add(DatasetDailyUsage(dataset_id=ids[0], day=today - timedelta(days=20), views=3,
                                downloads=0))
        s.add(DatasetDailyUsage(dataset_id=w.dataset.id, day=today - timedelta(days=500),
                                views=1, downloads=0))
        audit.record(s, SYSTEM, "datastore.read", f"dataset:{slug_api}", {})
    unread = _compute(services, today).unread
    assert [u["dataset"] for u in unread] == [w.dataset.slug]
    assert unread[0]["last_read"] == (today - timedelta(days=500)).isoformat()


def test_duplicates(services: Services, tmp_path: Path) -> None:
    w = retention_world(services)
    text = subscribers_csv()
    load(services, w.dataset, write(tmp_path, "donnees.csv", text))
    with services.db.unit_of_work() as s:
        org = f.organisation(s)
        copy = f.dataset(s, org, "Copie des abonnés")
        f.dataset(s, org, "Abonnés : médiathèque (la)")  # same words, other order
        f.dataset(s, org, "Budget primitif 2024 par chapitre")
        f.dataset(s, org, "Budget primitif 2025 par chapitre")  # one word apart
        f.dataset(s, org, "Arbres")
        s.flush()
        copy_id = copy.id
    load(services, Dataset(id=copy_id), write(tmp_path, "copie.csv", text))
    figures = _compute(services)
    [group] = figures.same_content
    assert {d["title"] for d in group["datasets"]} == {w.dataset.title, "Copie des abonnés"}
    pairs = {(p["a"]["title"], p["b"]["title"], p["same_words"])
             for p in figures.similar_titles}
    assert pairs == {
        ("Abonnés de la médiathèque", "Abonnés : médiathèque (la)", True),
        ("Budget primitif 2024 par chapitre", "Budget primitif 2025 par chapitre", False),
    }
