"""The DCAT-AP catalog: SHACL validation against the official shapes (vendored unmodified:
base, range and recommended), Hydra paging as data.gouv.fr's harvester follows it, stable URIs,
per-dataset documents, the absence of closed datasets and of datasets without data, and what
data.gouv.fr's harvester reads: sizes and checksums of the served bytes, declared schemas,
spatial coverage with a geometry, media types and formats from the vocabularies, errors in
RDF. (udata's own harvester runs against a live instance in tests/interop.)"""

from __future__ import annotations

import filecmp
import hashlib
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pyshacl
import pytest
from fastapi.testclient import TestClient
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCAT, DCTERMS, RDF, SKOS
from sqlalchemy import select

from patrimoine.interop import dcat, geography, public
from patrimoine.inventory import service as inventory
from patrimoine.inventory.models import Dataset
from patrimoine.standards import validation
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
RECOMMENDED = "3.0.1/shapes_recommended.ttl"
# The only departures from the shapes, on purpose (results: (property, constraint) -> per
# distribution). DCAT-AP 3 wants `spdx:checksumValue` typed xsd:hexBinary, but data.gouv.fr's
# harvester (udata) then reads bytes and refuses the whole dataset: the value is a plain
# literal, as udata writes it. DCAT-AP 2.1.1 also wants byteSize as xsd:decimal (3.0:
# xsd:nonNegativeInteger) and only sha1 checksums.
ACCEPTED = {
    "3.0.1": {("checksumValue", "DatatypeConstraintComponent")},
    "2.1.1": {("checksumValue", "DatatypeConstraintComponent"),
              ("byteSize", "DatatypeConstraintComponent"),
              ("algorithm", "HasValueConstraintComponent")},
    "2.1.1-range": set(),
}
SH = "http://www.w3.org/ns/shacl#"
SPDX = "http://spdx.org/rdf/terms#"
EU_FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
IANA = "https://www.iana.org/assignments/media-types/"
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


def _shapes(*names: str) -> Graph:
    g = Graph()
    for name in names:
        g.parse(VENDORED / name, format="turtle")
    return g


def _results(data: Graph, *names: str) -> Counter[tuple[str, str, str]]:
    """(severity, property, constraint) -> how many results the shapes give."""
    _, report, _ = pyshacl.validate(data, shacl_graph=_shapes(*names), inference="none",
                                    abort_on_first=False)
    found: Counter[tuple[str, str, str]] = Counter()
    for result in report.subjects(URIRef(SH + "resultSeverity"), None):
        found[tuple(str(report.value(result, URIRef(SH + p))).rsplit("#", 1)[-1]
                    .rsplit("/", 1)[-1]
                    for p in ("resultSeverity", "resultPath", "sourceConstraintComponent"))
              ] += 1
    return found


def _violations(data: Graph, release: str) -> list[tuple[str, str, str]]:
    """Violations other than the accepted ones, each of which is one per distribution."""
    distributions = len(set(data.subjects(RDF.type, DCAT.Distribution)))
    out = []
    for (severity, path, constraint), n in _results(data, *SHAPES[release]).items():
        if severity != "Violation":
            continue
        if (path, constraint) not in ACCEPTED[release] or n != distributions:
            out.append((path, constraint, str(n)))
    return out


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
    names = [n for files in SHAPES.values() for n in files] + [RECOMMENDED]
    for name in names:
        assert (VENDORED / name).is_file(), name
    if not SHARED.is_dir():
        pytest.skip("../shared/standards/dcat-ap absent : copie de référence non vérifiable.")
    for name in names:
        assert filecmp.cmp(VENDORED / name, SHARED / name, shallow=False), name


# ------------------------------------------------------------------ SHACL validation


@pytest.fixture(scope="module")
def full(territory: DemoTerritory) -> Graph:
    with territory.services.db.session() as s:
        return dcat.full_catalog(s, BASE, territory.services.settings)


def test_demo_catalog_has_no_violation_of_dcat_ap_3_and_2(full: Graph,
                                                         territory: DemoTerritory) -> None:
    with territory.services.db.session() as s:
        total = public.count(s, territory.services.settings)
    datasets = set(full.subjects(RDF.type, DCAT.Dataset))
    assert len(datasets) == total >= 2
    # Every kind of node is there: licences, periods, places, checksums...
    assert len(set(full.subjects(RDF.type, DCAT.Distribution))) >= 11
    for cls in (DCTERMS.LicenseDocument, DCTERMS.PeriodOfTime, DCTERMS.Location,
                DCTERMS.Frequency, SKOS.Concept, DCTERMS.MediaType, DCTERMS.MediaTypeOrExtent,
                URIRef(SPDX + "Checksum")):
        assert next(full.subjects(RDF.type, cls), None) is not None, cls
    for release in SHAPES:
        assert _violations(full, release) == [], release


def test_recommended_properties_are_filled_where_the_data_exists(
        full: Graph, territory: DemoTerritory) -> None:
    """The recommended-level report of DCAT-AP 3.0.1, counted: what is left is what the data
    lacks (no period of time given, NDJSON in no format vocabulary), nothing else."""
    found = _results(full, RECOMMENDED)
    with territory.services.db.session() as s:
        entries = public.everything(s, territory.services.settings)
    expected: Counter[tuple[str, str, str]] = Counter()
    for e in entries:
        d = e.dataset
        if not (d.temporal_start or d.temporal_end):
            expected[("Warning", "temporal", "MinCountConstraintComponent")] += 1
        elif not d.temporal_end:
            expected[("Warning", "endDate", "MinCountConstraintComponent")] += 1
        elif not d.temporal_start:
            expected[("Warning", "startDate", "MinCountConstraintComponent")] += 1
        if not [k for k in d.keywords or [] if k.strip()]:
            expected[("Warning", "keyword", "MinCountConstraintComponent")] += 1
        if "ndjson" in e.formats:
            expected[("Warning", "format", "MinCountConstraintComponent")] += 1
    assert found == expected
    # Before: 489 warnings on the demo (a distribution, bbox, centroid, spatial missing...).
    assert sum(found.values()) <= 2 * len(entries)


def test_every_serialisation_says_the_same_and_validates(web: TestClient) -> None:
    graphs = {}
    for ext in ("ttl", "rdf", "jsonld"):
        r = web.get(f"/catalog.{ext}", params={"page_size": 1})
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith(dcat.RDF_FORMATS[ext].media_type)
        graphs[ext] = _parse(r.content, ext)
    # Apart from the paging links (which name their own format), the pages are the same.
    assert isomorphic(_without_paging(graphs["ttl"]), _without_paging(graphs["rdf"]))
    assert isomorphic(_without_paging(graphs["ttl"]), _without_paging(graphs["jsonld"]))
    for ext, g in graphs.items():
        assert len(set(g.subjects(RDF.type, DCAT.Dataset))) == 1, ext
        for release in SHAPES:
            assert _violations(g, release) == [], (ext, release)


# ---------------------------------------------------------------------- content


def test_dataset_with_data_is_described_fully(web: TestClient, territory: DemoTerritory) -> None:
    trees = territory.trees
    g = _parse(web.get(f"/datasets/{trees.slug}.ttl").content, "ttl")
    node = URIRef(f"{BASE}/datasets/uid/{trees.uid}#dataset")
    assert (node, RDF.type, DCAT.Dataset) in g
    # The id the CKAN API gives the same dataset: switching harvester duplicates nothing.
    assert str(g.value(node, DCTERMS.identifier)) == public.dataset_uuid(trees)
    assert web.get("/api/3/action/package_show", params={"id": trees.slug}).json()[
        "result"]["id"] == public.dataset_uuid(trees)
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
    assert g.value(csv, DCAT.mediaType) == URIRef(IANA + "text/csv")
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
        total = public.count(s, territory.services.settings)
    seen, pages = _walk(web, f"{BASE}/catalog.ttl?page_size=1")
    assert len(seen) == len(set(seen)) == total
    assert pages == total >= 2
    first = _parse(web.get("/catalog.ttl?page=2&page_size=1").content, "ttl")
    view = URIRef(f"{BASE}/catalog.ttl?page=2&page_size=1")
    assert int(first.value(view, URIRef(HYDRA + "totalItems"))) == total
    assert first.value(view, URIRef(HYDRA + "previous")) == URIRef(
        f"{BASE}/catalog.ttl?page=1&page_size=1")
    assert str(first.value(view, URIRef(HYDRA + "last"))).endswith(f"page={pages}&page_size=1")
    # Past the end: an empty page that still points back.
    beyond = _parse(web.get(f"/catalog.ttl?page={pages + 3}&page_size=1").content, "ttl")
    assert not set(beyond.subjects(RDF.type, DCAT.Dataset))
    for bad in ({"page": "0"}, {"page_size": "0"}, {"page_size": "5000"}, {"page": "x"}):
        r = web.get("/catalog.ttl", params=bad)
        assert r.status_code == 422, bad


def test_catalog_by_content_negotiation(web: TestClient) -> None:
    r = web.get("/catalog", headers={"accept": "application/ld+json"}, params={"page_size": 1})
    assert r.headers["content-type"].startswith("application/ld+json")
    assert len(set(_parse(r.content, "jsonld").subjects(RDF.type, DCAT.Dataset))) == 1
    r = web.get("/catalog", headers={"accept": "application/rdf+xml"}, params={"page_size": 5})
    assert r.headers["content-type"].startswith("application/rdf+xml")
    r = web.head("/catalog.ttl")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle")
    # Unchanged documents are not sent again.
    etag = web.get("/catalog.ttl").headers["etag"]
    again = web.get("/catalog.ttl", headers={"if-none-match": etag})
    assert again.status_code == 304 and not again.content
    assert web.get("/catalog.ttl?page_size=1", headers={"if-none-match": etag}).status_code == 200


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
        page = dcat.catalog_page(s, BASE, "ttl", 1, 1)
        root = public.root_organisation(s)
        names = set(s.scalars(select(Dataset.slug)))
    g = page.graph
    catalog = URIRef(f"{BASE}/catalog")
    assert (catalog, RDF.type, DCAT.Catalog) in g
    assert root is not None and g.value(catalog, DCTERMS.publisher) == URIRef(
        f"{BASE}/organisations/id/{root.id}")
    assert len(list(g.objects(catalog, DCAT.dataset))) == 1
    # The catalog covers the root organisation's territory (its SIREN, in the vendored table).
    assert root.siren and geography.by_siren(root.siren) is not None
    place = g.value(catalog, DCTERMS.spatial)
    assert g.value(place, DCAT.bbox) == Literal(geography.by_siren(root.siren).wkt(),
                                                datatype=dcat.GSP.wktLiteral)
    assert names  # the store holds the demo


def test_themes_map_to_the_eu_vocabulary() -> None:
    assert dcat.eu_themes("Énergie & Climat / Développement durable") == ["ENER", "ENVI"]
    assert dcat.eu_themes("Économie & Société") == ["ECON", "SOCI"]
    assert dcat.eu_themes("Urbanisme - Habitat") == ["REGI"]
    assert dcat.eu_themes("Mobilités") == ["TRAN"]
    assert dcat.eu_themes("Sujet inconnu") == []
    assert dcat.eu_themes(None) == []


# ------------------------------------------------ what data.gouv.fr's harvester reads


def _distributions(g: Graph, d: Dataset) -> dict[str, URIRef]:
    node = URIRef(f"{BASE}/datasets/uid/{d.uid}#dataset")
    return {str(x).rsplit("#", 1)[1]: x for x in g.objects(node, DCAT.distribution)}


def test_every_distribution_gives_size_and_sha256_of_the_served_bytes(
        web: TestClient, territory: DemoTerritory) -> None:
    for d in (territory.trees, territory.budget):
        g = _parse(web.get(f"/datasets/uid/{d.uid}.ttl").content, "ttl")
        found = _distributions(g, d)
        assert len(found) >= 5
        for fmt, node in found.items():
            body = web.get(str(g.value(node, DCAT.downloadURL)).removeprefix(BASE)).content
            size = g.value(node, DCAT.byteSize)
            assert size.datatype == URIRef("http://www.w3.org/2001/XMLSchema#nonNegativeInteger")
            assert int(size) == len(body), (d.slug, fmt)
            checksum = g.value(node, URIRef(SPDX + "checksum"))
            assert g.value(checksum, URIRef(SPDX + "algorithm")) == URIRef(
                SPDX + "checksumAlgorithm_sha256")
            assert str(g.value(checksum, URIRef(SPDX + "checksumValue"))) == \
                hashlib.sha256(body).hexdigest(), (d.slug, fmt)


def test_formats_and_media_types_come_from_their_vocabularies(full: Graph) -> None:
    distributions = set(full.subjects(RDF.type, DCAT.Distribution))
    ndjson = {x for x in distributions if str(x).endswith("#ndjson")}
    assert ndjson
    for x in distributions:
        formats = list(full.objects(x, DCTERMS.format))
        media = list(full.objects(x, DCAT.mediaType))
        if x in ndjson:  # in neither vocabulary: said by the title and the file name only
            assert formats == media == [], x
            continue
        assert len(formats) == len(media) == 1, x
        assert str(formats[0]).startswith(EU_FILE_TYPE), x
        # The https form data.gouv.fr's harvester maps to a media type.
        assert str(media[0]).startswith(IANA), x


def test_declared_schemas_are_conforms_to(web: TestClient, territory: DemoTerritory) -> None:
    trees, budget = territory.trees, territory.budget
    with territory.services.db.unit_of_work() as s:
        validation.declare_schema(s, factories.SYSTEM, s.get(Dataset, trees.id),
                                  name="arbres-urbains")
        validation.declare_schema(s, factories.SYSTEM, s.get(Dataset, budget.id),
                                  descriptor={"fields": [{"name": "annee", "type": "integer"}]})
    try:
        shipped = "https://raw.githubusercontent.com/NaturalSolutions/schema-arbre/v0.2.2/" \
                  "schema.json"
        local = f"{BASE}/datasets/uid/{budget.uid}/schema.json"
        for d, url in ((trees, shipped), (budget, local)):
            g = _parse(web.get(f"/datasets/uid/{d.uid}.ttl").content, "ttl")
            node = URIRef(f"{BASE}/datasets/uid/{d.uid}#dataset")
            assert g.value(node, DCTERMS.conformsTo) == URIRef(url)
            assert (URIRef(url), RDF.type, DCTERMS.Standard) in g
            assert g.value(URIRef(url), DCTERMS.title) is not None
            for x in _distributions(g, d).values():
                assert g.value(x, DCTERMS.conformsTo) == URIRef(url)
            package = web.get("/api/3/action/package_show", params={"id": d.slug}).json()
            assert {r["schema"] for r in package["result"]["resources"]} == {url}
            assert {"key": "schema", "value": url} in package["result"]["extras"]
            for release in SHAPES:
                assert _violations(g, release) == [], release
        assert web.get(local.removeprefix(BASE)).json() == {
            "fields": [{"name": "annee", "type": "integer"}]}
    finally:
        with territory.services.db.unit_of_work() as s:
            for d in (trees, budget):
                validation.remove_declaration(s, factories.SYSTEM, s.get(Dataset, d.id), None)
    g = _parse(web.get(f"/datasets/uid/{trees.uid}.ttl").content, "ttl")
    assert not list(g.objects(None, DCTERMS.conformsTo))
    assert web.get(f"/datasets/uid/{budget.uid}/schema.json").status_code == 404


def test_spatial_coverage_has_a_geometry(web: TestClient, territory: DemoTerritory) -> None:
    import json

    def place(d: Dataset) -> tuple[Graph, URIRef]:
        g = _parse(web.get(f"/datasets/uid/{d.uid}.ttl").content, "ttl")
        return g, g.value(URIRef(f"{BASE}/datasets/uid/{d.uid}#dataset"), DCTERMS.spatial)

    # With positions: their extent (the trees file's coordinates, see tests/factories.py).
    g, node = place(territory.trees)
    polygon = json.loads(str(g.value(node, dcat.LOCN.geometry)))
    xs = [p[0] for p in polygon["coordinates"][0]]
    ys = [p[1] for p in polygon["coordinates"][0]]
    rows = [line.split(";") for line in factories.TREES_CSV.strip().splitlines()[1:]]
    header = factories.TREES_CSV.splitlines()[0].split(";")
    lats = [float(r[header.index("latitude")].replace(",", ".")) for r in rows]
    lons = [float(r[header.index("longitude")].replace(",", ".")) for r in rows]
    assert (min(xs), max(xs)) == (min(lons), max(lons))
    assert (min(ys), max(ys)) == (min(lats), max(lats))
    assert str(g.value(node, SKOS.prefLabel)) == "Ligérac"
    assert str(g.value(node, DCAT.bbox)).startswith("POLYGON((")
    # Without: the publisher's territory, from its SIREN.
    g, node = place(territory.budget)
    with territory.services.db.session() as s:
        org = s.get(Dataset, territory.budget.id).organisation
        expected = geography.organisation_territory(org)
    assert expected is not None
    assert str(g.value(node, dcat.LOCN.geometry)) == expected.geojson()


def test_rdf_documents_answer_errors_in_rdf(web: TestClient) -> None:
    hydra_error = URIRef(HYDRA + "Error")
    for path, ext, status in (("/catalog.ttl?page=0", "ttl", 422),
                              ("/catalog.jsonld?page_size=x", "jsonld", 422),
                              ("/datasets/uid/nothing-here.rdf", "rdf", 404),
                              ("/datasets/inconnu.ttl", "ttl", 404)):
        r = web.get(path)
        assert r.status_code == status, path
        assert r.headers["content-type"].startswith(dcat.RDF_FORMATS[ext].media_type), path
        g = _parse(r.content, ext)
        error = next(g.subjects(RDF.type, hydra_error))
        assert int(g.value(error, URIRef(HYDRA + "statusCode"))) == status
        assert str(g.value(error, URIRef(HYDRA + "title")))  # a French sentence


def test_entries_without_data_are_exported_by_neither_dcat_nor_ckan(
        web: TestClient, territory: DemoTerritory) -> None:
    with territory.services.db.session() as s:
        public_entries = list(s.scalars(public.public_query()))
        exported = public.everything(s, territory.services.settings)
    ids = {public.dataset_uuid(e.dataset) for e in exported}
    without = [d for d in public_entries if public.dataset_uuid(d) not in ids]
    assert len(without) > 50 and len(ids) >= 2
    g = _parse(web.get("/catalog.ttl", params={"page_size": 1000}).content, "ttl")
    assert {str(g.value(d, DCTERMS.identifier))
            for d in g.subjects(RDF.type, DCAT.Dataset)} == ids
    names = web.get("/api/3/action/package_list").json()["result"]
    ckan_ids = {web.get("/api/3/action/package_show", params={"id": n}).json()["result"]["id"]
                for n in names}
    assert ckan_ids == ids
    for d in without[:3]:
        assert web.get(f"/datasets/uid/{d.uid}.ttl").status_code == 404
        assert web.get("/api/3/action/package_show", params={"id": d.slug}).status_code == 404
        assert web.get(f"/datasets/{d.slug}").status_code == 200  # still on the portal
