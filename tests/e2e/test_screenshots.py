"""Screenshots of every back-office page over the demo territory, into docs/screenshots.

Only with `--screenshots` (`make screenshots`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from patrimoine.core.db import Database
from patrimoine.demo.loader import load_demo
from tests import factories as f
from tests.e2e.conftest import login, nav
from tests.support.spreadsheets import audit_rows, write_audit

pytestmark = pytest.mark.e2e

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
ADMIN = "admin@valdeloire.example"


def test_screenshots(request: pytest.FixtureRequest, db: Database, serve: Any, page: Any,
                     tmp_path: Path) -> None:
    if not request.config.getoption("--screenshots"):
        pytest.skip("screenshots are taken with --screenshots (make screenshots)")
    with db.unit_of_work() as s:
        load_demo(s, password=f.PASSWORD)
    base = serve()
    OUT.mkdir(parents=True, exist_ok=True)

    def shot(name: str, full: bool = True) -> None:
        page.screenshot(path=str(OUT / f"{name}.png"), full_page=full)

    page.goto(f"{base}/connexion")
    shot("01-connexion", full=False)
    login(page, base, ADMIN, f.PASSWORD)
    shot("02-tableau-de-bord")

    page.goto(f"{base}/admin/inventaire")
    shot("03-inventaire", full=False)
    page.get_by_label("Rechercher dans l'inventaire").fill("energie")
    page.get_by_role("button", name="Rechercher").click()
    page.locator("#facet-access_level + ul a").first.click()
    shot("04-inventaire-recherche-filtres", full=False)

    page.locator("table tbody th a").first.click()
    page.get_by_role("link", name="Modifier").click()
    page.get_by_label("Thématique").fill("Énergie et climat")
    page.get_by_label("Licence").fill("Licence Ouverte 2.0")
    page.get_by_role("button", name="Enregistrer les modifications").click()
    shot("05-fiche-et-historique")

    nav(page, "Inventaire").click()
    page.get_by_role("link", name="Nouvelle entrée").click()
    page.get_by_label("Titre").fill("")
    page.get_by_label("Coût annuel").fill("beaucoup")
    page.get_by_label("Adresse électronique du contact").fill("pas-une-adresse")
    page.get_by_role("button", name="Créer l'entrée").click()
    shot("06-formulaire-erreurs")

    page.get_by_role("link", name="Statistiques", exact=True).click()
    shot("07-statistiques")

    page.get_by_role("link", name="Importer", exact=True).click()
    shot("08-import", full=False)
    rows = audit_rows(40)
    rows[5]["Partage des données"] = "Peut-être"
    rows[12]["Coût"] = "beaucoup"
    page.get_by_label("Fichier à importer").set_input_files(
        str(write_audit(tmp_path / "audit-avec-erreurs.xlsx", rows)))
    page.get_by_role("button", name="Prévisualiser l'import").click()
    shot("09-import-erreurs")
    page.goto(f"{base}/admin/inventaire/import")
    page.get_by_label("Fichier à importer").set_input_files(
        str(write_audit(tmp_path / "audit.xlsx", audit_rows(60), title_row=True)))
    page.get_by_role("button", name="Prévisualiser l'import").click()
    shot("10-import-apercu")

    page.get_by_role("link", name="Mon compte").click()
    page.get_by_label("Nom du jeton").fill("Script de publication")
    page.get_by_role("button", name="Créer le jeton").click()
    shot("11-compte-et-jetons")
    assert len(list(OUT.glob("*.png"))) >= 11
