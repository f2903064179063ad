"""Screenshots of every public portal page over the demo territory, into docs/screenshots.

Only with `--screenshots` (`make screenshots`)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from patrimoine.bootstrap import Services
from patrimoine.core.db import Database
from patrimoine.demo.territory import load_demo
from patrimoine.inventory.models import AccessLevel, LifecycleStage, UpdateFrequency
from patrimoine.portal import usage
from tests import factories as f
from tests.integration.portal.world import load

pytestmark = pytest.mark.e2e

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
COUNTERS = [("Pont de l'Europe", 47.8950, 1.8890), ("Quai du Châtelet", 47.8985, 1.9090),
            ("Avenue de Paris", 47.9150, 1.9050), ("Mail Jean-Jaurès", 47.9050, 1.9150),
            ("Rue de Bourgogne", 47.9005, 1.9180), ("Pont Thinat", 47.8960, 1.9260),
            ("Faubourg Bannier", 47.9200, 1.8980), ("Boulevard Alexandre-Martin", 47.9070, 1.9040)]


def _counters_csv() -> str:
    rng = random.Random(4)
    lines = ["compteur;date;passages;latitude;longitude"]
    for name, lat, lon in COUNTERS:
        base = rng.randint(300, 1500)
        for m in range(12):
            day = date(2025, 1, 1) + timedelta(days=31 * m)
            season = 1 + 0.45 * (1 - abs(m - 6) / 6)
            lines.append(f"{name};{day.replace(day=1).isoformat()};"
                         f"{int(base * season * rng.uniform(.9, 1.1))};{lat};{lon}")
    return "\n".join(lines) + "\n"


def _subsidies_csv() -> str:
    rng = random.Random(7)
    sectors = ["Sport", "Culture", "Solidarité", "Jeunesse", "Environnement"]
    names = ["Club de football", "Chorale des Écoles", "Les Amis du Théâtre", "Vélo Solidaire",
             "Restos du Cœur local", "Jardins partagés", "Maison des jeunes", "Judo club",
             "Harmonie municipale", "Secours populaire", "Ciné-club", "Roller derby"]
    lines = ["association;montant;secteur;date_vote"]
    for i, name in enumerate(names):
        lines.append(f"{name};{rng.randint(4, 120) * 250};{sectors[i % len(sectors)]};"
                     f"2025-{1 + i % 12:02d}-15")
    return "\n".join(lines) + "\n"


def test_portal_screenshots(request: pytest.FixtureRequest, db: Database, services: Services,
                            serve: Any, page: Any, tmp_path: Path) -> None:
    if not request.config.getoption("--screenshots"):
        pytest.skip("screenshots are taken with --screenshots (make screenshots)")
    with db.unit_of_work() as s:
        load_demo(s, password=f.PASSWORD)
        metro = f.organisation(s, "Métropole de Val-de-Loire")
        ville = f.organisation(s, "Ville de Ligérac")
        published = {"access_level": AccessLevel.OPEN, "lifecycle_stage": LifecycleStage.PUBLISHED}
        counters = f.dataset(
            s, metro, "Comptages vélo permanents", theme="Mobilité", licence="etalab-2.0",
            keywords=["vélo", "mobilité douce"], update_frequency=UpdateFrequency.MONTHLY,
            description="Nombre mensuel de **passages de vélos** relevés par les compteurs "
                        "permanents de la métropole.\n\nUn compteur par ligne et par mois.",
            spatial_coverage="Métropole de Val-de-Loire", temporal_start=date(2025, 1, 1),
            temporal_end=date(2025, 12, 31), **published)
        subsidies = f.dataset(
            s, ville, "Subventions aux associations 2025", theme="Vie associative",
            licence="ODbL", keywords=["associations", "subventions"],
            update_frequency=UpdateFrequency.ANNUAL,
            description="Subventions votées par le conseil municipal en 2025.", **published)
    load(services, counters, tmp_path / "comptages.csv", _counters_csv())
    load(services, subsidies, tmp_path / "subventions.csv", _subsidies_csv())
    base = serve()
    OUT.mkdir(parents=True, exist_ok=True)
    with db.unit_of_work() as s:
        # Headless browsers count as robots: the visits are recorded as a visitor's would be.
        for dataset_id, views in ((counters.id, 12), (subsidies.id, 5)):
            for _ in range(views):
                usage.record_view(s, dataset_id)
            usage.record_download(s, dataset_id)

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

    page.goto(f"{base}/datasets/{counters.slug}")
    page.locator("#chart[data-rendered=true]").wait_for()
    page.locator("#map[data-rendered]").wait_for()
    shot("23-portail-jeu-de-donnees")
    page.goto(f"{base}/datasets/{counters.slug}?filtre=compteur:contains:pont&tri=-passages"
              "&type=line&x=date&y=passages&agg=sum#donnees")
    page.locator("#chart[data-rendered=true]").wait_for()
    shot("24-portail-tableau-filtre-et-courbe")
    page.goto(f"{base}/datasets/{subsidies.slug}?type=pie&x=secteur&y=montant&agg=sum#graphique")
    page.locator("#chart[data-rendered=true]").wait_for()
    page.locator("#graphique").screenshot(path=str(OUT / "25-portail-graphique-secteurs.png"))

    page.goto(f"{base}/organisations")
    shot("26-portail-organisations", full=False)
    page.goto(f"{base}/organisations/{metro.slug}")
    shot("27-portail-organisation", full=False)
    page.set_viewport_size({"width": 800, "height": 560})
    page.goto(f"{base}/embed/datasets/{counters.slug}/map")
    page.locator(".map[data-rendered]").wait_for()
    shot("28-portail-carte-integree", full=False)
    assert len(list(OUT.glob("2*-portail-*.png"))) >= 9
