"""Quality score and schema conformity on the public dataset page; the quality facet."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from patrimoine.bootstrap import Services
from patrimoine.charter import quality
from patrimoine.interop import public
from patrimoine.inventory.models import Dataset
from patrimoine.portal import catalog
from patrimoine.standards import validation
from tests import factories
from tests.factories import PortalWorld

BROWSER = {"user-agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"}
SCHEMA = {"fields": [
    {"name": "compteur", "type": "string", "description": "Nom du compteur"},
    {"name": "date", "type": "date", "description": "Jour du comptage"},
    {"name": "passages", "type": "integer", "description": "Vélos comptés"},
    {"name": "latitude", "type": "number", "description": "Latitude (WGS 84)"},
    {"name": "longitude", "type": "number", "description": "Longitude (WGS 84)"},
]}



def test_dataset_page_shows_score_criteria_and_conformity(
        client: TestClient, services: Services, world: PortalWorld) -> None:
    with services.db.unit_of_work() as s:
        entry = s.get(Dataset, world.counters.id)
        assert entry is not None
        validation.declare_schema(s, factories.SYSTEM, entry, descriptor=SCHEMA)
    html = client.get(f"/datasets/{world.counters.slug}", headers=BROWSER).text
    with services.db.session() as s:
        entry = s.get(Dataset, world.counters.id)
        assert entry is not None
        score = quality.quality_score(s, entry, services.settings)
    section = html[html.index('id="qualite"'):]
    assert f"{score.value} sur 100" in section
    assert section.count("<th scope=\"row\">") == len(quality.CRITERIA_TITLES)
    for criterion in score.criteria:
        assert criterion.title in section
    assert "Pas de données personnelles non traitées" in section
    assert 'href="#qualite"' in html
    # Never validated yet: the page does not validate (a visit must stay fast), it says so.
    assert "Conformité non vérifiée" in html
    with services.db.unit_of_work() as s:
        version = public.find(s, world.counters.slug, services.settings).version
        assert version is not None
        validation.validate_version(s, services.settings, version)
    html = client.get(f"/datasets/{world.counters.slug}", headers=BROWSER).text
    assert "Conforme au schéma" in html and "Conformité non vérifiée" not in html
    # A dataset without a declared schema shows no badge.
    other = client.get(f"/datasets/{world.subsidies.slug}", headers=BROWSER).text
    assert "Schéma de données" not in other and 'id="qualite"' in other


def test_page_without_data_still_shows_its_quality(client: TestClient, world: PortalWorld) -> None:
    html = client.get(f"/datasets/{world.canteen.slug}", headers=BROWSER).text
    assert 'id="qualite"' in html and "Aucune ressource publiée" in html


def test_quality_facet_filters_and_counts(client: TestClient, services: Services,
                                          world: PortalWorld) -> None:
    with services.db.session() as s:
        rows = catalog.entries(s, public.ANONYMOUS, settings=services.settings)
        catalog.add_quality(s, rows, services.settings)
        bands = {e.title: e.quality for e in rows}
    assert set(bands.values()) <= {"bonne", "moyenne", "faible"} and None not in bands.values()
    html = client.get("/datasets", headers=BROWSER).text
    assert 'id="facette-qualite"' in html
    for band in set(bands.values()):
        expected = sorted(t for t, b in bands.items() if b == band)
        page = client.get(f"/datasets?qualite={band}&tri=nom", headers=BROWSER).text
        shown = re.findall(r'class="dataset-card-title"><a href="[^"]+">([^<]+)</a>', page)
        assert sorted(shown) == expected
        label = quality.BAND_LABELS[band]
        assert re.search(re.escape(label) + r"</a> <span class=\"count\">"
                         + str(len(expected)) + "</span>", html)
