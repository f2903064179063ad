"""The plan and its application, fate by fate, on real stored data."""

from __future__ import annotations

import json
from datetime import UTC, date, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import select, update

from patrimoine.access.models import AuditEvent
from patrimoine.bootstrap import Services
from patrimoine.core.errors import Conflict, Invalid
from patrimoine.datastore import versions as store
from patrimoine.datastore.engine import open_version
from patrimoine.datastore.models import DatasetVersion
from patrimoine.inventory.models import Dataset, DatasetChange, LifecycleStage
from patrimoine.protection.register import service as register
from patrimoine.protection.register.models import ProcessingActivity
from patrimoine.protection.register.service import ActivityInput
from patrimoine.protection.register.spreadsheet import field_text
from patrimoine.retention import planner, slips
from patrimoine.retention.apply import apply_plan
from patrimoine.retention.models import EliminationSlip, RetentionAction, SlipStatus
from tests.factories import (
    SYSTEM,
    in_years,
    load,
    retention_world,
    set_rule,
    subscribers_csv,
    write,
)


def _plan(services: Services, today: date | None = None) -> planner.Plan:
    with services.db.session() as s:
        return planner.build_plan(s, services.settings, today=today)


def _apply(services: Services, today: date | None = None):  # type: ignore[no-untyped-def]
    with services.db.unit_of_work() as s:
        return apply_plan(s, services.settings, SYSTEM, today=today)


def _versions(services: Services, dataset: Dataset) -> list[DatasetVersion]:
    with services.db.session() as s:
        entry = s.get(Dataset, dataset.id)
        assert entry is not None
        found = store.list_versions(s, entry)
        for v in found:
            s.expunge(v)
        return found


def _slip(services: Services, org_id: int, today: date | None = None) -> int:
    with services.db.unit_of_work() as s:
        return slips.create_slip(s, services.settings, SYSTEM, org_id, today=today).id


def _visa(services: Services, slip_id: int, **kw) -> None:  # type: ignore[no-untyped-def]
    with services.db.unit_of_work() as s:
        slips.record_visa(s, SYSTEM, slip_id, by="Mme Durand, directrice des archives "
                          "départementales", reference="VISA-2026-17", **kw)


def test_nothing_due_before_the_duration(services: Services, tmp_path: Path) -> None:
    w = retention_world(services)
    load(services, w.dataset, write(tmp_path, "donnees.csv", subscribers_csv()))
    set_rule(services, w.dataset, duration=3, unit="years", start_event="created",
             final_fate="destruction")
    plan = _plan(services)
    assert plan.items == []
    assert plan.waiting and plan.waiting[0].next_due is not None


def test_destruction_waits_for_the_visa_then_is_done_and_recorded(
        services: Services, tmp_path: Path) -> None:
    w = retention_world(services)
    v1 = load(services, w.dataset, write(tmp_path, "a.csv", subscribers_csv(range(2015, 2020))))
    load(services, w.dataset, write(tmp_path, "b.csv", subscribers_csv(range(2015, 2022))))
    set_rule(services, w.dataset, duration=1, unit="years", start_event="updated",
             final_fate="destruction", legal_reference="Instruction DPACI/RES/2009/018")
    later = in_years(2)
    plan = _plan(services, later)
    [item] = plan.items
    assert item.action == "destroy_versions" and item.needs_visa and item.versions == [1, 2]
    assert item.blocked and "bordereau" in item.blocked

    # Without a slip, and with a slip not yet visa'd, nothing is destroyed.
    outcome = _apply(services, later)
    assert outcome.done == [] and len(outcome.skipped) == 1
    slip_id = _slip(services, w.org_id, later)
    assert "visa" in (_plan(services, later).items[0].blocked or "")
    assert _apply(services, later).done == []
    assert len(_versions(services, w.dataset)) == 2
    with pytest.raises(Conflict):  # everything due is already on a slip
        _slip(services, w.org_id, later)

    with services.db.session() as s:
        slip = s.get(EliminationSlip, slip_id)
        assert slip is not None and slip.status == SlipStatus.AWAITING_VISA
        data = slips.slip_json(slip)
        [row] = data["items"]
        assert row["service"] == "Ville de Test — Médiathèques"
        assert row["legal_reference"] == "Instruction DPACI/RES/2009/018"
        assert row["fate_label"] == "Destruction" and row["rows"] > 0

    path = services.settings.data_dir / v1.path
    assert path.exists()
    _visa(services, slip_id)
    outcome = _apply(services, later)
    assert [d["action"] for d in outcome.done] == ["destroy_versions"]
    assert _versions(services, w.dataset) == []
    assert not path.exists()
    with services.db.session() as s:
        slip = s.get(EliminationSlip, slip_id)
        assert slip is not None and slip.status == SlipStatus.EXECUTED
        action = s.scalar(select(RetentionAction))
        assert action is not None and action.slip_id == slip_id
        assert action.action == "destroy_versions" and action.fate == "destruction"
        entry = s.get(Dataset, w.dataset.id)
        assert entry is not None and entry.lifecycle_stage == LifecycleStage.DELETED
        actions = {e.action for e in s.scalars(select(AuditEvent))}
        assert {"retention.slip_created", "retention.visa_recorded",
                "retention.versions_destroyed", "retention.slip_executed"} <= actions
        assert s.scalar(select(DatasetChange).where(
            DatasetChange.action == "retention_destroyed")) is not None
    assert _plan(services, later).items == []


def test_refused_visa_blocks_destruction(services: Services, tmp_path: Path) -> None:
    w = retention_world(services)
    load(services, w.dataset, write(tmp_path, "donnees.csv", subscribers_csv()))
    set_rule(services, w.dataset, duration=6, unit="months", start_event="created",
             final_fate="destruction")
    later = in_years(1)
    slip_id = _slip(services, w.org_id, later)
    with pytest.raises(Invalid):
        _visa(services, slip_id, refused=True)  # a refusal needs its reason
    _visa(services, slip_id, refused=True, reason="Données d'intérêt historique")
    [item] = _plan(services, later).items
    assert item.blocked and "refusé" in item.blocked
    assert _apply(services, later).done == []
    with pytest.raises(Conflict):
        _visa(services, slip_id)


def test_row_level_purge_writes_a_new_version_and_destroys_the_old_ones(
        services: Services, tmp_path: Path) -> None:
    w = retention_world(services)
    load(services, w.dataset, write(tmp_path, "a.csv", subscribers_csv(range(2015, 2020))))
    v2 = load(services, w.dataset, write(tmp_path, "b.csv", subscribers_csv(range(2015, 2030))))
    set_rule(services, w.dataset, duration=5, unit="years", start_event="date_column",
             date_column="date_fin_abonnement", final_fate="destruction")
    today = date(2026, 6, 30)
    [item] = _plan(services, today).items
    # Ends up to 2021-06-30 are expired: 2015..2020 (3 each), 2021-01-28 and 2021-06-28.
    assert item.action == "purge_rows" and item.versions == [1, 2]
    assert item.date_start == date(2015, 1, 28) and item.date_end == date(2021, 6, 28)
    slip_id = _slip(services, w.org_id, today)
    _visa(services, slip_id)
    outcome = _apply(services, today)
    [done] = outcome.done
    assert done["details"]["new_version"] == 3 and done["details"]["removed_rows"] == 20
    remaining = _versions(services, w.dataset)
    assert [v.number for v in remaining] == [3]
    assert remaining[0].row_count == v2.row_count - 20
    table = open_version(services.settings, remaining[0])
    with services.db.session() as s:
        entry = s.get(Dataset, w.dataset.id)
        assert entry is not None
        version = store.latest_version(s, entry)
        assert version is not None and version.ingest_settings["retention_purge"]["asof"] \
            == "2026-06-30"
    assert table is not None
    assert _plan(services, today).items == []


def test_row_level_leap_day_boundary(services: Services, tmp_path: Path) -> None:
    w = retention_world(services)
    load(services, w.dataset,
         write(tmp_path, "donnees.csv", "nom,date_fin\nA,2024-02-29\nB,2024-03-01\n"))
    set_rule(services, w.dataset, duration=1, unit="years", start_event="date_column",
             date_column="date_fin", final_fate="destruction")
    # 29 February 2024 + 1 year = 28 February 2025.
    waiting = _plan(services, date(2025, 2, 27))
    assert waiting.items == []
    # The plan says what falls due next: the row of 29 February, tomorrow.
    [entry] = waiting.waiting
    assert entry.next_due == date(2025, 2, 28)
    assert entry.as_json()["next_due"] == "2025-02-28"
    [item] = _plan(services, date(2025, 2, 28)).items
    assert item.rows == 1


def test_versement_exports_a_package_and_marks_the_dataset_archived(
        services: Services, tmp_path: Path) -> None:
    w = retention_world(services)
    load(services, w.dataset, write(tmp_path, "donnees.csv", subscribers_csv()))
    set_rule(services, w.dataset, duration=2, unit="years", start_event="file_closed",
             event_date="2020-01-31", final_fate="archives")
    outcome = _apply(services)  # no visa needed: custody passes to the archives
    [done] = outcome.done
    package = services.settings.data_dir / done["details"]["package"]
    metadata = json.loads((package / "metadata.json").read_text(encoding="utf-8"))
    assert metadata["service_versant"] == "Ville de Test — Médiathèques"
    assert metadata["final_fate"] == "archives" and not metadata["sorting_requested"]
    csv_text = (package / "version-1.csv").read_text(encoding="utf-8")
    assert csv_text.startswith("nom,email,date_fin_abonnement,montant")
    assert len(csv_text.splitlines()) == 31
    assert _versions(services, w.dataset) == []
    with services.db.session() as s:
        entry = s.get(Dataset, w.dataset.id)
        assert entry is not None and entry.lifecycle_stage == LifecycleStage.ARCHIVED
        action = s.scalar(select(RetentionAction))
        assert action is not None and action.action == "transfer"


def test_sorting_flags_the_package(services: Services, tmp_path: Path) -> None:
    w = retention_world(services)
    load(services, w.dataset, write(tmp_path, "donnees.csv", subscribers_csv()))
    set_rule(services, w.dataset, duration=1, unit="days", start_event="relationship_end",
             event_date=(date.today() - timedelta(days=1)).isoformat(), final_fate="tri")
    [done] = _apply(services).done
    metadata = json.loads((services.settings.data_dir / done["details"]["package"]
                           / "metadata.json").read_text(encoding="utf-8"))
    assert metadata["sorting_requested"] is True


def test_event_not_dated_waits(services: Services, tmp_path: Path) -> None:
    w = retention_world(services)
    load(services, w.dataset, write(tmp_path, "donnees.csv", subscribers_csv()))
    set_rule(services, w.dataset, duration=1, unit="years", start_event="relationship_end",
             final_fate="destruction")
    plan = _plan(services, in_years(5))
    assert plan.items == [] and "En attente" in plan.waiting[0].reason


def test_anonymisation_then_originals_eliminated_under_visa(
        services: Services, tmp_path: Path) -> None:
    w = retention_world(services)
    load(services, w.dataset, write(tmp_path, "donnees.csv", subscribers_csv()))
    set_rule(services, w.dataset, duration=1, unit="years", start_event="created",
             final_fate="anonymisation",
             anonymisation=[{"op": "drop", "column": "email"}, {"op": "mask", "column": "nom"}])
    later = in_years(2)
    [item] = _plan(services, later).items
    assert item.action == "anonymise" and not item.needs_visa
    [done] = _apply(services, later).done
    assert done["details"]["anonymised"] == [{"source_version": 1, "version": 2}]
    numbers = [v.number for v in _versions(services, w.dataset)]
    assert numbers == [2, 1]
    [anonymised] = [v for v in _versions(services, w.dataset) if v.number == 2]
    assert "email" not in anonymised.column_names()
    # The original is now due for elimination, under a visa.
    [item] = _plan(services, later).items
    assert item.action == "destroy_versions" and item.versions == [1] and item.needs_visa
    _visa(services, _slip(services, w.org_id, later))
    _apply(services, later)
    assert [v.number for v in _versions(services, w.dataset)] == [2]
    assert _plan(services, later).items == []


def test_processing_activity_rules_govern_linked_datasets(
        services: Services, tmp_path: Path) -> None:
    w = retention_world(services)
    load(services, w.dataset, write(tmp_path, "donnees.csv", subscribers_csv()))
    with services.db.unit_of_work() as s:
        register.create_activity(s, SYSTEM, ActivityInput(
            organisation_id=w.org_id, name="Gestion des abonnés", purpose="Prêts",
            data_categories=[{"category": "identity"}, {"category": "economic_financial"}],
            retention_rules=[
                {"duration": 1, "unit": "years", "start_event": "dernière mise à jour",
                 "final_fate": "destruction", "data_category": "identity"},
                {"duration": 3, "unit": "years", "start_event": "dernière mise à jour",
                 "final_fate": "destruction", "data_category": "economic_financial"},
            ],
            linked_datasets=[w.dataset.slug]))
    # The longest rule (3 years) governs the dataset.
    assert _plan(services, in_years(2)).items == []
    [item] = _plan(services, in_years(4)).items
    assert item.source == "activity" and item.activity_reference
    assert "règle du traitement" in item.rule
    with services.db.session() as s:
        activity = s.scalar(select(ProcessingActivity))
        assert activity is not None


def test_activity_with_unrecognised_start_event_is_reported(
        services: Services, tmp_path: Path) -> None:
    w = retention_world(services)
    load(services, w.dataset, write(tmp_path, "donnees.csv", subscribers_csv()))
    # The register refuses a starting event outside the fixed list…
    with pytest.raises(ValidationError, match="« selon l'humeur » inconnu ; valeurs acceptées"):
        ActivityInput(organisation_id=w.org_id, name="Relations usagers", purpose="Suivi",
                      retention_rules=[{"duration": 1, "unit": "years",
                                        "start_event": "selon l'humeur",
                                        "final_fate": "destruction"}])
    # …but a free text stored before it was a fixed list is reported, not applied.
    with services.db.unit_of_work() as s:
        created = register.create_activity(s, SYSTEM, ActivityInput(
            organisation_id=w.org_id, name="Relations usagers", purpose="Suivi",
            retention_rules=[{"duration": 1, "unit": "years", "start_event": "created",
                              "final_fate": "destruction"}],
            linked_datasets=[w.dataset.slug]))
        s.execute(update(ProcessingActivity).where(ProcessingActivity.id == created.id).values(
            retention_rules=[{"data_category": None, "duration": 1, "unit": "years",
                              "start_event": "selon l'humeur", "final_fate": "destruction",
                              "legal_reference": None}]))
    plan = _plan(services, in_years(3))
    assert plan.items == [] and any("n'est pas reconnu" in p for p in plan.problems)
    with services.db.session() as s:
        legacy = s.get(ProcessingActivity, created.id)
        assert register.describe_retention(legacy.retention_rules[0]) == (
            "1 an à compter de selon l'humeur (événement de départ à revoir)")
        # Still readable (API values, the form and the spreadsheet show the text to correct).
        assert register.current_values(legacy)["retention_rules"][0]["start_event"] == (
            "selon l'humeur")
        assert "à compter de : selon l'humeur" in field_text(legacy, "retention_rules")


def test_register_rule_with_a_usual_wording_is_stored_as_the_event(services: Services) -> None:
    w = retention_world(services)
    with services.db.unit_of_work() as s:
        created = register.create_activity(s, SYSTEM, ActivityInput(
            organisation_id=w.org_id, name="Abonnés", purpose="Suivi",
            retention_rules=[{"duration": 2, "unit": "years",
                              "start_event": "la résiliation de l'abonnement",
                              "final_fate": "destruction"}],
            linked_datasets=[w.dataset.slug]))
        assert created.retention_rules[0]["start_event"] == "relationship_end"


def test_visa_authorises_exactly_what_the_slip_lists(services: Services, tmp_path: Path) -> None:
    from datetime import datetime
    w = retention_world(services)
    load(services, w.dataset, write(tmp_path, "a.csv", subscribers_csv(range(2015, 2018))))
    load(services, w.dataset, write(tmp_path, "b.csv", subscribers_csv(range(2015, 2019))))
    set_rule(services, w.dataset, duration=1, unit="years", start_event="created",
             final_fate="destruction")
    old = datetime.now(UTC) - timedelta(days=800)
    with services.db.unit_of_work() as s:
        s.execute(update(DatasetVersion).where(DatasetVersion.number == 1).values(created_at=old))
    [item] = _plan(services).items
    assert item.versions == [1]
    _visa(services, _slip(services, w.org_id))
    # Before apply runs, version 2 becomes due too: the visa does not cover it.
    with services.db.unit_of_work() as s:
        s.execute(update(DatasetVersion).where(DatasetVersion.number == 2).values(created_at=old))
    outcome = _apply(services)
    assert [d["details"]["destroyed"][0]["version"] for d in outcome.done] == [1]
    assert [s["dataset"] for s in outcome.skipped] == [w.dataset.slug]
    assert [v.number for v in _versions(services, w.dataset)] == [2]
    [item] = _plan(services).items
    assert item.versions == [2] and item.slip is None


def test_ended_activity_is_listed_when_its_time_is_over(services: Services) -> None:
    w = retention_world(services)
    with services.db.unit_of_work() as s:
        activity = register.create_activity(s, SYSTEM, ActivityInput(
            organisation_id=w.org_id, name="Portage de repas", purpose="Livraisons",
            status="ended",
            retention_rules=[{"duration": 2, "unit": "years",
                              "start_event": "la fin du service", "final_fate": "destruction"}],
            linked_applications=["Logiciel de portage"]))
        s.flush()
        ended_on = activity.updated_at.date()
    assert _plan(services).activities == []
    [due] = _plan(services, in_years(3)).activities
    assert due.ended_on == ended_on and due.applications == ["Logiciel de portage"]
    assert due.as_json()["fate_label"] == "Destruction"


def test_destroyed_files_go_with_their_rows_whatever_the_transaction_does(
        services: Services, tmp_path: Path) -> None:
    # Each item runs in a savepoint; a failure after it ends the whole unit of work.
    w = retention_world(services)
    v1 = load(services, w.dataset, write(tmp_path, "a.csv", subscribers_csv(range(2015, 2020))))
    set_rule(services, w.dataset, duration=1, unit="years", start_event="updated",
             final_fate="destruction")
    later = in_years(2)
    _visa(services, _slip(services, w.org_id, later))
    path = services.settings.data_dir / v1.path
    with pytest.raises(RuntimeError, match="panne"), services.db.unit_of_work() as s:
        outcome = apply_plan(s, services.settings, SYSTEM, today=later)
        assert [d["action"] for d in outcome.done] == ["destroy_versions"]
        assert path.exists()  # not before the transaction has ended
        raise RuntimeError("panne avant la validation")
    # PostgreSQL rolls the destruction back with the unit of work; on SQLite, pysqlite
    # committed it when the item's savepoint was released. Either way row and file agree.
    assert path.exists() == bool(_versions(services, w.dataset))
    _apply(services, later)
    assert not path.exists() and _versions(services, w.dataset) == []
