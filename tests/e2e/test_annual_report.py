"""The annual report in a real browser: a chief data officer opens the draft of the year's
report, writes its preface, previews it and publishes it; then anyone reads it on the portal
(table of contents, charts with their tables, the annex), and axe-core finds no serious or
critical violation on the back office's pages nor on the public report."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from patrimoine.access.models import Role
from patrimoine.core.db import Database
from tests import factories as f
from tests.e2e.conftest import login, nav
from tests.e2e.test_portal import _serious, axe_script  # noqa: F401 (a fixture)

pytestmark = pytest.mark.e2e

CDO = "agd@rapport.example"


def test_write_publish_and_read_the_annual_report(
        db: Database, serve: Any, page: Any, axe_script: Path) -> None:  # noqa: F811
    with db.unit_of_work() as s:
        org = f.organisation(s, "Ville de Rapport-sur-Test")
        for i in range(3):
            f.dataset(s, org, f"Jeu ouvert {i}", access_level="open",
                      lifecycle_stage="published", licence="etalab-2.0")
        f.account(s, CDO, roles=[(org, Role.CHIEF_DATA_OFFICER, None)])
    base = serve()
    page.add_init_script(path=str(axe_script))
    violations: dict[str, Any] = {}

    def check(name: str) -> None:
        found = _serious(page)
        if found:
            violations[name] = found

    login(page, base, CDO, f.PASSWORD)
    nav(page, "Rapports annuels").click()
    page.wait_for_url(f"{base}/admin/rapports")
    check("liste")
    page.get_by_label("Rapport de").select_option(label="Ville de Rapport-sur-Test")
    page.get_by_label("Année").fill(str(date.today().year))
    page.get_by_role("button", name="Ouvrir le brouillon").click()
    page.get_by_label("Titre du rapport").fill("Un an de charte")
    page.get_by_label("Préambule").fill("Nous rendons compte de nos **engagements**.")
    check("brouillon")
    page.get_by_role("button", name="Enregistrer le texte").click()
    page.get_by_text("Le texte du rapport est enregistré.").wait_for()
    page.get_by_role("link", name="aperçu").click()
    page.get_by_role("heading", level=1, name="Un an de charte").wait_for()
    check("aperçu")
    page.go_back()
    page.get_by_role("button", name="Publier l'édition 1").click()

    page.get_by_role("heading", level=1, name="Un an de charte").wait_for()
    assert "/rapports/" in page.url
    check("rapport public")
    contents = page.get_by_role("navigation", name="Sommaire")
    contents.get_by_role("link", name="5. Ouvrir les données publiques").click()
    opened = page.get_by_role("region", name="Jeux de données ouverts", exact=True)
    assert "3" in opened.locator(".valeur").inner_text()
    assert opened.get_by_role("img", name="Jeux de données ouverts : répartition").count() == 1
    assert opened.get_by_role("table", name="Jeux de données ouverts : répartition").count() == 1
    annex = page.get_by_role("region", name="Annexe : comment les chiffres sont calculés")
    assert "dataset" in annex.inner_text()
    page.goto(f"{base}/rapports")
    check("liste publique")
    assert page.get_by_role("link", name="Un an de charte").count() == 1
    assert violations == {}, violations
