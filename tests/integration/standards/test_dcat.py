"""The DCAT-AP catalog: SHACL validation against the official shapes (vendored unmodified),
Hydra paging as data.gouv.fr's harvester follows it, stable URIs, per-dataset documents and
the absence of closed datasets."""

from __future__ import annotations

import filecmp
import warnings
from collections.abc import Iterator
from pathlib import Path

import pyshacl
import pytest
from fastapi.testclient import TestClient
from rdflib import Graph, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCAT, DCTERMS, RDF, SKOS
from sqlalchemy import select

from patrimoine.interop import dcat, public
from patrimoine.inventory import service as inventory
from patrimoine.inventory.models import Dataset
from patrimoine.web.app import create_app
from tests import factories
from tests.factories import DemoTerritory

ROOT = Path(__file__).resolve().parents[3]
VENDORED = ROOT / "tests" / "standards" / "dcat-ap"
SHARED = ROOT.parent / "shared" / "standards" / "dcat-ap"
SHAPES = {
    "3.0.1": ["3.0.1/shapes.ttl", "3.0.1/range.ttl"],
    "2.1.1": ["2.1.1/dcat-ap_2.1.1_shacl_shapes.ttl"],
    "2.1.1-range": ["2.1.1/dcat-ap_2.1.1_shacl_range.ttl"],
}
HYDRA = "http://www.w3.org/ns/hydra/core#"
BASE = "http://testserver"


@pytest.fixture(scope="module")
def territory(standards_territory: DemoTerritory) -> DemoTerritory:
    assert standards_territory.services.settings.public_url == BASE
    return standards_territory


@pytest.fixture(scope="module")
def web(territory: DemoTerritory) -> Iterator[TestClient]:
    with TestClient(create_app(services=territory.services)) as c:
        yield c


def _shapes(release: str) -> Graph:
    g = Graph()
    for name in SHAPES[release]:
        g.parse(VENDORED / name, format="turtle")
    return g


def _violations(data: Graph, release: str) -> list[str]:
    conforms, report, text = pyshacl.validate(data, shacl_graph=_shapes(release),
                                              inference="none", abort_on_first=False)
    sh = "http://www.w3.org/ns/shacl#"
    bad = list(report.subjects(URIRef(sh + "resultSeverity"), URIRef(sh + "Violation")))
    assert conforms or bad, text
    return [text] if bad else []


def _parse(body: bytes, fmt: str) -> Graph:
    with warnings.catch_warnings():
        # rdflib's own JSON-LD parser builds a ConjunctiveGraph internally.
        warnings.filterwarnings("ignore", "ConjunctiveGraph is deprecated", DeprecationWarning)
        return Graph().parse(data=body, format={"ttl": "turtle", "rdf": "xml",
                                                "jsonld": "json-ld"}[fmt])


def _without_paging(g: Graph) -> Graph:
    out = Graph()
    views = set(g.subjects(RDF.type, URIRef(HYDRA + "PartialCollectionView")))
    for triple in g:
        if triple[0] not in views:
            out.add(triple)
    return out


# ------------------------------------------------------------------ vendored shapes


def test_vendored_shapes_are_the_official_files_unmodified() -> None:
    names = [n for files in SHAPES.values() for n in files]
    for name in names:
        assert (VENDORED / name).is_file(), name
    if not SHARED.is_dir():
        pytest.skip("../shared/standards/dcat-ap absent : copie de référence non vérifiable.")
    for name in names:
        assert filecmp.cmp(VENDORED / name, SHARED / name, shallow=False), name


# ------------------------------------------------------------------ SHACL validation


def test_demo_catalog_has_no_violation_of_dcat_ap_3_and_2(territory: DemoTerritory) -> None:
    with territory.services.db.session() as s:
        full = dcat.full_catalog(s, BASE, territory.services.settings)
        total = public.count(s)
    datasets = set(full.subjects(RDF.type, DCAT.Dataset))
    assert len(datasets) == total > 50
    # Every kind of entry is there: with and without distributions, licences, periods...
    assert len(set(full.subjects(RDF.type, DCAT.Distribution))) >= 11
    for cls in (DCTERMS.LicenseDocument, DCTERMS.PeriodOfTime, DCTERMS.Location,
                DCTERMS.Frequency, SKOS.Concept, DCTERMS.MediaType, DCTERMS.MediaTypeOrExtent):
        assert next(full.subjects(RDF.type, cls), None) is not None, cls
    for release in SHAPES:
        assert _violations(full, release) == []


def test_every_serialisation_says_the_same_and_validates(web: TestClient) -> None:
    graphs = {}
    for ext in ("ttl", "rdf", "jsonld"):
        r = web.get(f"/catalog.{ext}", params={"page_size": 30})
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith(dcat.RDF_FORMATS[ext].media_type)
        graphs[ext] = _parse(r.content, ext)
    # Apart from the paging links (which name their own format), the pages are the same.
    assert isomorphic(_without_paging(graphs["ttl"]), _without_paging(graphs["rdf"]))
    assert isomorphic(_without_paging(graphs["ttl"]), _without_paging(graphs["jsonld"]))
    for ext, g in graphs.items():
        assert len(set(g.subjects(RDF.type, DCAT.Dataset))) == 30, ext
        for release in SHAPES:
            assert _violations(g, release) == [], (ext, release)


# ---------------------------------------------------------------------- content


def test_dataset_with_data_is_described_fully(web: TestClient, territory: DemoTerritory) -> None:
    trees = territory.trees
    g = _parse(web.get(f"/datasets/{trees.slug}.ttl").content, "ttl")
    node = URIRef(f"{BASE}/datasets/uid/{trees.uid}#dataset")
    assert (node, RDF.type, DCAT.Dataset) in g
    assert str(g.value(node, DCTERMS.identifier)) == trees.uid
    assert str(g.value(node, DCAT.landingPage)) == f"{BASE}/datasets/{trees.slug}"
    assert g.value(node, DCTERMS.accrualPeriodicity) == URIRef(
        "http://publications.europa.eu/resource/authority/frequency/ANNUAL")
    assert g.value(node, DCTERMS.license) == URIRef(
        "https://www.etalab.gouv.fr/licence-ouverte-open-licence/")
    period = g.value(node, DCTERMS.temporal)
    assert str(g.value(period, DCAT.startDate)) == "2020-01-01"
    assert str(g.value(period, DCAT.endDate)) == "2025-12-31"
    assert str(g.value(g.value(node, DCTERMS.spatial), SKOS.prefLabel)) == "Ligérac"
    assert {str(k) for k in g.objects(node, DCAT.keyword)} == {"arbres", "patrimoine arboré"}
    publisher = g.value(node, DCTERMS.publisher)
    assert g.value(publisher, URIRef("http://xmlns.com/foaf/0.1/name")) is not None
    contact = g.value(node, DCAT.contactPoint)
    assert str(g.value(contact, URIRef("http://www.w3.org/2006/vcard/ns#hasEmail"))).startswith(
        "mailto:")
    themes = {str(t) for t in g.objects(node, DCAT.theme)}
    assert any(t.startswith("http://publications.europa.eu/resource/authority/data-theme/")
               for t in themes) or not trees.theme
    distributions = {str(d).rsplit("#", 1)[1]: d for d in g.objects(node, DCAT.distribution)}
    assert set(distributions) == {"csv", "json", "ndjson", "geojson", "parquet", "xlsx"}
    csv = distributions["csv"]
    assert g.value(csv, DCTERMS.format) == URIRef(
        "http://publications.europa.eu/resource/authority/file-type/CSV")
    assert g.value(csv, DCAT.mediaType) == URIRef(
        "http://www.iana.org/assignments/media-types/text/csv")
    download = str(g.value(csv, DCAT.downloadURL))
    assert download == f"{BASE}/datasets/uid/{trees.uid}/export.csv"
    # The stable download URL leads to the file of the latest version.
    r = web.get(download.removeprefix(BASE), follow_redirects=True)
    assert r.status_code == 200 and "Platane" in r.text
    for release in SHAPES:
        assert _violations(g, release) == []


def test_closed_internal_and_unpublished_datasets_are_absent(web: TestClient,
                                                             territory: DemoTerritory) -> None:
    body = web.get("/catalog.ttl", params={"page_size": 1000}).text
    for hidden in (territory.closed, territory.internal, territory.unpublished):
        assert hidden.uid not in body and hidden.slug not in body
        for path in (f"/datasets/{hidden.slug}.ttl", f"/datasets/uid/{hidden.uid}.jsonld",
                     f"/datasets/uid/{hidden.uid}", f"/datasets/uid/{hidden.uid}/export.csv"):
            assert web.get(path, follow_redirects=False).status_code == 404, path
    assert territory.trees.uid in body


# ------------------------------------------------------------------------- paging


def _walk(web: TestClient, url: str) -> tuple[list[URIRef], int]:
    """Follow the pages the way udata's DCAT harvester does."""
    seen: list[URIRef] = []
    pages = 0
    while url:
        r = web.get(url)
        assert r.status_code == 200, r.text
        g = _parse(r.content, "ttl")
        pages += 1
        seen += list(g.subjects(RDF.type, DCAT.Dataset))
        view = next(g.subjects(RDF.type, URIRef(HYDRA + "PartialCollectionView")))
        assert (view, RDF.type, URIRef(HYDRA + "PagedCollection")) in g
        nxt = g.value(view, URIRef(HYDRA + "next"))
        assert nxt == g.value(view, URIRef(HYDRA + "nextPage"))
        url = str(nxt) if nxt else ""
    return seen, pages


def test_hydra_paging_walks_the_whole_catalog_once(web: TestClient, territory: DemoTerritory
                                                   ) -> None:
    with territory.services.db.session() as s:
        total = public.count(s)
    seen, pages = _walk(web, f"{BASE}/catalog.ttl?page_size=25")
    assert len(seen) == len(set(seen)) == total
    assert pages == -(-total // 25)
    first = _parse(web.get("/catalog.ttl?page=2&page_size=25").content, "ttl")
    view = URIRef(f"{BASE}/catalog.ttl?page=2&page_size=25")
    assert int(first.value(view, URIRef(HYDRA + "totalItems"))) == total
    assert first.value(view, URIRef(HYDRA + "previous")) == URIRef(
        f"{BASE}/catalog.ttl?page=1&page_size=25")
    assert str(first.value(view, URIRef(HYDRA + "last"))).endswith(f"page={pages}&page_size=25")
    # Past the end: an empty page that still points back.
    beyond = _parse(web.get(f"/catalog.ttl?page={pages + 3}&page_size=25").content, "ttl")
    assert not set(beyond.subjects(RDF.type, DCAT.Dataset))
    for bad in ({"page": "0"}, {"page_size": "0"}, {"page_size": "5000"}, {"page": "x"}):
        r = web.get("/catalog.ttl", params=bad)
        assert r.status_code == 422, bad


def test_catalog_by_content_negotiation(web: TestClient) -> None:
    r = web.get("/catalog", headers={"accept": "application/ld+json"}, params={"page_size": 5})
    assert r.headers["content-type"].startswith("application/ld+json")
    assert len(set(_parse(r.content, "jsonld").subjects(RDF.type, DCAT.Dataset))) == 5
    r = web.get("/catalog", headers={"accept": "application/rdf+xml"}, params={"page_size": 5})
    assert r.headers["content-type"].startswith("application/rdf+xml")
    r = web.head("/catalog.ttl")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle")
    # Unchanged documents are not sent again.
    etag = web.get("/catalog.ttl").headers["etag"]
    again = web.get("/catalog.ttl", headers={"if-none-match": etag})
    assert again.status_code == 304 and not again.content
    assert web.get("/catalog.ttl?page_size=7", headers={"if-none-match": etag}).status_code == 200


# -------------------------------------------------------------------- stable URIs


def test_uris_do_not_change_when_title_and_slug_do(web: TestClient, territory: DemoTerritory
                                                   ) -> None:
    budget = territory.budget
    before = _parse(web.get(f"/datasets/uid/{budget.uid}.ttl").content, "ttl")
    node = URIRef(f"{BASE}/datasets/uid/{budget.uid}#dataset")
    assert (node, RDF.type, DCAT.Dataset) in before
    with territory.services.db.unit_of_work() as s:
        entry = s.get(Dataset, budget.id)
        assert entry is not None
        data = inventory.dataset_input(entry).model_copy(update={"title": "Budget voté 2024"})
        inventory.update_dataset(s, factories.SYSTEM, entry, data)
        entry.slug = "budget-vote-2024"
    try:
        after = _parse(web.get("/datasets/budget-vote-2024.ttl").content, "ttl")
        assert set(after.subjects(RDF.type, DCAT.Dataset)) == {node}
        assert str(after.value(node, DCTERMS.title)) == "Budget voté 2024"
        old = {str(d) for d in before.objects(node, DCAT.distribution)}
        assert {str(d) for d in after.objects(node, DCAT.distribution)} == old
        assert {str(after.value(d, DCAT.downloadURL)) for d in after.objects(
            node, DCAT.distribution)} == {str(before.value(d, DCAT.downloadURL))
                                          for d in before.objects(node, DCAT.distribution)}
        assert web.get(f"/datasets/{budget.slug}.ttl").status_code == 404
        # The URI itself leads to the renamed page, or to RDF for RDF clients.
        r = web.get(f"/datasets/uid/{budget.uid}", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/datasets/budget-vote-2024"
        r = web.get(f"/datasets/uid/{budget.uid}", headers={"accept": "text/turtle"},
                    follow_redirects=False)
        assert r.headers["location"] == f"/datasets/uid/{budget.uid}.ttl"
        catalog = web.get("/catalog.ttl", params={"page_size": 1000}).text
        assert f"<{node}>" in catalog and "budget-vote-2024" in catalog
    finally:
        with territory.services.db.unit_of_work() as s:
            entry = s.get(Dataset, budget.id)
            assert entry is not None
            entry.slug, entry.title = budget.slug, budget.title


def test_per_dataset_documents_in_three_formats(web: TestClient, territory: DemoTerritory) -> None:
    trees = territory.trees
    graphs = []
    for path in (f"/datasets/{trees.slug}", f"/datasets/uid/{trees.uid}"):
        for ext in ("ttl", "rdf", "jsonld"):
            r = web.get(f"{path}.{ext}")
            assert r.status_code == 200, (path, ext)
            assert r.headers["access-control-allow-origin"] == "*"
            graphs.append(_parse(r.content, ext))
    assert all(isomorphic(graphs[0], g) for g in graphs[1:])
    org = web.get(f"/organisations/id/{trees.organisation_id}", follow_redirects=False)
    assert org.status_code == 303 and org.headers["location"].startswith("/organisations/")
    assert web.get(f"/datasets/uid/{trees.uid}/export.exe").status_code == 404


def test_publisher_and_catalog(territory: DemoTerritory) -> None:
    with territory.services.db.session() as s:
        page = dcat.catalog_page(s, BASE, "ttl", 1, 10)
        root = public.root_organisation(s)
        names = set(s.scalars(select(Dataset.slug)))
    g = page.graph
    catalog = URIRef(f"{BASE}/catalog")
    assert (catalog, RDF.type, DCAT.Catalog) in g
    assert root is not None and g.value(catalog, DCTERMS.publisher) == URIRef(
        f"{BASE}/organisations/id/{root.id}")
    assert len(list(g.objects(catalog, DCAT.dataset))) == 10
    assert names  # the store holds the demo


def test_themes_map_to_the_eu_vocabulary() -> None:
    assert dcat.eu_themes("Énergie & Climat / Développement durable") == ["ENER", "ENVI"]
    assert dcat.eu_themes("Économie & Société") == ["ECON", "SOCI"]
    assert dcat.eu_themes("Urbanisme - Habitat") == ["REGI"]
    assert dcat.eu_themes("Mobilités") == ["TRAN"]
    assert dcat.eu_themes("Sujet inconnu") == []
    assert dcat.eu_themes(None) == []
