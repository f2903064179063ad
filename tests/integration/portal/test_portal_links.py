"""Links between the pages: DCAT documents, API docs, the public GDPR register summary, and
the back-office dataset page's links to its personal data, publication, schema and access."""

from __future__ import annotations

from fastapi.testclient import TestClient

from patrimoine.access.models import Role
from patrimoine.core.db import Database
from patrimoine.inventory.service import get_organisation_by_slug
from patrimoine.protection.register import service as register
from tests import factories
from tests.factories import PortalWorld, full_activity, login

BROWSER = {"user-agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"}



def test_home_links_the_dcat_catalog_and_the_api_docs(client: TestClient,
                                                      world: PortalWorld) -> None:
    html = client.get("/", headers=BROWSER).text
    for href in ('href="/catalog.ttl"', 'href="/catalog.rdf"', 'href="/catalog.jsonld"',
                 'href="/api/v1/docs"', 'href="/api/3/action/package_list"'):
        assert href in html, href
    assert '<link rel="alternate" type="text/turtle"' in html
    for url in ("/catalog.ttl", "/api/v1/docs", "/api/3/action/package_list"):
        assert client.get(url).status_code == 200, url


def test_dataset_page_has_its_rdf_alternates(client: TestClient, world: PortalWorld) -> None:
    slug = world.counters.slug
    html = client.get(f"/datasets/{slug}", headers=BROWSER).text
    for media, ext in (("text/turtle", "ttl"), ("application/rdf+xml", "rdf"),
                       ("application/ld+json", "jsonld")):
        assert (f'<link rel="alternate" type="{media}"' in html
                and f'href="/datasets/{slug}.{ext}"' in html), media
        assert client.get(f"/datasets/{slug}.{ext}").status_code == 200


def test_organisation_page_links_its_public_register_when_there_is_one(
        client: TestClient, db: Database, world: PortalWorld) -> None:
    page = f"/organisations/{world.org_slug}"
    assert "registre-rgpd" not in client.get(page, headers=BROWSER).text
    with db.unit_of_work() as s:
        org = get_organisation_by_slug(s, world.org_slug)
        register.create_activity(s, factories.SYSTEM, full_activity(org.id, name="Interne"))
    assert "registre-rgpd" not in client.get(page, headers=BROWSER).text
    with db.unit_of_work() as s:
        org = get_organisation_by_slug(s, world.org_slug)
        register.create_activity(s, factories.SYSTEM, full_activity(
            org.id, reference="T-0099", name="Comptages publics", public=True))
    html = client.get(page, headers=BROWSER).text
    assert f'href="/organisations/{world.org_slug}/registre-rgpd"' in html
    assert client.get(f"/organisations/{world.org_slug}/registre-rgpd").status_code == 200
    other = client.get(f"/organisations/{world.other_org_slug}", headers=BROWSER).text
    assert "registre-rgpd" not in other


def test_backoffice_dataset_page_links_its_other_pages(client: TestClient, db: Database,
                                                       world: PortalWorld) -> None:
    with db.unit_of_work() as s:
        org = get_organisation_by_slug(s, world.org_slug)
        factories.account(s, "cdo@metropole.fr", roles=[(org, Role.CHIEF_DATA_OFFICER, None)])
        factories.account(s, "agent@metropole.fr", roles=[(org, Role.AGENT, None)])
    slug = world.counters.slug
    base = f"/admin/inventaire/{slug}"
    login(client, "cdo@metropole.fr")
    html = client.get(base).text
    for target in ("/donnees-personnelles", "/publication", "/schema", "/acces"):
        assert f'href="{base}{target}"' in html, target
        assert client.get(base + target).status_code == 200, target
    assert f'href="/datasets/{slug}"' in html  # published: its public page
    client.cookies.clear()
    login(client, "agent@metropole.fr")
    html = client.get(base).text
    assert f'href="{base}/donnees-personnelles"' not in html
