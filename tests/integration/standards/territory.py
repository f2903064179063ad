"""The demo territory with published versions, shared by the DCAT and CKAN tests.

Built once per test module (the demo takes a few seconds): the demo inventory, plus real
ingested versions on a few public datasets (one with positions, so GeoJSON is offered), one
closed dataset with data, and whatever versions the demo itself already publishes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from patrimoine.bootstrap import Services, bootstrap
from patrimoine.core.settings import Settings
from patrimoine.datastore.ingest import ingest
from patrimoine.demo.loader import load_demo
from patrimoine.interop import public
from patrimoine.inventory.models import AccessLevel, Dataset, LifecycleStage, UpdateFrequency
from tests import factories

TREES_CSV = """essence;hauteur;plantation;commune;latitude;longitude
Platane;21;1990-03-01;Ligérac;47.9010;1.9050
Tilleul;12,5;2001-11-15;Ligérac;47.8990;1.9120
Platane;18;1985-04-20;Belvoir-sur-Loire;47.9150;1.9000
Chêne;25;1970-01-10;Montaigu-la-Rivière;47.9200;1.8800
Érable;9;2015-10-05;Ligérac;47.9050;1.9100
Tilleul;14;1999-02-02;Varennes-les-Saules;47.8800;1.9300
Platane;23;1980-06-30;Ligérac;47.9020;1.9060
"""
BUDGET_CSV = """poste;montant;annee
Voirie;120000;2024
Écoles;80000,50;2024
Culture;45000;2024
"""


@dataclass
class Territory:
    services: Services
    trees: Dataset
    budget: Dataset
    closed: Dataset
    internal: Dataset
    unpublished: Dataset


def build(_templates: object, tmp: Path, public_url: str = "http://testserver") -> Territory:
    url = _templates.new_url(tmp)  # type: ignore[attr-defined]
    settings = Settings(data_dir=tmp / "data", database_url=url, secret_key="test-secret-key",
                        public_url=public_url)
    services = bootstrap(settings)
    with services.db.unit_of_work() as s:
        load_demo(s, password="mot-de-passe-solide")
    with services.db.unit_of_work() as s:
        entries = public.everything(s)
        # Two demo datasets get data: the first public one with positions, another without.
        first, second = entries[0].dataset, entries[1].dataset
        org = first.organisation
        closed = factories.dataset(
            s, org, "Dossiers sociaux nominatifs", theme="Social",
            access_level=AccessLevel.RESTRICTED, lifecycle_stage=LifecycleStage.PUBLISHED,
            licence="etalab-2.0")
        internal = factories.dataset(
            s, org, "Annuaire interne des agents", theme="Administration",
            access_level=AccessLevel.INTERNAL, lifecycle_stage=LifecycleStage.PUBLISHED)
        unpublished = factories.dataset(
            s, org, "Brouillon de jeu ouvert", theme="Culture", access_level=AccessLevel.OPEN,
            lifecycle_stage=LifecycleStage.STORED, licence="etalab-2.0")
        # Every optional field filled on one entry, none on the other.
        first.temporal_start, first.temporal_end = date(2020, 1, 1), date(2025, 12, 31)
        first.spatial_coverage = "Ligérac"
        first.update_frequency = UpdateFrequency.ANNUAL
        first.keywords = ["arbres", "patrimoine arboré"]
        first.licence = "etalab-2.0"
        second.licence = "ODbL"
        ids = (first.id, second.id, closed.id, internal.id, unpublished.id)
    _load(services, ids[0], tmp / "arbres.csv", TREES_CSV)
    _load(services, ids[1], tmp / "budget.csv", BUDGET_CSV)
    _load(services, ids[2], tmp / "secret.csv", "nom;montant\nDupont;12\n")
    with services.db.session() as s:
        found = {d.id: d for d in s.scalars(select(Dataset).where(Dataset.id.in_(ids))
                                            .options(selectinload(Dataset.organisation)))}
    return Territory(services, *(found[i] for i in ids))


def _load(services: Services, dataset_id: int, path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    with services.db.unit_of_work() as s:
        entry = s.get(Dataset, dataset_id)
        assert entry is not None
        ingest(s, services.settings, factories.SYSTEM, entry, path)
