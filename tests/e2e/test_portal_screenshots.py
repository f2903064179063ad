"""Screenshots of every public portal page over the demo territory (with its published
datasets), into docs/screenshots.

Only with `--screenshots` (`make screenshots`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from patrimoine.bootstrap import Services
from patrimoine.core.db import Database
from patrimoine.demo.loader import load_demo
from patrimoine.inventory.models import Dataset
from patrimoine.usage import service as usage
from tests import factories as f

pytestmark = pytest.mark.e2e

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# Demo datasets (their slugs are fixed) and how often they were "visited".
VISITS = {"comptages-velo": 40, "arbres-alignement": 25, "subventions-associations": 18,
          "parkings-relais-occupation": 12, "budget-primitif": 9, "toilettes-publiques": 6}


def test_portal_screenshots(request: pytest.FixtureRequest, db: Database, services: Services,
                            serve: Any, page: Any) -> None:
    if not request.config.getoption("--screenshots"):
        pytest.skip("screenshots are taken with --screenshots (make screenshots)")
    with db.unit_of_work() as s:
        load_demo(s, password=f.PASSWORD, settings=services.settings)
        # Headless browsers count as robots: the visits are recorded as a visitor's would be.
        for slug, views in VISITS.items():
            dataset = s.scalars(select(Dataset).where(Dataset.slug == slug)).one()
            usage.add_counts(s, dataset.id, usage.today(), views=views, downloads=1)
    base = serve()
    OUT.mkdir(parents=True, exist_ok=True)

    def shot(name: str, full: bool = True) -> None:
        page.screenshot(path=str(OUT / f"{name}.png"), full_page=full)

    page.goto(base)
    shot("20-portail-accueil")
    page.goto(f"{base}/datasets")
    shot("21-portail-catalogue", full=False)
    page.get_by_label("Rechercher dans le catalogue").fill("velo")
    page.get_by_role("button", name="Rechercher").click()
    page.locator("#facette-carte + ul a").first.click()
    shot("22-portail-recherche-filtres", full=False)

    page.goto(f"{base}/datasets/comptages-velo")
    page.locator("#chart[data-rendered=true]").wait_for()
    page.locator("#map[data-rendered]").wait_for()
    shot("23-portail-jeu-de-donnees")
    page.locator("#informations").screenshot(path=str(OUT / "23-portail-jeu-informations.png"))
    page.locator("#qualite").screenshot(path=str(OUT / "23-portail-jeu-qualite.png"))
    page.goto(f"{base}/datasets/arbres-alignement#carte")
    page.locator("#map[data-rendered]").wait_for()
    page.locator("#carte").screenshot(path=str(OUT / "29-portail-carte-9000-arbres.png"))
    page.goto(f"{base}/datasets/comptages-velo?filtre=compteur:contains:pont&tri=-passages"
              "&type=line&x=date&y=passages&agg=sum&pas=month#donnees")
    page.locator("#chart[data-rendered=true]").wait_for()
    shot("24-portail-tableau-filtre-et-courbe")
    page.goto(f"{base}/datasets/consommations-energie-batiments?type=pie&x=categorie"
              "&y=electricite_kwh&agg=sum#graphique")
    page.locator("#chart[data-rendered=true]").wait_for()
    page.locator("#graphique").screenshot(path=str(OUT / "25-portail-graphique-secteurs.png"))

    page.goto(f"{base}/organisations")
    shot("26-portail-organisations", full=False)
    page.get_by_role("link", name="Ville de Ligérac", exact=True).click()
    shot("27-portail-organisation", full=False)
    page.set_viewport_size({"width": 800, "height": 560})
    page.goto(f"{base}/embed/datasets/bornes-recharge-vehicules-electriques/map")
    page.locator(".map[data-rendered]").wait_for()
    shot("28-portail-carte-integree", full=False)
    assert len(list(OUT.glob("2*-portail-*.png"))) >= 10
