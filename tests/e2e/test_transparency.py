"""The algorithms register in a real browser: a chief data officer describes and publishes an
algorithm with its four documents, then reads its public page (documents, parameters, the
mention for decision letters), and records a request for the rules of a decision. axe-core
finds no serious or critical violation on the back
office's list and form nor on the public register's pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from patrimoine.access.models import Role
from patrimoine.core.db import Database
from tests import factories as f
from tests.e2e.conftest import login, nav
from tests.e2e.test_portal import _serious, axe_script  # noqa: F401 (a fixture)

pytestmark = pytest.mark.e2e

CDO = "agd@nantes.example"


def test_publish_an_algorithm_and_read_its_public_page(
        db: Database, serve: Any, page: Any, axe_script: Path) -> None:  # noqa: F811
    with db.unit_of_work() as s:
        org = f.organisation(s, "Ville de Nantes-sur-Test")
        f.dataset(s, org, "Demandes de place en crèche")
        f.account(s, CDO, roles=[(org, Role.CHIEF_DATA_OFFICER, None)])
    base = serve()
    page.add_init_script(path=str(axe_script))
    violations: dict[str, Any] = {}

    def check(name: str) -> None:
        found = _serious(page)
        if found:
            violations[name] = found

    login(page, base, CDO, f.PASSWORD)
    nav(page, "Algorithmes").click()
    page.wait_for_url(f"{base}/admin/algorithmes")
    check("liste")
    page.get_by_role("link", name="Décrire un algorithme").click()
    check("formulaire")
    page.get_by_label("Nom de l'algorithme").fill("Attribution des places en crèche")
    page.get_by_label("Contact").fill("creches@nantes.example")
    page.get_by_label("Finalité").fill("Classer les demandes de place avant la commission.")
    page.get_by_label("Base légale").fill("Règlement d'attribution du conseil municipal.")
    page.get_by_label("Public concerné").fill("Familles résidentes")
    page.get_by_label("Degré d'automatisation").select_option(label="Aide à la décision")
    page.get_by_label("Nature de l'algorithme").select_option(value="rules")
    page.get_by_label("Paramètres et pondération").fill(
        "Quartier | 30 points | Proximité du domicile\nFratrie | 20 points")
    page.get_by_label("Opérations effectuées").fill("Un score sur 100 classe les demandes.")
    page.get_by_label("Demandes de place en crèche").check()
    page.get_by_label("Intervention humaine").fill("La commission décide.")
    page.get_by_label("Voies de recours").fill("Recours gracieux auprès du maire.")
    for kind, name in (("Description fonctionnelle", "description.pdf"),
                       ("Logigramme", "logigramme.png"),
                       ("Document technique", "technique.pdf"),
                       ("Code source commenté", "source.html")):
        page.get_by_label(f"{kind} (adresse)").fill(f"https://nantes.example/creches/{name}")
    page.get_by_label("Statut").select_option(value="published")
    page.get_by_label("Date de publication").fill("2026-04-01")
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_text("Algorithme ALG-001 enregistré.").wait_for()
    check("fiche")

    page.get_by_role("link", name="voir la page publique").click()
    page.get_by_role("heading", level=1, name="Attribution des places en crèche").wait_for()
    check("page publique")
    documents = page.get_by_role("region", name="Documents et code source")
    for kind in ("Description fonctionnelle", "Logigramme", "Document technique",
                 "Code source commenté"):
        assert documents.get_by_role("link", name=kind).count() == 1
    assert page.get_by_role("rowheader", name="Quartier").count() == 1
    mention = page.get_by_role("region", name="Mention figurant sur les décisions")
    assert "creches@nantes.example" in mention.inner_text()

    page.get_by_role("link", name="Algorithmes publics").first.click()
    page.get_by_role("link", name="Attribution des places en crèche").wait_for()
    check("registre public")
    page.get_by_role("link", name="demandes de données d'intérêt général").click()
    page.get_by_role("heading", level=1, name="Données d'intérêt général").wait_for()
    check("données d'intérêt général")

    # A request for the rules of a decision, recorded on the published algorithm.
    page.goto(f"{base}/admin/algorithmes/demandes/nouvelle")
    check("nouvelle demande")
    page.get_by_label("Algorithme").select_option(label="ALG-001 — Attribution des places "
                                                        "en crèche")
    page.get_by_label("Demandeur").fill("Camille Martin")
    page.get_by_label("Reçue le").fill("2026-01-31")
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_text("Demande DRA-2026-001 enregistrée ; réponse due le 02/03/2026.").wait_for()
    check("demande")
    assert violations == {}, violations
