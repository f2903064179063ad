"""Each role sees only the menus and buttons it may use: every back-office link on the
pages of its menu answers 200 (no link ends in "Accès refusé"), and a partner sees no staff
names nor internal events."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from patrimoine.access.models import Account, Role
from patrimoine.access.principal import Principal
from patrimoine.bootstrap import Services
from patrimoine.core.clock import now
from patrimoine.grants import service as grants
from patrimoine.inventory.models import Dataset, Organisation
from patrimoine.publication import service as publication
from tests import factories as f
from tests.factories import GRANTS_SLUG, grants_world, login

LINK = re.compile(r'href="(/admin[^"#]*)"')
# Links that leave the page for a download or a form's own target are not pages to walk.
NOT_PAGES = re.compile(r"\.(xlsx|csv|json|zip)(\?|$)")

ROLES = {
    "superadmin@ville.fr": "instance administrator",
    "admin@ville.fr": "administrator",
    "cdo@ville.fr": "chief data officer",
    "dpo@ville.fr": "DPO",
    "referent@ville.fr": "referent",
    "agent@ville.fr": "agent",
    "asso@partenaire.fr": "partner",
}


@pytest.fixture
def town(services: Services, tmp_path: Path) -> None:
    grants_world(services.db, services.settings)
    with services.db.unit_of_work() as s:
        ville = s.scalars(select(Organisation).where(Organisation.name == "Ville de Test")).one()
        f.account(s, "superadmin@ville.fr", superadmin=True)
        f.account(s, "admin@ville.fr", roles=[(ville, Role.ADMINISTRATOR, None)])
        f.account(s, "agent@ville.fr", roles=[(ville, Role.AGENT, None)])
        referent = Principal.of(s.scalars(select(Account).where(
            Account.email == "referent@ville.fr")).one())
        cdo = Principal.of(s.scalars(select(Account).where(
            Account.email == "cdo@ville.fr")).one())
        closed = s.scalars(select(Dataset).where(Dataset.slug == GRANTS_SLUG)).one()
        grants.create_grant(s, cdo, closed, grants.GrantInput(
            grantee_kind="partner", grantee="asso@partenaire.fr", purpose="Étude des badges",
            valid_until=now() + timedelta(days=30)))
        # Something in each list: a request waiting for the CDO, a dataset with a version.
        entry = f.dataset(s, ville, "Arceaux vélo", department=s.scalars(
            select(Organisation).where(Organisation.id == ville.id)).one().departments[0],
            description="Les arceaux de stationnement vélo de la ville, par rue.",
            licence="Licence Ouverte 2.0", theme="Mobilité")
        path = f.write(tmp_path, "arceaux.csv", "rue;places\n" + "".join(
            f"Rue {i};{i % 7 + 2}\n" for i in range(30)))
        publication.add_version(s, services.settings, referent, entry, path)
        publication.request_publication(s, referent, entry, "Prêt.", services.settings)


def _walk(client: TestClient) -> dict[str, int]:
    """Every /admin link of the menu's pages, with the status it answers."""
    start = client.get("/admin")
    assert start.status_code == 200
    menu = html.unescape(start.text.split('<ul class="nav">')[1].split("</ul>")[0])
    pages = sorted(set(LINK.findall(menu)))
    seen: dict[str, int] = {}
    for path in pages:
        r = client.get(path)
        seen[path] = r.status_code
        for link in LINK.findall(html.unescape(r.text)):
            if link not in seen and not NOT_PAGES.search(link):
                seen[link] = client.get(link).status_code
    return seen


@pytest.mark.parametrize("email", sorted(ROLES))
def test_every_link_a_role_is_shown_answers(client: TestClient, town: None,
                                            email: str) -> None:
    login(client, email)
    seen = _walk(client)
    refused = {path: code for path, code in seen.items() if code != 200}
    assert refused == {}, f"{ROLES[email]}: {refused}"
    assert len(seen) > 5


def test_menus_follow_the_permissions(client: TestClient, town: None) -> None:
    def menu(email: str) -> list[str]:
        login(client, email)
        nav = html.unescape(client.get("/admin").text).split('<ul class="nav">')[1]
        nav = nav.split("</ul>")[0]
        return re.findall(r'<a href="[^"]+"[^>]*>([^<]+)', nav)

    full = ["Tableau de bord", "À faire", "Inventaire", "Statistiques", "Importer",
            "Publications", "Protection des données", "Conservation", "Souveraineté", "Algorithmes",
            "Charte", "Rapports annuels", "Journal d'audit", "Administration", "Notifications",
            "Mon compte"]
    assert [m.strip() for m in menu("superadmin@ville.fr")] == full
    assert [m.strip() for m in menu("admin@ville.fr")] == full
    assert [m.strip() for m in menu("cdo@ville.fr")] == [
        m for m in full if m not in ("Journal d'audit", "Administration")]
    assert [m.strip() for m in menu("dpo@ville.fr")] == [
        m for m in full
        if m not in ("Importer", "Publications", "Rapports annuels", "Administration")]
    assert [m.strip() for m in menu("referent@ville.fr")] == [
        "Tableau de bord", "À faire", "Inventaire", "Statistiques", "Importer",
        "Protection des données", "Souveraineté", "Algorithmes", "Charte", "Notifications",
        "Mon compte"]
    assert [m.strip() for m in menu("agent@ville.fr")] == [
        "Tableau de bord", "À faire", "Inventaire", "Statistiques", "Protection des données",
        "Souveraineté", "Algorithmes", "Charte", "Notifications", "Mon compte"]
    assert [m.strip() for m in menu("asso@partenaire.fr")] == [
        "Tableau de bord", "À faire", "Inventaire", "Notifications", "Mon compte"]


def test_a_partner_sees_no_staff_names_nor_internal_events(client: TestClient,
                                                           town: None) -> None:
    login(client, "asso@partenaire.fr")
    dashboard = client.get("/admin").text
    assert "Dernières modifications" not in dashboard
    entry = client.get(f"/admin/inventaire/{GRANTS_SLUG}")
    assert entry.status_code == 200
    for name in ("cdo", "referent", "Historique"):
        assert name not in entry.text, name
    # Staff keep both.
    login(client, "dpo@ville.fr")
    assert "Dernières modifications" in client.get("/admin").text
    assert "Historique" in client.get(f"/admin/inventaire/{GRANTS_SLUG}").text
