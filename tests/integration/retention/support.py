"""A territory with stored data and retention rules, for the retention tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from patrimoine.access.principal import Principal
from patrimoine.bootstrap import Services
from patrimoine.datastore.ingest import ingest
from patrimoine.datastore.models import DatasetVersion
from patrimoine.inventory.models import Dataset
from patrimoine.retention import service as rules
from tests import factories

SYSTEM = Principal.system("tests")


def subscribers_csv(years: range = range(2015, 2025)) -> str:
    lines = ["nom,email,date_fin_abonnement,montant"]
    for i, year in enumerate(years):
        for month in (1, 6, 12):
            lines.append(f"Personne {i}-{month},p{i}.{month}@exemple.fr,"
                         f"{year}-{month:02d}-{28 if month != 12 else 31},{10 + i}")
    return "\n".join(lines) + "\n"


def load(services: Services, tmp_path: Path, dataset: Dataset, text: str,
         name: str = "donnees.csv") -> DatasetVersion:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with services.db.unit_of_work() as s:
        entry = s.get(Dataset, dataset.id)
        assert entry is not None
        version = ingest(s, services.settings, SYSTEM, entry, path)
        s.flush()
        s.expunge(version)
        return version


@dataclass
class World:
    org_id: int
    dataset: Dataset


def world(services: Services, title: str = "Abonnés de la médiathèque") -> World:
    with services.db.unit_of_work() as s:
        org = factories.organisation(s)
        dep = factories.department(s, org, "Médiathèques")
        dataset = factories.dataset(s, org, title, dep)
        s.expunge(dataset)
        return World(org.id, dataset)


def set_rule(services: Services, dataset: Dataset, **rule: Any) -> None:
    with services.db.unit_of_work() as s:
        entry = s.get(Dataset, dataset.id)
        assert entry is not None
        rules.set_rule(s, SYSTEM, entry, rule)


def in_years(n: int) -> date:
    today = date.today()
    return date(today.year + n, today.month, min(today.day, 28))
