"""The demo's dozen published datasets: generated deterministically, loaded through the real
ingest, published with their metadata, positioned where the data has positions."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from patrimoine.access.principal import Principal
from patrimoine.bootstrap import Services
from patrimoine.datastore import versions
from patrimoine.datastore.models import DatasetVersion
from patrimoine.demo import published
from patrimoine.inventory.models import AccessLevel, Dataset, LifecycleStage
from patrimoine.publication import service as publication

POSITIONED = {"comptages-velo", "parkings-relais-occupation", "arbres-alignement",
              "toilettes-publiques", "bornes-recharge-vehicules-electriques"}
FORMATS = {"comptages-velo": "csv", "consommations-energie-batiments": "xlsx",
           "arbres-alignement": "geojson", "tonnages-collecte-dechets": "json",
           "deliberations-conseil-municipal": "parquet", "prets-bibliotheques": "csv"}


@pytest.mark.demo
def test_a_dozen_published_datasets(services: Services, client: TestClient) -> None:
    slugs = [spec.slug for spec in published.SPECS_PUBLISHED]
    assert len(slugs) == 12 == len(set(slugs))
    with services.db.session() as s:
        system = Principal.system("t")
        for spec in published.SPECS_PUBLISHED:
            dataset = s.scalars(select(Dataset).where(Dataset.slug == spec.slug)).one()
            assert dataset.access_level == AccessLevel.OPEN, spec.slug
            assert dataset.lifecycle_stage == LifecycleStage.PUBLISHED
            assert dataset.licence in ("etalab-2.0", "ODbL-1.0")
            assert dataset.theme and dataset.keywords and len(dataset.description) > 100
            state = publication.status(s, system, dataset)
            assert state.ready and state.public, (spec.slug, state.missing, state.blockers)
            version = versions.latest_version(s, dataset)
            assert version is not None and version.number == 1
            assert 30 <= version.row_count <= 50_000, (spec.slug, version.row_count)
            assert (version.positions is not None) == (spec.slug in POSITIONED), spec.slug
            if spec.slug in FORMATS:
                assert version.source_format == FORMATS[spec.slug], spec.slug
            assert versions.version_path(services.settings, version).is_file()
        subsidies = s.scalars(select(Dataset).where(
            Dataset.slug == "subventions-associations")).one()
        version = versions.latest_version(s, subsidies)
        assert version is not None
        types = {c["source_name"]: c["type"] for c in version.columns}
        assert types["idBeneficiaire"] == "string" and types["montant"] == "number"
        assert types["dateConvention"] == "date"
    # The portal lists them and shows a dataset with its map.
    catalog = client.get("/datasets?tri=nom")
    assert catalog.status_code == 200 and "Comptages vélo quotidiens" in catalog.text
    page = client.get("/datasets/arbres-alignement")
    assert page.status_code == 200 and "ODbL" in page.text
    for slug in slugs:
        shown = client.get(f"/datasets/{slug}")
        assert shown.status_code == 200, slug
        assert ('id="map"' in shown.text) == (slug in POSITIONED), slug
    rows = client.get("/api/v1/datasets/comptages-velo/records?limit=5").json()
    assert rows["total"] == 16 * 731 and len(rows["rows"]) == 5
    # The portal's heaviest pages on the largest table: search, facets, a filtered and sorted
    # page with its chart, the map's points.
    with services.db.session() as s:
        largest = s.scalars(select(DatasetVersion).order_by(
            DatasetVersion.row_count.desc())).first()
        assert largest is not None
        slug, types = largest.dataset.slug, {c["name"]: c["type"] for c in largest.columns}
    when = next(n for n, t in types.items() if t in ("date", "datetime"))
    how_much = next(n for n, t in types.items() if t in ("integer", "number"))
    for url in ("/", "/datasets?q=velo", "/datasets?carte=oui&tri=popularite",
                f"/datasets/{slug}?filtre={how_much}:gt:10&tri=-{how_much}&page=3&type=line"
                f"&x={when}&y={how_much}&agg=avg", f"/datasets/{slug}/points.geojson"):
        assert client.get(url).status_code == 200, url


def test_generation_is_deterministic(tmp_path: Path) -> None:
    for spec in published.SPECS_PUBLISHED:
        first, second = tmp_path / f"a-{spec.filename}", tmp_path / f"b-{spec.filename}"
        spec.write(random.Random(7), first)
        spec.write(random.Random(7), second)
        if spec.filename.endswith(".parquet"):
            assert first.stat().st_size == second.stat().st_size, spec.slug
        else:
            assert first.read_bytes() == second.read_bytes(), spec.slug
