"""The daily work in a real browser: a referent loads a file and asks for its publication;
the chief data officer finds it in the to-do list (and the header's count), opens the review
page, sees the rows, and publishes. axe-core finds no serious or critical violation on the
to-do list, the notifications, their e-mail choices and the review page. With
--screenshots, the to-do list and the review page go to docs/screenshots."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from patrimoine.access.models import Role
from patrimoine.core.db import Database
from tests import factories as f
from tests.e2e.conftest import login, nav
from tests.e2e.test_portal import _serious, axe_script  # noqa: F401 (fixture)

pytestmark = pytest.mark.e2e

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

REFERENT, CDO = "referent@ligerac.fr", "agd@ligerac.fr"
CSV = "aire;commune;places;latitude;longitude\n" + "".join(
    f"Aire {i};Ligérac;{10 + i % 30};47,4{i % 10}1;0,6{i % 9}2\n" for i in range(120))


def test_referent_asks_the_cdo_reviews_and_publishes(request: pytest.FixtureRequest,
                                                     db: Database, serve: Any, page: Any,
                                                     tmp_path: Path,
                                                     axe_script: Path,  # noqa: F811
                                                     ) -> None:
    with db.unit_of_work() as s:
        ville = f.organisation(s, "Ville de Ligérac")
        mobility = f.department(s, ville, "Mobilités")
        f.dataset(s, ville, "Aires de covoiturage", department=mobility, theme="Mobilité",
                  licence="Licence Ouverte 2.0",
                  description="Les aires de covoiturage de la ville et leurs places.")
        f.account(s, REFERENT, roles=[(ville, Role.DATA_REFERENT, mobility)])
        f.account(s, CDO, roles=[(ville, Role.CHIEF_DATA_OFFICER, None)])
    base = serve()
    csv = tmp_path / "aires.csv"
    csv.write_text(CSV, encoding="utf-8")
    page.add_init_script(path=str(axe_script))
    found: dict[str, Any] = {}

    def shot(name: str) -> None:
        if request.config.getoption("--screenshots"):
            OUT.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)

    def check(name: str) -> None:
        violations = _serious(page)
        if violations:
            found[name] = violations

    # The referent loads the file and asks.
    login(page, base, REFERENT, f.PASSWORD)
    nav(page, "Inventaire").click()
    page.get_by_role("link", name="Aires de covoiturage").click()
    page.get_by_role("link", name="Charger des données").click()
    page.get_by_label("Fichier de données").set_input_files(str(csv))
    page.get_by_role("button", name="Envoyer et prévisualiser").click()
    page.get_by_role("button", name="Charger comme nouvelle version").click()
    assert "Version 1 chargée : 120 lignes" in page.get_by_role("status").first.inner_text()
    page.get_by_label("Message pour l'administrateur général des données").fill(
        "Relevé de mars, vérifié sur place.")
    page.get_by_role("button", name="Demander la publication").click()
    assert "Demande de publication envoyée" in page.get_by_role("status").first.inner_text()
    # No menu entry of the referent leads to a refusal: Publications is not one of them.
    assert nav(page, "Publications").count() == 0

    # The chief data officer: the header counts it, the to-do list leads to the review.
    page.context.clear_cookies()
    login(page, base, CDO, f.PASSWORD)
    assert nav(page, "À faire 1 élément").count() == 1
    assert nav(page, "Notifications 1 non lue").count() == 1
    nav(page, "Notifications 1 non lue").click()
    assert page.get_by_role("button", name="Ouvrir : Publication demandée : « Aires de "
                                    "covoiturage »").is_visible()
    check("notifications")
    page.get_by_role("link", name="Choisir les courriels reçus").click()
    check("choix des courriels")
    nav(page, "À faire 1 élément").click()
    check("à faire")
    shot("40-a-faire")
    page.get_by_role("link", name="« Aires de covoiturage »").click()
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Examen avant publication : Aires de covoiturage")
    assert page.get_by_text("Relevé de mars, vérifié sur place.").is_visible()
    rows = page.get_by_role("region", name="Premières lignes (20 sur 120)")
    assert rows.locator("tbody tr").count() == 20
    assert rows.locator("tbody tr").first.inner_text().startswith("Aire 0")
    assert page.get_by_role("link", name="Télécharger la version 1 (CSV)").is_visible()
    check("examen avant publication")
    shot("41-examen-avant-publication")
    page.get_by_role("button", name="Publier en données ouvertes").click()
    assert "est publié en données ouvertes" in page.get_by_role("status").first.inner_text()
    nav(page, "À faire").click()
    assert page.get_by_text("Rien n'attend votre action").is_visible()
    # The page an e-mail's unsubscribe link opens (it asks before doing anything).
    page.goto(f"{base}/notifications/desabonnement?compte=1&sorte=breach&cle=0")
    assert page.get_by_role("button", name="Me désabonner").is_visible()
    check("désabonnement")
    assert found == {}, json.dumps(found, ensure_ascii=False, indent=1)
