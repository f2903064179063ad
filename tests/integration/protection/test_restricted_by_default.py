"""A new dataset whose first version holds personal data starts restricted, not internal, until
a person who may edit its entry decides (protection/findings/service.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from patrimoine.access.models import AuditEvent, Role
from patrimoine.access.permissions import can_read_dataset
from patrimoine.bootstrap import Services
from patrimoine.core.errors import NotFound
from patrimoine.datastore import versions
from patrimoine.inventory import service as inventory
from patrimoine.inventory.models import AccessLevel, Dataset, DatasetChange
from patrimoine.protection.findings import service as findings
from patrimoine.publication import service as publication
from tests import factories as f
from tests.conftest import Cli


def _world(services: Services) -> tuple[Dataset, int, int]:
    with services.db.unit_of_work() as s:
        org = f.organisation(s)
        entry = f.dataset(s, org, "Bénéficiaires du portage de repas",
                          access_level=AccessLevel.INTERNAL)
        cdo = f.account(s, "cdo@ville.fr", roles=[(org, Role.CHIEF_DATA_OFFICER, None)])
        agent = f.account(s, "agent@ville.fr", roles=[(org, Role.AGENT, None)])
        return entry, cdo.id, agent.id


def _load(services: Services, entry: Dataset, path: Path, by: int) -> None:
    """Loaded as the web loads a file: the version, then its scan."""
    with services.db.unit_of_work() as s:
        dataset = s.get(Dataset, entry.id)
        assert dataset is not None
        publication.add_version(s, services.settings, f.principal(services, by), dataset,
                                path)


def _level(services: Services, entry: Dataset) -> AccessLevel:
    with services.db.session() as s:
        dataset = s.get(Dataset, entry.id)
        assert dataset is not None
        return dataset.access_level


def test_personal_data_in_the_first_version_restricts_the_dataset_until_someone_decides(
        services: Services, tmp_path: Path) -> None:
    entry, cdo, agent = _world(services)
    _load(services, entry, f.write(tmp_path, "usagers.csv", f.persons_csv()), cdo)
    assert _level(services, entry) == AccessLevel.RESTRICTED
    with services.db.session() as s:
        dataset = s.get(Dataset, entry.id)
        assert dataset is not None
        assert not can_read_dataset(f.principal(services, agent), dataset)
        with pytest.raises(NotFound):
            inventory.get_dataset(s, f.principal(services, agent), dataset.slug)
        [change] = s.scalars(select(DatasetChange).where(
            DatasetChange.action == findings.RESTRICTED_ACTION)).all()
        [event] = s.scalars(select(AuditEvent).where(
            AuditEvent.action == f"dataset.{findings.RESTRICTED_ACTION}")).all()
    assert change.changes["access_level"] == ["internal", "restricted"]
    note = change.changes["note"][1]
    assert note.startswith("Données personnelles détectées dans la première version")
    assert "nom" in event.details["columns"] and event.details["note"] == note

    # The chief data officer decides: internal it is; neither a rescan nor the next
    # version's first scan takes that decision back.
    with services.db.unit_of_work() as s:
        dataset = s.get(Dataset, entry.id)
        assert dataset is not None
        data = inventory.dataset_input(dataset).model_copy(
            update={"access_level": AccessLevel.INTERNAL})
        inventory.update_dataset(s, f.principal(services, cdo), dataset, data)
        version = versions.latest_version(s, dataset)
        assert version is not None
        findings.scan_version(s, services.settings, version)
    _load(services, entry, f.write(tmp_path, "usagers2.csv", f.persons_csv(41)), cdo)
    assert _level(services, entry) == AccessLevel.INTERNAL


def test_a_first_version_without_personal_data_leaves_the_dataset_internal(
        services: Services, tmp_path: Path) -> None:
    entry, cdo, _ = _world(services)
    _load(services, entry, f.write(tmp_path, "compteurs.csv", f.LIGERAC_COUNTERS_CSV), cdo)
    assert _level(services, entry) == AccessLevel.INTERNAL


def test_the_command_line_load_scans_a_first_version_and_restricts_it(
        services: Services, cli: Cli, tmp_path: Path) -> None:
    with services.db.unit_of_work() as s:
        f.organisation(s)
    path = f.write(tmp_path, "usagers.csv", f.persons_csv())
    done = cli("datastore", "load", str(path), "--dataset", "usagers")
    assert done.returncode == 0, done.stderr
    assert "le jeu passe en accès restreint" in done.stdout
    again = cli("datastore", "load", str(f.write(tmp_path, "compteurs.csv",
                                                   f.LIGERAC_COUNTERS_CSV)),
                "--dataset", "compteurs", "--json")
    assert json.loads(again.stdout)["access_level"] == "internal"
    with services.db.session() as s:
        levels = dict(s.execute(select(Dataset.slug, Dataset.access_level)).all())
    assert levels == {"usagers": AccessLevel.RESTRICTED, "compteurs": AccessLevel.INTERNAL}
