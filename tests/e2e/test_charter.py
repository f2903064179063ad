"""The charter's dashboard in a real browser: a chief data officer reaches it from the menu,
evaluates the charter, sees the failing entry and since when, documents a deviation from the
entry's link (the dashboard then shows « écart documenté »), and reads the action plan.
axe-core finds no serious or critical violation on these pages."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from patrimoine.access.models import Role
from patrimoine.access.principal import Principal
from patrimoine.charter import config
from patrimoine.charter.config import Charter, Engagement, RuleUse
from patrimoine.core.clock import now
from patrimoine.core.db import Database
from tests import factories as f
from tests.e2e.conftest import login, nav
from tests.e2e.test_portal import _serious, axe_script  # noqa: F401 (a fixture)

pytestmark = pytest.mark.e2e

CDO = "agd@ligerac.example"


def test_evaluate_the_charter_and_document_a_deviation(
        db: Database, serve: Any, page: Any, axe_script: Path) -> None:  # noqa: F811
    with db.unit_of_work() as s:
        org = f.organisation(s, "Ville de Ligérac")
        f.dataset(s, org, "Registre des arbres remarquables")
        f.account(s, CDO, roles=[(org, Role.CHIEF_DATA_OFFICER, None)])
        config.save(s, Principal.system("tests"), Charter(
            title="Charte de la donnée de Ligérac", engagements=(Engagement(
                "connaitre", "Connaître nos données", "Chaque jeu a un responsable.",
                (RuleUse("inventory.owner_and_confidentiality"),)),)))
    base = serve()
    page.add_init_script(path=str(axe_script))
    violations: dict[str, Any] = {}

    def check(name: str) -> None:
        found = _serious(page)
        if found:
            violations[name] = found

    login(page, base, CDO, f.PASSWORD)
    nav(page, "Charte").click()
    page.wait_for_url(f"{base}/admin/charte")
    page.get_by_role("heading", name="Connaître nos données").wait_for()
    check("tableau de bord vide")
    page.get_by_role("button", name="Évaluer maintenant").click()
    page.get_by_text(f"en échec depuis le {now():%d/%m/%Y}").wait_for()
    check("tableau de bord")
    page.get_by_role("link", name="Documenter un écart").click()
    page.wait_for_url(f"{base}/admin/charte/ecarts*")
    check("écarts")
    page.get_by_label("Organisation").select_option(label="Ville de Ligérac")
    page.get_by_label("Nom de l'élément").fill("Registre des arbres remarquables")
    page.get_by_label("Justification").fill("Le service des espaces verts est réorganisé ; "
                                            "le responsable sera nommé en comité.")
    page.get_by_label("Expiration").fill((now().date() + timedelta(days=60)).isoformat())
    page.get_by_role("button", name="Enregistrer l'écart").click()
    page.get_by_text("Écart enregistré jusqu'au").wait_for()
    page.goto(f"{base}/admin/charte")
    page.get_by_role("button", name="Évaluer maintenant").click()
    page.get_by_text("écart documenté", exact=True).wait_for()
    page.goto(f"{base}/admin/charte/actions")
    page.get_by_role("heading", name="Inscrire une action").wait_for()
    check("plan d'actions")
    assert violations == {}, violations
