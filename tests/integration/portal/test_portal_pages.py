"""The public portal over HTTP, with real datasets and ingested versions."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse
from xml.etree import ElementTree as ET

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select

from patrimoine.access.models import AuditEvent, Role
from patrimoine.bootstrap import Services
from patrimoine.core.clock import now
from patrimoine.core.db import Database
from patrimoine.inventory.models import AccessLevel, Dataset, LifecycleStage
from patrimoine.portal import data
from patrimoine.usage.models import DatasetDailyUsage
from tests import factories
from tests.factories import PortalWorld, load, write

BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"}



def titles(html: str) -> list[str]:
    return re.findall(r'<h3 class="dataset-card-title"><a href="[^"]+">([^<]+)</a>', html)


def login_as_new_account(client: TestClient, db: Database, email: str,
                         roles: list[Any] | None = None, *, superadmin: bool = False) -> None:
    with db.unit_of_work() as s:
        factories.account(s, email, roles=roles, superadmin=superadmin)
    factories.login(client, email)


# --------------------------------------------------------------------------- home


def test_home_counts_latest_and_search_box(client: TestClient, world: PortalWorld) -> None:
    r = client.get("/")
    assert r.status_code == 200
    html = r.text
    assert '<html lang="fr">' in html
    assert html.count("<h1") == 1
    assert 'href="#contenu"' in html  # skip link
    assert '<label for="recherche-catalogue">' in html
    # The home page counts what has data; the entries without data are one link away.
    assert re.search(r'card-figure">2</span> <span class="card-label">jeux de données', html)
    assert "1 fiche sans données" in html and 'href="/datasets?donnees=non"' in html
    assert ('href="/datasets?theme=Mobilit%C3%A9&amp;donnees=oui">Mobilité</a> '
            '<span class="count">1') in html
    assert "Fréquentation des cantines scolaires" not in html
    assert "Derniers jeux publiés" in html
    assert "Comptages vélo" in html
    for hidden in ("Annuaire interne", "Dossiers sociaux", "brouillon"):
        assert hidden not in html


def test_entries_without_data_are_marked_and_filtered(client: TestClient,
                                                      world: PortalWorld) -> None:
    listed = client.get("/datasets").text
    assert "Fréquentation des cantines scolaires" in listed
    assert listed.count("Fiche sans données</span>") == 1
    without = client.get("/datasets?donnees=non").text
    assert "Fréquentation des cantines scolaires" in without and "Comptages vélo" not in without
    with_data = client.get("/datasets?donnees=oui").text
    assert "Comptages vélo" in with_data and "cantines scolaires" not in with_data


def test_most_used_follows_the_counters(client: TestClient, world: PortalWorld,
                                        services: Services) -> None:
    assert "Les plus consultés" not in client.get("/").text
    for _ in range(3):
        client.get(f"/datasets/{world.counters.slug}", headers=BROWSER)
    for _ in range(5):  # an entry without data is not among the home page's lists
        client.get(f"/datasets/{world.canteen.slug}", headers=BROWSER)
    client.get(f"/datasets/{world.subsidies.slug}", headers=BROWSER)
    services.usage.flush(services.db)  # as the server does every few seconds
    html = client.get("/").text
    popular = html[html.index("Les plus consultés"):]
    assert titles(popular)[:2] == ["Comptages vélo", "Subventions aux associations"]


# ------------------------------------------------------------------------ catalog


def test_catalog_search_ignores_accents_and_case(client: TestClient, world: PortalWorld) -> None:
    assert titles(client.get("/datasets?q=FREQUENTATION cantine").text) == [
        "Fréquentation des cantines scolaires"]
    assert titles(client.get("/datasets?q=vélo").text) == ["Comptages vélo"]
    assert titles(client.get("/datasets?q=velo").text) == ["Comptages vélo"]
    r = client.get("/datasets?q=zzzinconnu")
    assert "Aucun jeu de données" in r.text and titles(r.text) == []


@pytest.mark.parametrize(("query", "expected"), [
    ("theme=Mobilit%C3%A9", ["Comptages vélo"]),
    ("theme=Mobilit%C3%A9&theme=Vie+associative", ["Comptages vélo",
                                                   "Subventions aux associations"]),
    ("organisation=ville-de-test", ["Fréquentation des cantines scolaires",
                                    "Subventions aux associations"]),
    ("licence=ODbL-1.0", ["Subventions aux associations"]),
    ("licence=etalab-2.0", ["Comptages vélo", "Fréquentation des cantines scolaires"]),
    ("format=csv", ["Comptages vélo", "Subventions aux associations"]),
    ("mot_cle=v%C3%A9lo", ["Comptages vélo"]),
    ("carte=oui", ["Comptages vélo"]),
    ("carte=non", ["Fréquentation des cantines scolaires", "Subventions aux associations"]),
    ("organisation=ville-de-test&carte=non&format=csv", ["Subventions aux associations"]),
])
def test_each_facet_filters(client: TestClient, world: PortalWorld, query: str,
                            expected: list[str]) -> None:
    r = client.get(f"/datasets?{query}&tri=nom")
    assert r.status_code == 200
    assert titles(r.text) == expected


def test_facets_show_counts_and_keep_other_choices(client: TestClient, world: PortalWorld) -> None:
    html = client.get("/datasets?theme=Mobilit%C3%A9").text
    # The theme facet still offers the other themes (its counts ignore its own choice).
    assert re.search(r"Vie associative</a> <span class=\"count\">1</span>", html)
    assert "Avec carte" in html and "CSV" in html and "Licence Ouverte 2.0" in html
    everything = client.get("/datasets").text
    assert "Licence Ouverte 2.0" in everything and "Open Database License (ODbL)" in everything
    assert 'aria-current="true"' in html  # the selected value
    assert "Filtres actifs" in html


def test_sorts(client: TestClient, world: PortalWorld, db: Database,
               services: Services) -> None:
    assert titles(client.get("/datasets?tri=nom").text) == [
        "Comptages vélo", "Fréquentation des cantines scolaires", "Subventions aux associations"]
    # Date: the newest published or updated first (the canteen has no version).
    with db.unit_of_work() as s:
        canteen = s.get(Dataset, world.canteen.id)
        assert canteen is not None
        canteen.updated_at = now()
    assert titles(client.get("/datasets?tri=date").text)[0] == (
        "Fréquentation des cantines scolaires")
    for _ in range(2):
        client.get(f"/datasets/{world.subsidies.slug}", headers=BROWSER)
    services.usage.flush(db)
    assert titles(client.get("/datasets?tri=popularite").text)[0] == (
        "Subventions aux associations")
    # Relevance only applies to a search; the default without one is by date.
    assert titles(client.get("/datasets?q=associations&tri=pertinence").text) == [
        "Subventions aux associations"]
    r = client.get("/datasets?tri=hasard")
    assert r.status_code == 422 and "Tri « hasard » inconnu" in r.text


def test_pagination(client: TestClient, world: PortalWorld, db: Database) -> None:
    with db.unit_of_work() as s:
        org = factories.organisation(s, "Ville de Test")
        for i in range(23):
            factories.dataset(s, org, f"Jeu public numéro {i:02d}", access_level=AccessLevel.OPEN,
                              lifecycle_stage=LifecycleStage.PUBLISHED)
    first = client.get("/datasets?tri=nom")
    assert "26 jeux de données" in first.text
    assert len(titles(first.text)) == 20
    assert 'href="/datasets?tri=nom&amp;page=2" rel="next"' in first.text
    second = client.get("/datasets?tri=nom&page=2")
    assert len(titles(second.text)) == 6
    assert not set(titles(first.text)) & set(titles(second.text))
    assert 'aria-current="page">2<' in second.text
    # Past the end: the last page.
    assert titles(client.get("/datasets?tri=nom&page=99").text) == titles(second.text)
    assert client.get("/datasets?page=abc").status_code == 422


# ------------------------------------------------------------------ who sees what


def test_closed_internal_and_unpublished_never_shown_to_anonymous(
        client: TestClient, world: PortalWorld) -> None:
    listing = client.get("/datasets").text + client.get("/sitemap.xml").text + client.get(
        "/datasets.atom").text + client.get("/").text + client.get(
        f"/organisations/{world.other_org_slug}").text
    for hidden in (world.internal, world.closed, world.stored):
        assert hidden.title not in listing
        assert hidden.slug not in listing
        for url in (f"/datasets/{hidden.slug}", f"/datasets/{hidden.slug}/chart.vl.json",
                    f"/datasets/{hidden.slug}/telecharger?format=csv",
                    f"/embed/datasets/{hidden.slug}/chart", f"/embed/datasets/{hidden.slug}/map"):
            r = client.get(url)
            assert r.status_code == 404, url
            assert "introuvable" in r.text
    assert client.get(f"/api/v1/datasets/{world.closed.slug}/export.csv").status_code == 404
    orgs = client.get("/organisations").text
    assert re.search(r"Ville de Test</a></th>\s*<td>Ville</td>\s*<td class=\"num\"><a[^>]*>2<",
                     orgs)


def test_internal_shown_to_members_closed_never(client: TestClient, world: PortalWorld,
                                                db: Database) -> None:
    with db.unit_of_work() as s:
        ville = factories.organisation(s, "Ville de Test")
        login_as_new_account(client, db, "cdo@ville.example",
                             [(ville, Role.CHIEF_DATA_OFFICER, None)])
    titles_seen = titles(client.get("/datasets?tri=nom").text)
    assert "Annuaire interne des agents" in titles_seen
    assert "Dossiers sociaux confidentiels" not in titles_seen
    assert client.get(f"/datasets/{world.internal.slug}").status_code == 200
    with db.session() as s:  # the read of data that is not open is in the audit log
        reads = s.scalars(select(AuditEvent).where(AuditEvent.action == "portal.read")).all()
        assert [e.target for e in reads] == [f"dataset:{world.internal.slug}"]
        assert reads[0].actor_label
    # Restricted datasets stay in the back-office even for those who may read them.
    assert client.get(f"/datasets/{world.closed.slug}").status_code == 404
    # Embeds, feed and sitemap are the anonymous view whoever asks.
    assert client.get(f"/embed/datasets/{world.internal.slug}/chart").status_code == 404
    assert world.internal.slug not in client.get("/sitemap.xml").text
    assert "Espace de gestion" in client.get("/").text


def test_superadmin_does_not_see_closed_on_the_portal(client: TestClient, world: PortalWorld,
                                                      db: Database) -> None:
    login_as_new_account(client, db, "root@ville.example", superadmin=True)
    assert "Dossiers sociaux confidentiels" not in client.get("/datasets").text
    assert client.get(f"/datasets/{world.closed.slug}").status_code == 404


# ------------------------------------------------------------------ dataset page


def test_dataset_page_sections(client: TestClient, world: PortalWorld) -> None:
    r = client.get(f"/datasets/{world.counters.slug}")
    assert r.status_code == 200
    html = r.text
    assert html.count("<h1") == 1 and "<h1>Comptages vélo</h1>" in html
    assert "<strong>vélos</strong>" in html  # Markdown rendered
    assert 'href="https://www.etalab.gouv.fr/licence-ouverte-open-licence/" rel="license"' in html
    assert "Mensuelle" in html
    assert "Du 01/01/2025 au 31/12/2025" in html
    assert "Métropole du Val" in html
    for section in ("donnees", "graphique", "carte", "telechargements", "api"):
        assert f'id="{section}"' in html
    # Table: caption, column headers with scope, row headers, French numbers.
    assert "<caption id=\"legende-donnees\">6 lignes" in html
    assert '<th scope="col"' in html and '<th scope="row" class="num">1</th>' in html
    assert "1\u202f200" in html
    assert "01/01/2025" in html
    # Downloads in every format, GeoJSON included (the version has positions).
    for fmt in ("csv", "json", "ndjson", "geojson", "parquet", "xlsx"):
        assert f"/datasets/{world.counters.slug}/telecharger?format={fmt}&amp;version=1" in html
    # Chart: spec URL, text alternative table.
    assert f'data-vega-spec="/datasets/{world.counters.slug}/chart.vl.json?type=bar' in html
    assert "Valeurs du graphique (alternative textuelle)" in html
    # Map with its text alternative, and no tiles by default.
    assert (f'data-geojson="/api/v1/datasets/{world.counters.slug}/export.geojson?columns='
            'compteur%2Cdate%2Cpassages"') in html
    assert 'data-tiles=""' in html
    assert "Liste des points (alternative textuelle de la carte)" in html
    assert "Pont Royal" in html and "47,901" in html
    # Ready API call.
    api = f"http://testserver/api/v1/datasets/{world.counters.slug}/records?limit=20"
    assert f'curl "{api}"' in html
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    # Its DCAT-AP documents, linked from the page.
    for ext in ("ttl", "rdf", "jsonld"):
        assert f'href="/datasets/{world.counters.slug}.{ext}"' in html
        assert client.get(f"/datasets/{world.counters.slug}.{ext}").status_code == 200


def test_description_is_sanitised_and_licence_odbl(client: TestClient, world: PortalWorld) -> None:
    html = client.get(f"/datasets/{world.subsidies.slug}").text
    assert "<script>alert(1)</script>" not in html
    assert 'href="https://opendatacommons.org/licenses/odbl/" rel="license"' in html
    assert 'id="carte"' not in html
    assert "format=geojson" not in html  # no positions, no geometry
    # schema.org metadata for search engines, safe inside its script element.
    found = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert found is not None
    ld = json.loads(found.group(1))
    assert ld["@type"] == "Dataset" and ld["name"] == "Subventions aux associations"
    assert ld["license"] == "https://opendatacommons.org/licenses/odbl/"
    assert "<script>alert(1)</script>" in ld["description"]
    assert [d["encodingFormat"] for d in ld["distribution"]] == [
        "text/csv", "application/json", "application/x-ndjson", "application/vnd.apache.parquet",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"]


def test_dataset_without_data_shows_its_description(client: TestClient, world: PortalWorld) -> None:
    html = client.get(f"/datasets/{world.canteen.slug}").text
    assert "ne sont pas encore publiées" in html
    assert 'id="donnees"' not in html


def test_table_filter_sort_and_paging_through_the_query_string(
        client: TestClient, world: PortalWorld, services: Services, tmp_path: Path) -> None:
    slug = world.counters.slug
    html = client.get(f"/datasets/{slug}?colonne=compteur&operateur=eq&valeur=Pont+Royal").text
    assert "2 lignes correspondant aux filtres" in html
    assert "compteur égal à « Pont Royal »" in html
    assert 'name="filtre" value="compteur:eq:Pont Royal"' in html
    html = client.get(f"/datasets/{slug}?filtre=compteur:contains:quai&tri=-date").text
    assert "2 lignes correspondant aux filtres" in html
    assert 'aria-sort="descending"' in html
    body = html.split("<tbody>")[1]
    assert body.index("01/02/2025") < body.index("01/01/2025")
    html = client.get(f"/datasets/{slug}?recherche=chatelet").text
    assert "2 lignes correspondant aux filtres" in html
    # Bad input: a French message on the page, the unfiltered table still shown.
    r = client.get(f"/datasets/{slug}?filtre=inconnue:eq:1")
    assert r.status_code == 400
    assert "La colonne « inconnue » n&#39;existe pas" in r.text and "6 lignes" in r.text
    # Paging: 45 rows, 20 per page.
    rows = "\n".join(f"Compteur {i};2025-03-{1 + i % 28:02d};{i};47.9;1.9" for i in range(39))
    load(services, world.counters, write(tmp_path, "v2.csv", "compteur;date;passages;latitude;"
                                         "longitude\n" + rows + "\n"))
    html = client.get(f"/datasets/{slug}?page=2").text
    assert "39 lignes — page 2 sur 2" in html
    assert '<th scope="row" class="num">21</th>' in html
    assert "(dernière)" in html and "telecharger?format=csv&amp;version=2" in html
    assert client.get(f"/datasets/{slug}?page=0").status_code == 400


def test_chart_spec_structure(client: TestClient, world: PortalWorld) -> None:
    slug = world.counters.slug
    bar = client.get(f"/datasets/{slug}/chart.vl.json?type=bar&x=compteur&agg=count").json()
    assert bar["$schema"] == "https://vega.github.io/schema/vega-lite/v6.json"
    assert bar["mark"]["type"] == "bar"
    assert bar["description"].startswith("Graphique en barres")
    values = {v["x"]: v["y"] for v in bar["data"]["values"]}
    assert values == {"Pont Royal": 2, "Quai Châtelet": 2, "Avenue de Paris": 2}
    assert {bar["encoding"]["x"]["type"], bar["encoding"]["y"]["type"]} == {
        "quantitative", "nominal"}
    pie = client.get(f"/datasets/{slug}/chart.vl.json?type=pie&x=compteur&y=passages&agg=sum"
                     ).json()
    assert pie["mark"]["type"] == "arc"
    assert set(pie["encoding"]) >= {"theta", "color"}
    assert {v["x"]: v["y"] for v in pie["data"]["values"]}["Pont Royal"] == 2550
    line = client.get(f"/datasets/{slug}/chart.vl.json?type=line&x=date&y=passages&agg=sum"
                      "&pas=month").json()
    assert line["mark"]["type"] == "line"
    assert line["encoding"]["x"]["type"] == "temporal"
    assert [v["x"] for v in line["data"]["values"]] == ["2025-01-01", "2025-02-01"]
    filtered = client.get(f"/datasets/{slug}/chart.vl.json?x=compteur&filtre=compteur:eq:"
                          "Pont Royal").json()
    assert filtered["data"]["values"] == [{"x": "Pont Royal", "y": 2}]
    bad = client.get(f"/datasets/{slug}/chart.vl.json?type=bar&x=compteur&agg=sum&y=compteur")
    assert bad.status_code == 422 and "n'est pas numérique" in bad.json()["error"]
    assert client.get(f"/datasets/{slug}/chart.vl.json?type=radar").status_code == 422
    # The page shows the same values as a table.
    html = client.get(f"/datasets/{slug}?type=pie&x=compteur&y=passages&agg=sum").text
    alt = html.split("Valeurs du graphique")[1]
    assert "Somme de passages par compteur" in alt
    assert '<th scope="row">Pont Royal</th><td class="num">2\u202f550</td>' in alt


def test_map_sources(client: TestClient, world: PortalWorld,
                     monkeypatch: pytest.MonkeyPatch) -> None:
    slug = world.counters.slug
    html = client.get(f"/datasets/{slug}?filtre=compteur:contains:pont").text
    found = re.search(r'data-geojson="([^"]+)"', html)
    assert found is not None
    url = found.group(1).replace("&amp;", "&")
    geo = client.get(url).json()
    assert len(geo["features"]) == 2
    assert geo["features"][0]["geometry"] == {"type": "Point", "coordinates": [1.905, 47.901]}
    assert set(geo["features"][0]["properties"]) == {"compteur", "date", "passages"}
    # Past the row limit, one point per distinct position with its number of rows.
    monkeypatch.setattr(data, "MAP_ROWS_DRAWN", 3)
    html = client.get(f"/datasets/{slug}").text
    assert f'data-geojson="/datasets/{slug}/points.geojson"' in html
    assert "un point par position" in html
    grouped = client.get(f"/datasets/{slug}/points.geojson")
    assert grouped.headers["content-type"] == "application/geo+json", grouped.text
    features = grouped.json()["features"]
    assert sorted((f["properties"]["compteur"], f["properties"]["Nombre de lignes"])
                  for f in features) == [("Avenue de Paris", 2), ("Pont Royal", 2),
                                         ("Quai Châtelet", 2)]
    filtered = client.get(f"/datasets/{slug}/points.geojson?filtre=compteur:eq:Pont Royal")
    assert len(filtered.json()["features"]) == 1
    assert client.get(f"/datasets/{world.subsidies.slug}/points.geojson").status_code == 404
    assert client.get(f"/datasets/{world.closed.slug}/points.geojson").status_code == 404


# ------------------------------------------------------------- downloads, counters


def test_download_counts_and_hands_over_to_the_export_api(
        client: TestClient, world: PortalWorld, db: Database, services: Services) -> None:
    slug = world.counters.slug
    r = client.get(f"/datasets/{slug}/telecharger?format=csv&where=compteur:eq:Pont Royal",
                   headers=BROWSER, follow_redirects=False)
    assert r.status_code == 303
    target = urlparse(r.headers["location"])
    assert target.path == f"/api/v1/datasets/{slug}/versions/1/export.csv"
    assert parse_qs(target.query) == {"where": ["compteur:eq:Pont Royal"]}
    csv = client.get(r.headers["location"]).text
    assert csv.count("Pont Royal") == 2 and "Quai" not in csv
    client.get(f"/datasets/{slug}/telecharger?format=xlsx", headers=BROWSER)
    assert client.get(f"/datasets/{slug}/telecharger?format=doc").status_code == 422
    services.usage.flush(db)
    with db.session() as s:
        usage = s.scalars(select(DatasetDailyUsage)).all()
    assert [(u.dataset_id, u.views, u.downloads) for u in usage] == [(world.counters.id, 0, 2)]


def test_counters_store_no_personal_data(client: TestClient, world: PortalWorld,
                                         db: Database, services: Services) -> None:
    slug = world.counters.slug
    for _ in range(3):
        client.get(f"/datasets/{slug}", headers={**BROWSER, "X-Forwarded-For": "203.0.113.9"})
    client.get(f"/datasets/{slug}", headers={"User-Agent": "Googlebot/2.1"})  # robots: not counted
    client.get(f"/datasets/{slug}?page=1&tri=date", headers=BROWSER)  # same visit: not counted
    services.usage.flush(db)
    with db.session() as s:
        rows = s.scalars(select(DatasetDailyUsage)).all()
        assert [(r.views, r.downloads) for r in rows] == [(3, 0)]
        columns = {c["name"] for c in inspect(s.get_bind()).get_columns("dataset_daily_usage")}
    assert columns == {"id", "dataset_id", "day", "views", "downloads"}
    html = client.get(f"/datasets/{slug}", headers=BROWSER).text
    assert "4 consultations, 0 téléchargement" in html
    # Nothing of the visitor anywhere in the stored row values.
    with db.session() as s:
        stored = " ".join(str(v) for r in s.execute(select(DatasetDailyUsage.__table__)).all()
                          for v in r)
    assert "203.0.113.9" not in stored and "Mozilla" not in stored


# ------------------------------------------------------ organisations, feed, sitemap


def test_organisation_pages(client: TestClient, world: PortalWorld) -> None:
    listing = client.get("/organisations")
    assert listing.status_code == 200 and listing.text.count("<h1") == 1
    assert '<th scope="col">Organisation</th>' in listing.text
    page = client.get(f"/organisations/{world.other_org_slug}")
    assert page.status_code == 200
    assert sorted(titles(page.text)) == ["Fréquentation des cantines scolaires",
                                 "Subventions aux associations"]
    assert "Vie associative" in page.text
    assert client.get("/organisations/inconnue").status_code == 404


def test_atom_feed_parses(client: TestClient, world: PortalWorld) -> None:
    r = client.get("/datasets.atom")
    assert r.headers["content-type"].startswith("application/atom+xml")
    ns = {"a": "http://www.w3.org/2005/Atom"}
    root = ET.fromstring(r.content)
    assert root.tag == "{http://www.w3.org/2005/Atom}feed"
    entries = root.findall("a:entry", ns)
    assert {e.findtext("a:title", namespaces=ns) for e in entries} == {
        "Comptages vélo", "Subventions aux associations", "Fréquentation des cantines scolaires"}
    for e in entries:
        uri = e.findtext("a:id", namespaces=ns)
        link = e.find("a:link", ns)
        assert uri is not None and uri.startswith("http://testserver/datasets/")
        assert link is not None and link.get("href") == uri
        assert e.findtext("a:updated", namespaces=ns)
    summary = next(e for e in entries if e.findtext("a:title", namespaces=ns) ==
                   "Subventions aux associations").findtext("a:summary", namespaces=ns)
    assert summary is not None and "<script>" not in summary


def test_absolute_links_follow_the_public_url(client: TestClient, world: PortalWorld,
                                             services: Services) -> None:
    services.settings.public_url = "https://data.ville.example/"
    assert "<loc>https://data.ville.example/datasets/comptages-velo</loc>" in client.get(
        "/sitemap.xml").text
    assert "<id>https://data.ville.example/datasets/comptages-velo</id>" in client.get(
        "/datasets.atom").text
    html = client.get(f"/datasets/{world.counters.slug}").text
    assert 'curl "https://data.ville.example/api/v1/datasets/comptages-velo/records' in html
    assert "Sitemap: https://data.ville.example/sitemap.xml" in client.get("/robots.txt").text


def test_sitemap_and_robots(client: TestClient, world: PortalWorld) -> None:
    root = ET.fromstring(client.get("/sitemap.xml").content)
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = [u.findtext("s:loc", namespaces=ns) for u in root.findall("s:url", ns)]
    assert "http://testserver/" in locs and "http://testserver/datasets" in locs
    assert f"http://testserver/datasets/{world.counters.slug}" in locs
    assert f"http://testserver/organisations/{world.org_slug}" in locs
    assert len([u for u in locs if u and "/datasets/" in u]) == 3
    robots = client.get("/robots.txt").text
    assert "Disallow: /admin" in robots and "Sitemap: http://testserver/sitemap.xml" in robots
    # Every page names its icon, and the address browsers try by themselves leads to it.
    assert '<link rel="icon" href="/static/img/favicon.svg"' in client.get("/").text
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in icon.content


# ------------------------------------------------------------------------- embeds


def test_embeds_may_be_framed_anywhere_pages_nowhere(
        client: TestClient, world: PortalWorld) -> None:
    slug = world.counters.slug
    chart = client.get(f"/embed/datasets/{slug}/chart?type=line&x=date&y=passages&agg=sum")
    assert chart.status_code == 200
    assert "frame-ancestors *" in chart.headers["content-security-policy"]
    assert "x-frame-options" not in chart.headers
    assert "/chart.vl.json?type=line" in chart.text and "<caption>" in chart.text
    assert 'class="site-header"' not in chart.text  # minimal layout
    map_ = client.get(f"/embed/datasets/{slug}/map")
    assert map_.status_code == 200
    assert "frame-ancestors *" in map_.headers["content-security-policy"]
    assert "Pont Royal" in map_.text
    assert client.get(f"/embed/datasets/{world.subsidies.slug}/map").status_code == 404
    for url in ("/", "/datasets", f"/datasets/{slug}", "/organisations"):
        r = client.get(url)
        assert r.headers["x-frame-options"] == "DENY", url
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"], url


def test_vendored_scripts_are_served(client: TestClient) -> None:
    for path in ("/static/vendor/vega/vega.min.js", "/static/vendor/vega-lite/vega-lite.min.js",
                 "/static/vendor/vega-embed/vega-embed.min.js",
                 "/static/vendor/vega-interpreter/vega-interpreter.js",
                 "/static/vendor/leaflet/leaflet.js", "/static/vendor/leaflet/leaflet.css",
                 "/static/js/portal.js", "/static/css/portal.css"):
        assert client.get(path).status_code == 200, path


# ------------------------------------------------------------------- CSV for spreadsheets


def test_csv_for_french_spreadsheets_beside_the_standard_csv(
        client: TestClient, world: PortalWorld) -> None:
    import csv
    import io

    slug = world.subsidies.slug
    page = client.get(f"/datasets/{slug}").text
    assert "CSV pour Excel" in page and "telecharger?format=csv-excel" in page
    standard = client.get(f"/datasets/{slug}/telecharger?format=csv")
    excel = client.get(f"/datasets/{slug}/telecharger?format=csv-excel")
    assert excel.status_code == 200 and excel.headers["content-type"].startswith("text/csv")
    # The byte order mark by which Excel reads UTF-8; `;`; decimal commas.
    assert excel.content.startswith(b"\xef\xbb\xbf")
    assert not standard.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(excel.content.decode("utf-8-sig")), delimiter=";"))
    plain = list(csv.reader(io.StringIO(standard.text)))
    assert rows[0] == plain[0] == ["association", "montant", "secteur"]
    assert rows[1] == ["Club de football", "1500,5", "Sport"]
    assert plain[1] == ["Club de football", "1500.5", "Sport"]
    assert [r[0] for r in rows] == [r[0] for r in plain]  # "Chorale des Écoles" intact
    # A second download of the whole version is the kept file, the same bytes.
    assert client.get(f"/datasets/{slug}/telecharger?format=csv-excel").content == excel.content
