"""The sovereignty registers in a real browser: an organisation's administrator (the IT
department) reaches them from the menu, records an application hosted outside the EU, sees
it break the hosting strategy, and reads the contracts with the reversibility watch. axe-core
finds no serious or critical violation on any of these pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from patrimoine.access.models import Role
from patrimoine.access.principal import Principal
from patrimoine.core.db import Database
from patrimoine.protection.deadlines import add_months, legal_today
from patrimoine.sovereignty import contracts as ctr
from tests import factories as f
from tests.e2e.conftest import login, nav
from tests.e2e.test_portal import _serious, axe_script  # noqa: F401 (a fixture)

pytestmark = pytest.mark.e2e

IT = "dsi@nantes.example"


def test_record_an_application_and_read_the_contracts(
        db: Database, serve: Any, page: Any, axe_script: Path) -> None:  # noqa: F811
    with db.unit_of_work() as s:
        org = f.organisation(s, "Ville de Nantes-sur-Test")
        f.account(s, IT, roles=[(org, Role.ADMINISTRATOR, None)])
        ctr.create_contract(s, Principal.system("tests"), ctr.ContractInput(
            organisation_id=org.id, title="Maintenance du logiciel de paie",
            supplier_name="Éditeur de paie", end_date=add_months(legal_today(), 6)))
        org_slug = org.slug
    base = serve()
    page.add_init_script(path=str(axe_script))
    violations: dict[str, Any] = {}

    def check(name: str) -> None:
        found = _serious(page)
        if found:
            violations[name] = found

    login(page, base, IT, f.PASSWORD)
    nav(page, "Souveraineté").click()
    page.wait_for_url(f"{base}/admin/souverainete")
    check("cartographie")
    page.goto(f"{base}/admin/souverainete/applications/nouvelle")
    check("formulaire")
    page.get_by_label("Nom de l'application").fill("Paie")
    page.get_by_label("Mode d'hébergement").select_option(value="saas")
    page.get_by_label("Hébergeur").fill("Nuage lointain")
    page.get_by_label("Localisation des données").select_option(value="third_country")
    page.get_by_label("Pays").fill("Inde")
    page.get_by_label("Outil de transfert").select_option(value="scc")
    page.get_by_label("Sensibilité des données").select_option(value="sensible")
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_text("Placement contraire à la stratégie").first.wait_for()
    check("fiche")
    page.goto(f"{base}/admin/souverainete/contrats")
    page.get_by_text("Maintenance du logiciel de paie").first.wait_for()
    check("contrats")
    page.get_by_role("link", name="Maintenance du logiciel de paie").first.click()
    page.get_by_role("heading", level=1).wait_for()
    check("contrat")
    page.goto(f"{base}/admin/souverainete/partenaires")
    check("partenaires")
    page.get_by_label("Raison sociale").fill("Coopérative des mobilités")
    page.get_by_label("SIREN").fill("900 100 017")
    page.get_by_label("Date de signature").fill("2024-03-12")
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_role("heading", name="Coopérative des mobilités").wait_for()
    check("signataire")
    page.get_by_label("Action déclarée").fill("Données de trafic publiées chaque mois.")
    page.get_by_role("button", name="Enregistrer l'action").click()
    page.get_by_text("Données de trafic publiées chaque mois.").first.wait_for()
    page.goto(f"{base}/admin/souverainete/clauses/{org_slug}")
    check("clauses")
    page.goto(f"{base}/charte/signataires")
    page.get_by_text("Données de trafic publiées chaque mois.").wait_for()
    check("signataires publics")
    assert violations == {}, violations
