"""The faces own the unit of work; a service undoes its own partial work with a savepoint,
which must neither commit its caller's work nor undo it (SQLite and PostgreSQL alike)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from patrimoine.access.models import Account
from patrimoine.access.principal import Principal
from patrimoine.bootstrap import Services
from patrimoine.core.db import Database
from patrimoine.core.errors import Invalid
from patrimoine.datastore import versions
from patrimoine.inventory.models import Dataset, Organisation
from patrimoine.publication import service as publication
from tests import factories as f
from tests.factories import CDO, ligerac


def test_a_savepoint_before_the_first_write_commits_nothing(db: Database) -> None:
    s = db.session()
    s.scalar(select(Organisation.id).limit(1))  # a read: the driver has begun nothing yet
    with s.begin_nested():
        f.organisation(s, "Ville de Savepoint")
    s.rollback()
    s.close()
    with db.session() as s:
        assert s.scalar(select(Organisation).where(Organisation.name == "Ville de Savepoint")
                        ) is None


def test_a_refused_version_keeps_the_callers_other_work(services: Services,
                                                        tmp_path: Path) -> None:
    world = ligerac(services.db)
    clean, leaky = tmp_path / "propre.csv", tmp_path / "fuite.csv"
    clean.write_text("club;montant\n" + "".join(f"Club {i};{i}\n" for i in range(40)), "utf-8")
    leaky.write_text("club;contact\n" + "".join(f"Club {i};president{i}@club{i}.fr\n"
                                                  for i in range(40)), "utf-8")
    with services.db.unit_of_work() as s:
        dataset = s.scalars(select(Dataset).where(Dataset.slug == world.slug)).one()
        cdo = Principal.of(s.scalars(select(Account).where(Account.email == CDO)).one())
        publication.add_version(s, services.settings, cdo, dataset, clean)
        publication.publish(s, cdo, dataset, services.settings)
    with services.db.unit_of_work() as s:
        dataset = s.scalars(select(Dataset).where(Dataset.slug == world.slug)).one()
        dataset.description = "Décrit juste avant l'envoi refusé."
        with pytest.raises(Invalid, match="contrôle des données personnelles"):
            publication.add_version(s, services.settings, cdo, dataset, leaky)
        # The face decides: it keeps what was done before the refused version.
    with services.db.session() as s:
        dataset = s.scalars(select(Dataset).where(Dataset.slug == world.slug)).one()
        assert dataset.description == "Décrit juste avant l'envoi refusé."
        assert [v.number for v in versions.list_versions(s, dataset)] == [1]
