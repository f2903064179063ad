"""A small published territory for the portal tests: real datasets, real ingested versions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from patrimoine.bootstrap import Services
from patrimoine.datastore.ingest import ingest
from patrimoine.inventory.models import AccessLevel, Dataset, LifecycleStage, UpdateFrequency
from tests import factories

COUNTERS_CSV = """compteur;date;passages;latitude;longitude
Pont Royal;2025-01-01;1200;47.9010;1.9050
Pont Royal;2025-02-01;1350;47.9010;1.9050
Quai Châtelet;2025-01-01;800;47.8990;1.9120
Quai Châtelet;2025-02-01;950;47.8990;1.9120
Avenue de Paris;2025-01-01;400;47.9150;1.9000
Avenue de Paris;2025-02-01;450;47.9150;1.9000
"""
SUBSIDIES_CSV = """association;montant;secteur
Club de football;1500,50;Sport
Chorale des Écoles;800;Culture
Les Amis du Théâtre;2300;Culture
Vélo Solidaire;1200;Sport
"""


@dataclass
class World:
    counters: Dataset
    subsidies: Dataset
    canteen: Dataset
    internal: Dataset
    closed: Dataset
    stored: Dataset
    org_slug: str
    other_org_slug: str


def build(services: Services, tmp_path: Path) -> World:
    with services.db.unit_of_work() as s:
        metro = factories.organisation(s, "Métropole du Val")
        ville = factories.organisation(s, "Ville de Test")
        published = {"access_level": AccessLevel.OPEN, "lifecycle_stage": LifecycleStage.PUBLISHED}
        counters = factories.dataset(
            s, metro, "Comptages vélo", theme="Mobilité", licence="etalab-2.0",
            keywords=["vélo", "comptage"], update_frequency=UpdateFrequency.MONTHLY,
            description="Passages de **vélos** aux compteurs permanents.",
            spatial_coverage="Métropole du Val", temporal_start=date(2025, 1, 1),
            temporal_end=date(2025, 12, 31), **published)
        subsidies = factories.dataset(
            s, ville, "Subventions aux associations", theme="Vie associative",
            licence="ODbL", keywords=["associations"],
            description="Montants votés en 2025. <script>alert(1)</script>", **published)
        canteen = factories.dataset(
            s, ville, "Fréquentation des cantines scolaires", theme="Éducation",
            licence="Licence Ouverte 2.0", keywords=["école"], **published)
        internal = factories.dataset(
            s, ville, "Annuaire interne des agents", theme="Ressources humaines",
            access_level=AccessLevel.INTERNAL, lifecycle_stage=LifecycleStage.PUBLISHED)
        closed = factories.dataset(
            s, ville, "Dossiers sociaux confidentiels", theme="Social",
            access_level=AccessLevel.RESTRICTED, lifecycle_stage=LifecycleStage.PUBLISHED)
        stored = factories.dataset(
            s, ville, "Énergie brouillon non publié", theme="Énergie",
            access_level=AccessLevel.OPEN, lifecycle_stage=LifecycleStage.STORED)
        world = World(counters, subsidies, canteen, internal, closed, stored, metro.slug,
                      ville.slug)
    load(services, counters, tmp_path / "compteurs.csv", COUNTERS_CSV)
    load(services, subsidies, tmp_path / "subventions.csv", SUBSIDIES_CSV)
    load(services, closed, tmp_path / "secret.csv", "nom;montant\nDupont;12\n")
    return world


def load(services: Services, dataset: Dataset, path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    with services.db.unit_of_work() as s:
        entry = s.get(Dataset, dataset.id)
        assert entry is not None
        ingest(s, services.settings, factories.SYSTEM, entry, path)
