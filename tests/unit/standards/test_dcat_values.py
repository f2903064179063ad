"""DCAT-AP documents from the values people really type: odd addresses, free-text licences,
missing descriptions. The document still parses in every format and has no SHACL violation."""

from __future__ import annotations

import warnings
from datetime import UTC, date, datetime
from pathlib import Path

import pyshacl
from rdflib import Graph, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF

from patrimoine.datastore.models import DatasetVersion
from patrimoine.interop import dcat
from patrimoine.interop.public import PublicDataset
from patrimoine.inventory.models import (
    AccessLevel,
    Dataset,
    Organisation,
    OrganisationKind,
    UpdateFrequency,
)

SHAPES = Path(__file__).resolve().parents[2] / "standards" / "dcat-ap"
BASE = "https://donnees.example.fr"
WHEN = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)


def _entry(**fields: object) -> PublicDataset:
    org = Organisation(id=7, slug="ville-d-essai", name="Ville d'Essai",
                       kind=OrganisationKind.VILLE, website="www.essai.fr (site officiel)",
                       created_at=WHEN)
    values: dict[str, object] = {
        "id": 1, "uid": "0123456789abcdef0123456789abcdef", "slug": "essai",
        "title": 'Relevés "spéciaux" <bruts> & divers', "description": "",
        "organisation_id": 7, "organisation": org, "access_level": AccessLevel.OPEN,
        "update_frequency": UpdateFrequency.IRREGULAR, "licence": "Licence maison v1",
        "keywords": ['mot "cité"', "  ", "a\\b"], "theme": None,
        "temporal_start": None, "temporal_end": date(2024, 12, 31),
        "spatial_coverage": "  ", "contact_name": None,
        "contact_email": "contact at essai point fr", "created_at": WHEN, "updated_at": WHEN,
    }
    values.update(fields)
    dataset = Dataset(**values)
    version = DatasetVersion(id=1, dataset_id=1, number=3, content_hash="0" * 64,
                             path="versions/x.parquet", row_count=12, size_bytes=100,
                             columns=[{"name": "wkt", "type": "geometry"}], positions=None,
                             created_at=WHEN)
    return PublicDataset(dataset, version)


def _validate(g: Graph) -> None:
    for files in (["3.0.1/shapes.ttl", "3.0.1/range.ttl"],
                  ["2.1.1/dcat-ap_2.1.1_shacl_shapes.ttl"],
                  ["2.1.1/dcat-ap_2.1.1_shacl_range.ttl"]):
        shapes = Graph()
        for name in files:
            shapes.parse(SHAPES / name)
        conforms, _, text = pyshacl.validate(g, shacl_graph=shapes, inference="none")
        assert conforms, text


def test_odd_values_still_give_a_valid_document() -> None:
    g = dcat.dataset_document(BASE, _entry())
    node = URIRef(f"{BASE}/datasets/uid/0123456789abcdef0123456789abcdef#dataset")
    # No description: one is written from the title and the publisher.
    assert "Ville d'Essai" in str(g.value(node, DCTERMS.description))
    publisher = g.value(node, DCTERMS.publisher)
    assert g.value(publisher, FOAF.homepage) is None  # "www.essai.fr (site officiel)"
    assert g.value(node, DCAT.contactPoint) is not None
    assert not list(g.objects(g.value(node, DCAT.contactPoint),
                              URIRef("http://www.w3.org/2006/vcard/ns#hasEmail")))
    licence = g.value(node, DCTERMS.license)
    assert (licence, RDF.type, DCTERMS.LicenseDocument) in g
    assert str(g.value(licence, DCTERMS.title)) == "Licence maison v1"
    assert {str(k) for k in g.objects(node, DCAT.keyword)} == {'mot "cité"', "a\\b"}
    assert g.value(node, DCTERMS.spatial) is None
    formats = {str(d).rsplit("#", 1)[1] for d in g.objects(node, DCAT.distribution)}
    assert "geojson" in formats
    _validate(g)
    for ext in ("ttl", "rdf", "jsonld"):
        body, _ = dcat.serialize(g, ext)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "ConjunctiveGraph is deprecated",
                                    DeprecationWarning)
            back = Graph().parse(data=body, format=dcat.RDF_FORMATS[ext].rdflib_name)
        assert len(back) == len(g), ext


def test_good_addresses_are_kept() -> None:
    entry = _entry(contact_email="donnees@essai.fr", contact_name="Service données")
    entry.dataset.organisation.website = "https://www.essai.fr/"
    g = dcat.dataset_document(BASE, entry)
    node = URIRef(f"{BASE}/datasets/uid/0123456789abcdef0123456789abcdef#dataset")
    contact = g.value(node, DCAT.contactPoint)
    assert g.value(contact, URIRef("http://www.w3.org/2006/vcard/ns#hasEmail")) == URIRef(
        "mailto:donnees@essai.fr")
    assert g.value(g.value(node, DCTERMS.publisher), FOAF.homepage) == URIRef(
        "https://www.essai.fr/")
    _validate(g)
