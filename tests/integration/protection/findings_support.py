"""A small table of persons loaded as a dataset version, and the principals who act on it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from patrimoine.access.models import Role
from patrimoine.access.principal import Principal
from patrimoine.bootstrap import Services
from patrimoine.datastore.ingest import ingest
from patrimoine.datastore.models import DatasetVersion
from patrimoine.inventory.models import Dataset
from tests import factories

SYSTEM = Principal.system("tests")

FIRST = ["Jean", "Marie", "Pierre", "Sophie", "Luc", "Claire", "Paul", "Julie", "Michel",
         "Anne", "Nicolas", "Isabelle"]
LAST = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
        "Leroy", "Moreau", "Simon", "Laurent"]


def persons_csv(n: int = 40) -> str:
    lines = ["prenom,nom,email,date_naissance,age,code_postal,latitude,longitude,montant"]
    for i in range(n):
        first, last = FIRST[i % len(FIRST)], LAST[(i * 5) % len(LAST)]
        lines.append(
            f"{first},{last},{first.lower()}.{last.lower()}{i}@exemple.fr,"
            f"19{50 + i % 40}-{1 + i % 12:02d}-{1 + i % 28:02d},{20 + i % 50},"
            f"{['45000', '20090', '97411', '13001', '20200'][i % 5]},"
            f"{47.9 + i * 0.00137:.6f},{1.9 + i * 0.00091:.6f},{100 + i}"
        )
    return "\n".join(lines) + "\n"


@dataclass
class World:
    dataset: Dataset
    version: DatasetVersion
    dpo: Principal
    editor: Principal
    other_dpo: Principal
    reader: Principal


def principal(services: Services, account_id: int) -> Principal:
    from patrimoine.access.models import Account
    with services.db.session() as s:
        acc = s.get(Account, account_id)
        assert acc is not None
        return Principal.of(acc)


def world(services: Services, tmp_path: Path, text: str | None = None) -> World:
    path = tmp_path / "usagers.csv"
    path.write_text(text or persons_csv(), encoding="utf-8")
    with services.db.unit_of_work() as s:
        org = factories.organisation(s)
        other = factories.organisation(s, "Commune voisine")
        entry = factories.dataset(s, org, title="Usagers de la médiathèque")
        dpo = factories.account(s, "dpo@ville.fr", roles=[(org, Role.DPO, None)])
        editor = factories.account(s, "cdo@ville.fr",
                                   roles=[(org, Role.CHIEF_DATA_OFFICER, None)])
        other_dpo = factories.account(s, "dpo@voisine.fr", roles=[(other, Role.DPO, None)])
        reader = factories.account(s, "agent@ville.fr", roles=[(org, Role.AGENT, None)])
        version = ingest(s, services.settings, SYSTEM, entry, path)
        ids = dpo.id, editor.id, other_dpo.id, reader.id
    return World(entry, version, *(principal(services, i) for i in ids))


def load(services: Services, dataset: Dataset, path: Path) -> DatasetVersion:
    with services.db.unit_of_work() as s:
        entry = s.get(Dataset, dataset.id)
        assert entry is not None
        return ingest(s, services.settings, SYSTEM, entry, path)
