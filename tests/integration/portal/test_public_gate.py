"""The portal, the DCAT catalog and the CKAN API serve only versions that passed the
personal-data gate: an open dataset whose newest version holds personal data shows its
previous clean version, or no data at all."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from rdflib import Graph
from rdflib.namespace import DCAT, DCTERMS

from patrimoine.bootstrap import Services
from patrimoine.datastore.ingest import ingest
from patrimoine.interop import public
from patrimoine.inventory.models import AccessLevel, Dataset, LifecycleStage
from patrimoine.protection import gate
from patrimoine.protection.findings import service as findings
from tests import factories
from tests.factories import persons_csv

CLEAN = "commune,equipement,places\nOrléans,Piscine du Lac,120\nOlivet,Gymnase,80\n"
BROWSER = {"user-agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"}


@dataclass
class Gated:
    both: Dataset  # version 1 clean, version 2 with names and emails
    only_personal: Dataset  # a single version, with personal data


def _load(services: Services, dataset: Dataset, path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    with services.db.unit_of_work() as s:
        entry = s.get(Dataset, dataset.id)
        assert entry is not None
        ingest(s, services.settings, factories.SYSTEM, entry, path)


@pytest.fixture
def gated(services: Services, tmp_path: Path) -> Gated:
    published = {"access_level": AccessLevel.OPEN, "lifecycle_stage": LifecycleStage.PUBLISHED,
                 "licence": "Licence Ouverte 2.0"}
    with services.db.unit_of_work() as s:
        org = factories.organisation(s, "Ville de Test")
        both = factories.dataset(s, org, "Équipements sportifs", **published)
        only = factories.dataset(s, org, "Usagers des piscines", **published)
    _load(services, both, tmp_path / "equipements.csv", CLEAN)
    _load(services, both, tmp_path / "usagers.csv", persons_csv())
    _load(services, only, tmp_path / "inscrits.csv", persons_csv())
    return Gated(both, only)


def test_gate_in_batch_agrees_with_one_by_one(services: Services, gated: Gated) -> None:
    with services.db.unit_of_work() as s:
        datasets = [s.get(Dataset, gated.both.id), s.get(Dataset, gated.only_personal.id)]
        assert all(datasets)
        # Never scanned: nothing readable without settings (the scan needs the files).
        assert gate.newest_readable_versions(s, public.ANONYMOUS, datasets) == {}  # type: ignore[arg-type]
        found = gate.newest_readable_versions(s, public.ANONYMOUS, datasets,  # type: ignore[arg-type]
                                              services.settings)
        assert {d: v.number for d, v in found.items()} == {gated.both.id: 1}
        for d in datasets:
            assert d is not None
            one = gate.readable_versions(s, public.ANONYMOUS, d, services.settings)
            assert [v.number for v in one][:1] == ([found[d.id].number] if d.id in found else [])
            # Only the versions needed were scanned lazily; readable_versions scans them all.
            assert all(findings.scan_of(s, v) is not None for v in one)


def test_portal_page_shows_the_previous_clean_version(client: TestClient, gated: Gated) -> None:
    slug = gated.both.slug
    page = client.get(f"/datasets/{slug}", headers=BROWSER)
    assert page.status_code == 200
    text = page.text
    assert "Piscine du Lac" in text and "exemple.fr" not in text
    assert "version=1" in text and "version=2" not in text
    assert f"/api/v1/datasets/{slug}/versions/2/" not in text
    # The quality score judges what the visitor reads: version 1, free of personal data.
    quality = text[text.index('id="qualite"'):]
    assert "non résolu sur la version 1" in quality and "pour la version 1" in quality
    assert "email" not in quality
    assert client.get(f"/datasets/{slug}/telecharger?format=csv&version=2",
                      follow_redirects=False).status_code == 404
    latest = client.get(f"/datasets/{slug}/telecharger?format=csv", follow_redirects=False)
    assert latest.status_code == 303 and "/versions/1/export.csv" in latest.headers["location"]
    spec = client.get(f"/datasets/{slug}/chart.vl.json?x=commune")
    assert spec.status_code == 200 and "Orléans" in spec.text
    embed = client.get(f"/embed/datasets/{slug}/chart?x=commune")
    assert embed.status_code == 200 and "exemple.fr" not in embed.text
    # The catalog describes the same version (2 rows, not the 40 persons).
    catalog = client.get("/datasets?q=equipements", headers=BROWSER).text
    assert "Équipements sportifs" in catalog


def test_portal_page_without_clean_version_shows_no_data(client: TestClient,
                                                         gated: Gated) -> None:
    slug = gated.only_personal.slug
    page = client.get(f"/datasets/{slug}", headers=BROWSER)
    assert page.status_code == 200
    assert "pas encore publiées" in page.text and "exemple.fr" not in page.text
    assert "telecharger" not in page.text
    for url in (f"/datasets/{slug}/telecharger?format=csv", f"/datasets/{slug}/chart.vl.json",
                f"/embed/datasets/{slug}/chart", f"/datasets/{slug}/points.geojson",
                f"/embed/datasets/{slug}/map"):
        assert client.get(url, follow_redirects=False).status_code == 404, url
    entry = client.get("/datasets?q=piscines&carte=oui", headers=BROWSER).text
    assert "Usagers des piscines" not in entry  # its positions are not public: no map


def test_dcat_distributions_follow_the_gate(client: TestClient, gated: Gated) -> None:
    g = Graph().parse(data=client.get("/catalog.ttl").text, format="turtle")
    described = {str(o) for s in g.subjects(None, DCAT.Distribution)
                 for o in g.objects(s, DCTERMS.description)}
    titles = {str(o) for s in g.subjects(None, DCAT.Distribution)
              for o in g.objects(s, DCTERMS.title)}
    assert any(t.startswith("Équipements sportifs") for t in titles)
    assert not any(t.startswith("Usagers des piscines") for t in titles)
    assert all("n° 2" not in d for d in described) and any("n° 1" in d for d in described)
    doc = Graph().parse(data=client.get(f"/datasets/{gated.both.slug}.ttl").text,
                        format="turtle")
    assert {str(o) for o in doc.objects(None, DCTERMS.description)
            if "Dernière version" in str(o)} and all(
        "n° 2" not in str(o) for o in doc.objects(None, DCTERMS.description))
    # No version the public may read: not exported at all (docs/interoperability.md).
    assert client.get(f"/datasets/{gated.only_personal.slug}.ttl").status_code == 404
    assert gated.only_personal.uid not in client.get("/catalog.ttl").text


def _ckan(client: TestClient, action: str, **params: object) -> dict:  # type: ignore[type-arg]
    r = client.get(f"/api/3/action/{action}", params=params)  # type: ignore[arg-type]
    return r.json()  # type: ignore[no-any-return]


def test_ckan_package_resource_and_datastore_follow_the_gate(client: TestClient,
                                                             gated: Gated) -> None:
    package = _ckan(client, "package_show", id=gated.both.slug)["result"]
    assert package["version"] == "1" and package["resources"]
    resource = package["resources"][0]
    assert "n° 1" in resource["description"]
    shown = _ckan(client, "resource_show", id=resource["id"])["result"]
    assert "n° 1" in shown["description"]
    rows = _ckan(client, "datastore_search", resource_id=resource["id"])["result"]
    assert rows["total"] == 2 and "email" not in {f["id"] for f in rows["fields"]}
    assert {r["commune"] for r in rows["records"]} == {"Orléans", "Olivet"}

    closed = _ckan(client, "package_show", id=gated.only_personal.slug)
    assert closed["success"] is False and closed["error"]["__type"] == "Not Found Error"
    hidden = public.resource_uuid(gated.only_personal, "csv")
    for action, key in (("resource_show", "id"), ("datastore_search", "resource_id")):
        answer = _ckan(client, action, **{key: hidden})
        assert answer["success"] is False and answer["error"]["__type"] == "Not Found Error"
