"""The back-office in a real browser against a real server: log in, search, create an entry,
import the audit spreadsheet, read the statistics."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from patrimoine.access.models import Role
from patrimoine.core.db import Database
from patrimoine.inventory.models import AccessLevel
from tests import factories as f
from tests.e2e.conftest import login, nav
from tests.support.spreadsheets import SOURCES, write_audit

pytestmark = pytest.mark.e2e


def _table(page: Any, name: str) -> dict[str, tuple[str, str]]:
    """{value: (count, percent)} as the statistics page shows them."""
    rows = {}
    for row in page.locator(f"#table-{name} tbody tr").all():
        head = row.locator("th").inner_text().strip()
        cells = [c.inner_text().strip() for c in row.locator("td").all()]
        rows[head] = (cells[0], cells[1])
    return rows


def test_log_in_search_create_import_and_read_statistics(
        db: Database, serve: Any, page: Any, tmp_path: Path) -> None:
    with db.unit_of_work() as s:
        ville = f.organisation(s, "Ville de Troyes")
        sports = f.department(s, ville, "Sports")
        f.dataset(s, ville, "Consommations énergétiques des gymnases", department=sports,
                  theme="Énergie", access_level=AccessLevel.OPEN)
        f.dataset(s, ville, "Fréquentation des piscines", department=sports, theme="Sports")
        f.account(s, "admin@troyes.fr", superadmin=True)
        f.account(s, "agent@troyes.fr", roles=[(ville, Role.AGENT, None)])
    base = serve()

    # Anonymous visitors land on the login page; the skip link comes first.
    page.goto(f"{base}/admin/inventaire")
    assert page.url.startswith(f"{base}/connexion")
    login(page, base, "admin@troyes.fr", f.PASSWORD)
    assert page.get_by_role("status").first.inner_text().startswith("Bienvenue")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Aller au contenu"

    # Search ignores accents and case.
    nav(page, "Inventaire").click()
    page.get_by_label("Rechercher dans l'inventaire").fill("ENERGETIQUE")
    page.get_by_role("button", name="Rechercher").click()
    assert page.locator("#resultats").inner_text() == "1 jeu de données pour « ENERGETIQUE »"
    page.get_by_role("link", name="Consommations énergétiques des gymnases").click()
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Consommations énergétiques des gymnases")

    # Create an entry: a bad amount is reported next to its field, the rest is kept.
    nav(page, "Inventaire").click()
    page.get_by_role("link", name="Nouvelle entrée").click()
    page.get_by_label("Titre").fill("Arbres d'alignement")
    page.get_by_label("Organisation").select_option(label="Ville de Troyes")
    page.get_by_label("Direction").select_option(label="Sports")
    page.get_by_label("Thématique").fill("Espace public")
    page.get_by_label("Coût annuel").fill("beaucoup")
    page.get_by_role("button", name="Créer l'entrée").click()
    assert "Indiquez un montant en euros" in page.locator("#f-cost_per_year-error").inner_text()
    assert page.get_by_label("Titre").input_value() == "Arbres d'alignement"
    page.get_by_label("Coût annuel").fill("1 500")
    page.get_by_role("button", name="Créer l'entrée").click()
    page.wait_for_url(f"{base}/admin/inventaire/arbres-d-alignement")
    assert "a été créé" in page.get_by_role("status").first.inner_text()
    assert "1 500 € par an" in page.locator("dl.meta").inner_text().replace("\u202f", " ")
    assert "Création" in page.locator("#historique + table").inner_text()

    # Import the Troyes-like audit: preview first, then confirm.
    spreadsheet = write_audit(tmp_path / "audit.xlsx", title_row=True)
    page.get_by_role("link", name="Importer", exact=True).click()
    page.get_by_label("Fichier à importer").set_input_files(str(spreadsheet))
    page.get_by_role("button", name="Prévisualiser l'import").click()
    summary = page.locator("ul.counts").inner_text()
    assert "653 jeux de données à créer" in summary and "3 nouvelles organisations" in summary
    # Creating the 3 organisations is confirmed explicitly; the import then runs in the
    # background, its page following the progress until the inventory shows.
    page.get_by_label("Créer 3 organisations").check()
    page.get_by_role("button", name="Confirmer l'import").click()
    page.wait_for_url(re.compile(r".*/admin/inventaire\?tri=-updated$"))
    assert "653 créés, 0 modifié, 0 inchangé" in page.get_by_role("status").first.inner_text()

    # The statistics page reproduces the audit's tables.
    page.get_by_role("link", name="Statistiques", exact=True).click()
    total = 653 + 3
    source = _table(page, "source")
    for value, count in SOURCES.items():
        percent = f"{100 * count / total:.1f}".replace(".", ",")
        assert source[value] == (str(count), f"{percent} %"), value
    assert source["Non renseigné"] == ("3", "0,5 %")
    assert page.locator("#table-source tfoot").inner_text().split() == [
        "Total", "général", "656", "100", "%"]
    organisations = _table(page, "organisation")
    assert organisations["Troyes Champagne Métropole"][0] == "341"
    assert organisations["Ville de Troyes"][0] == str(207 + 3)
    sharing = _table(page, "sharing")
    assert sharing["Oui"][0] == "452" and sharing["À définir"][0] == str(41 + 3)
    assert page.locator("figure.chart svg[role=img]").count() == 6

    # An agent reads but is offered no edit.
    page.get_by_role("button", name="Se déconnecter").click()
    login(page, base, "agent@troyes.fr", f.PASSWORD)
    page.goto(f"{base}/admin/inventaire/frequentation-des-piscines")
    assert page.get_by_role("link", name="Modifier").count() == 0
    response = page.goto(f"{base}/admin/inventaire/frequentation-des-piscines/modifier")
    assert response is not None and response.status == 403
