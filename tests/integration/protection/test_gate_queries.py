"""The gate's one-query readers agree with its rules: unscanned, unresolved findings
(neither cleared nor dismissed) and confirmed ones keep a version closed to the public;
editors and the DPO read every version."""

from __future__ import annotations

from pathlib import Path

import pytest

from patrimoine.access.principal import Principal
from patrimoine.bootstrap import Services
from patrimoine.core.errors import NotFound
from patrimoine.datastore.models import DatasetVersion
from patrimoine.inventory import service as inventory
from patrimoine.inventory.models import Dataset
from patrimoine.protection import gate
from patrimoine.protection.findings import service as findings
from patrimoine.protection.findings.models import ACCEPTED, CONFIRMED, PersonalDataScan
from tests import factories
from tests.factories import SYSTEM, load, persons_world

CLEAN = "commune,equipement,places\nOrléans,Piscine du Lac,120\nOlivet,Gymnase,80\n"
PUBLIC = Principal.anonymous()


def _numbers(found: list[DatasetVersion]) -> list[int]:
    return [v.number for v in found]


def test_one_query_readers_follow_the_gate(services: Services, tmp_path: Path) -> None:
    world = persons_world(services, tmp_path)  # version 1: names, emails, birth dates
    clean = tmp_path / "propre.csv"
    clean.write_text(CLEAN, encoding="utf-8")
    load(services, world.dataset, clean)  # version 2: nothing personal
    settings = services.settings
    with services.db.unit_of_work() as s:
        entry = s.get(Dataset, world.dataset.id)
        assert entry is not None
        data = inventory.dataset_input(entry).model_copy(update=factories.PUBLIC)
        inventory.update_dataset(s, SYSTEM, entry, data)

    with services.db.unit_of_work() as s:
        entry = s.get(Dataset, world.dataset.id)
        assert entry is not None
        ids = {v.number: v.id for v in s.query(DatasetVersion).filter_by(dataset_id=entry.id)}
        # Never scanned: closed, and without settings nothing is scanned.
        assert gate.closed_versions(s, ids.values()) == {ids[1]: "unscanned",
                                                         ids[2]: "unscanned"}
        assert gate.readable_versions(s, PUBLIC, entry) == []
        with pytest.raises(NotFound):
            gate.readable_version(s, PUBLIC, entry)
        assert s.query(PersonalDataScan).count() == 0
        # With settings the newest version is scanned on the way, and passes.
        assert gate.readable_version(s, PUBLIC, entry, None, settings).number == 2
        assert _numbers(gate.readable_versions(s, PUBLIC, entry, settings)) == [2]
        assert gate.closed_versions(s, [*ids.values(), 999_999]) == {
            ids[1]: "findings", 999_999: "unscanned"}
        with pytest.raises(NotFound):
            gate.readable_version(s, PUBLIC, entry, 1, settings)
        with pytest.raises(NotFound):
            gate.readable_version(s, PUBLIC, entry, 3, settings)
        # Editors and the DPO read every version, findings or not.
        for who in (world.editor, world.dpo):
            assert _numbers(gate.readable_versions(s, who, entry, settings)) == [2, 1]
            assert gate.readable_version(s, who, entry, 1, settings).number == 1

    newer = tmp_path / "propre-2.csv"
    newer.write_text(CLEAN + "Saran,Stade,300\n", encoding="utf-8")
    v3 = load(services, world.dataset, newer)  # version 3: not scanned yet
    assert v3.number == 3
    with services.db.unit_of_work() as s:
        entry = s.get(Dataset, world.dataset.id)
        assert entry is not None
        assert gate.readable_version(s, PUBLIC, entry).number == 2  # no settings: skipped
        assert gate.readable_version(s, PUBLIC, entry, None, settings).number == 3
        assert gate.closed_versions(s, [v3.id]) == {}

    # Version 1's findings: one confirmed (still closed), then every one dismissed by the DPO.
    with services.db.unit_of_work() as s:
        entry = s.get(Dataset, world.dataset.id)
        v1 = s.get(DatasetVersion, ids[1])
        assert entry is not None and v1 is not None
        keys = [f.key for f in findings.findings_of(s, v1)]
        assert keys
        findings.decide(s, world.dpo, entry, v1, *keys[0], CONFIRMED)
    with services.db.unit_of_work() as s:
        entry = s.get(Dataset, world.dataset.id)
        assert entry is not None
        assert gate.closed_versions(s, [ids[1]]) == {ids[1]: "findings"}
        v1 = s.get(DatasetVersion, ids[1])
        assert v1 is not None
        for column, kind in keys:
            findings.decide(s, world.dpo, entry, v1, column, kind, ACCEPTED,
                            "Données publiées par la personne elle-même.")
    with services.db.unit_of_work() as s:
        entry = s.get(Dataset, world.dataset.id)
        assert entry is not None
        assert gate.closed_versions(s, ids.values()) == {}
        assert _numbers(gate.readable_versions(s, PUBLIC, entry, settings)) == [3, 2, 1]
        assert gate.readable_version(s, PUBLIC, entry, 1, settings).number == 1
