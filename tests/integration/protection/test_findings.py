"""Findings stored per version, decisions kept across rescans, the publication gate."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from patrimoine.access.audit import AuditEvent
from patrimoine.bootstrap import Services
from patrimoine.core.errors import Forbidden, Invalid
from patrimoine.datastore.models import DatasetVersion
from patrimoine.inventory.models import Dataset, DatasetChange
from patrimoine.protection.findings import service
from patrimoine.protection.findings.models import PersonalDataFinding, PersonalDataScan
from patrimoine.protection.gate import publication_blockers
from tests.factories import load, persons_csv, persons_world


def _keys(services: Services, version: DatasetVersion) -> dict[tuple[str, str], str]:
    with services.db.session() as s:
        v = s.get(DatasetVersion, version.id)
        assert v is not None
        return {view.finding.key: view.status for view in service.views(s, v)}


def test_scan_is_stored_with_masked_examples(services: Services, tmp_path: Path) -> None:
    w = persons_world(services, tmp_path)
    with services.db.unit_of_work() as s:
        version = s.get(DatasetVersion, w.version.id)
        views = service.list_findings(s, services.settings, w.dpo, w.dataset, version)
        found = {v.finding.key: v for v in views}
    assert ("email", "email") in found
    assert ("date_naissance", "birth_date") in found
    assert ("prenom", "name") in found
    email = found[("email", "email")].finding
    assert email.share == 1.0 and email.count == 40 and email.sampled == 40
    assert email.examples and all("*" in e for e in email.examples)
    assert not any("jean.martin0@exemple.fr" in e for e in email.examples)
    assert 0 < email.confidence <= 1
    assert all(v.status == "undecided" for v in views)
    with services.db.session() as s:
        assert s.scalar(select(PersonalDataScan).where(
            PersonalDataScan.version_id == w.version.id)).sampled_rows == 40
        events = s.scalars(select(AuditEvent.action)).all()
    assert "personal_data.scanned" in events


def test_gate_blocks_then_passes_after_dpo_decisions(services: Services, tmp_path: Path
                                                     ) -> None:
    w = persons_world(services, tmp_path)
    with services.db.session() as s:
        version = s.get(DatasetVersion, w.version.id)
        # Never scanned and no settings to read the file: blocked, and said why.
        assert "pas encore été analysée" in publication_blockers(s, version)[0]
    with services.db.unit_of_work() as s:
        version = s.get(DatasetVersion, w.version.id)
        reasons = publication_blockers(s, version, services.settings)
        keys = list(_keys_in(s, version))
    assert len(reasons) == len(keys) >= 3
    assert any("« email »" in r and "adresse électronique" in r for r in reasons)
    with services.db.unit_of_work() as s:
        version = s.get(DatasetVersion, w.version.id)
        entry = s.get(Dataset, w.dataset.id)
        for column, kind in keys:
            service.decide(s, w.dpo, entry, version, column, kind, "accepted",
                           "Liste publiée avec l'accord écrit des personnes.")
    with services.db.session() as s:
        version = s.get(DatasetVersion, w.version.id)
        assert publication_blockers(s, version) == []
        history = s.scalars(select(DatasetChange).where(
            DatasetChange.dataset_id == w.dataset.id,
            DatasetChange.action == "personal_data_decision")).all()
        audit = s.scalars(select(AuditEvent).where(
            AuditEvent.action == "personal_data.decided")).all()
    assert len(history) == len(keys) and len(audit) == len(keys)
    assert history[0].actor_label == w.dpo.label
    assert audit[0].details["reason"] == "Liste publiée avec l'accord écrit des personnes."
    assert audit[0].actor_id == w.dpo.account_id


def _keys_in(s, version):  # type: ignore[no-untyped-def]
    return [f.key for f in service.findings_of(s, version)]


def test_confirming_keeps_the_gate_closed(services: Services, tmp_path: Path) -> None:
    w = persons_world(services, tmp_path)
    with services.db.unit_of_work() as s:
        version = s.get(DatasetVersion, w.version.id)
        entry = s.get(Dataset, w.dataset.id)
        service.ensure_scanned(s, services.settings, version)
        service.decide(s, w.editor, entry, version, "email", "email", "confirmed")
        reasons = publication_blockers(s, version)
    assert any("« email »" in r and "confirmée" in r for r in reasons)


def test_only_the_dpo_dismisses(services: Services, tmp_path: Path) -> None:
    w = persons_world(services, tmp_path)
    with services.db.unit_of_work() as s:
        version = s.get(DatasetVersion, w.version.id)
        service.ensure_scanned(s, services.settings, version)
    for who in (w.editor, w.other_dpo, w.reader):
        with services.db.unit_of_work() as s, pytest.raises(Forbidden):
            service.decide(s, who, s.get(Dataset, w.dataset.id),
                           s.get(DatasetVersion, w.version.id), "email", "email",
                           "not_personal", "Adresses de service.")
    with services.db.unit_of_work() as s, pytest.raises(Forbidden):
        service.list_findings(s, services.settings, w.reader, s.get(Dataset, w.dataset.id),
                              s.get(DatasetVersion, w.version.id))
    with services.db.unit_of_work() as s, pytest.raises(Invalid, match="motif"):
        service.decide(s, w.dpo, s.get(Dataset, w.dataset.id),
                       s.get(DatasetVersion, w.version.id), "email", "email", "not_personal")
    with services.db.unit_of_work() as s, pytest.raises(Invalid, match="Aucun constat"):
        service.decide(s, w.dpo, s.get(Dataset, w.dataset.id),
                       s.get(DatasetVersion, w.version.id), "montant", "email", "not_personal",
                       "x")
    with services.db.unit_of_work() as s, pytest.raises(Invalid, match="Décision inconnue"):
        service.decide(s, w.dpo, s.get(Dataset, w.dataset.id),
                       s.get(DatasetVersion, w.version.id), "email", "email", "oublié", "x")
    with services.db.unit_of_work() as s:
        service.decide(s, w.dpo, s.get(Dataset, w.dataset.id),
                       s.get(DatasetVersion, w.version.id), "email", "email", "not_personal",
                       "Adresses de service.")
    assert _keys(services, w.version)[("email", "email")] == "dismissed"


def test_decisions_survive_a_rescan_and_a_new_version(services: Services, tmp_path: Path
                                                      ) -> None:
    w = persons_world(services, tmp_path)
    with services.db.unit_of_work() as s:
        version = s.get(DatasetVersion, w.version.id)
        service.ensure_scanned(s, services.settings, version)
        service.decide(s, w.dpo, s.get(Dataset, w.dataset.id), version, "email", "email",
                       "accepted", "Contacts professionnels publics.")
        service.decide(s, w.editor, s.get(Dataset, w.dataset.id), version, "prenom", "name",
                       "confirmed")
    with services.db.unit_of_work() as s:
        service.scan_version(s, services.settings, s.get(DatasetVersion, w.version.id), w.dpo)
    statuses = _keys(services, w.version)
    assert statuses[("email", "email")] == "dismissed"
    assert statuses[("prenom", "name")] == "confirmed"
    with services.db.session() as s:  # no duplicate rows after a rescan
        assert len(s.scalars(select(PersonalDataFinding).where(
            PersonalDataFinding.version_id == w.version.id)).all()) == len(statuses)
    # A new version with more rows: same keys, same decisions.
    path = tmp_path / "v2.csv"
    path.write_text(persons_csv(60), encoding="utf-8")
    v2 = load(services, w.dataset, path)
    assert v2.number == 2
    with services.db.unit_of_work() as s:
        service.ensure_scanned(s, services.settings, s.get(DatasetVersion, v2.id))
    statuses2 = _keys(services, v2)
    assert statuses2[("email", "email")] == "dismissed"
    assert statuses2[("prenom", "name")] == "confirmed"
    assert statuses2[("date_naissance", "birth_date")] == "undecided"
