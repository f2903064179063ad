"""The registers' kernel: references drawn from a counter are distinct under concurrent
writers (run with PATRIMOINE_TEST_DB=postgresql too), start above the numbers in use, skip
a number typed by hand, and are not spent by a dry run or a rolled-back transaction."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

from patrimoine.access import registers
from patrimoine.core.db import Database
from patrimoine.protection import breaches, rights_requests
from patrimoine.protection.register import service as register
from patrimoine.protection.register import spreadsheet
from tests import factories as f

WRITERS = 8


def _breach(organisation_id: int, reference: str | None = None) -> breaches.BreachInput:
    return breaches.BreachInput(
        organisation_id=organisation_id, reference=reference, title="Perte d'un ordinateur",
        natures=["confidentiality"], aware_at=datetime(2026, 3, 2, 9, 30, tzinfo=UTC))


def _together(work: list[threading.Thread]) -> None:
    for t in work:
        t.start()
    for t in work:
        t.join()


def test_concurrent_writers_get_distinct_references(db: Database) -> None:
    with db.unit_of_work() as s:
        org_id = f.organisation(s, "CCAS de Ligérac").id
    start = threading.Barrier(2 * WRITERS)
    errors: list[BaseException] = []
    made: list[str] = []

    def create(kind: str) -> None:
        try:
            with db.unit_of_work() as s:
                start.wait()  # every writer draws while the others' transactions are open
                if kind == "breach":
                    made.append(breaches.create_breach(s, f.SYSTEM, _breach(org_id)).reference)
                else:
                    made.append(rights_requests.create_request(
                        s, f.SYSTEM, rights_requests.RequestInput(
                            organisation_id=org_id, kind="access", requester="Anne",
                            received_on=date(2026, 3, 2))).reference)
        except BaseException as exc:  # reported below, with the references made
            errors.append(exc)

    _together([threading.Thread(target=create, args=(kind,))
               for kind in ("breach", "request") for _ in range(WRITERS)])
    assert errors == []
    assert sorted(made) == sorted([f"VIO-2026-{n:02d}" for n in range(1, WRITERS + 1)]
                                  + [f"DDP-2026-{n:03d}" for n in range(1, WRITERS + 1)])


def test_a_counter_starts_above_the_numbers_in_use_and_skips_those_typed(db: Database) -> None:
    with db.unit_of_work() as s:
        org_id = f.organisation(s).id
        # Entries numbered before the counter existed (or restored from an export).
        breaches.create_breach(s, f.SYSTEM, _breach(org_id, "VIO-2026-07"))
        breaches.create_breach(s, f.SYSTEM, _breach(org_id, "VIO-2026-02"))
    with db.unit_of_work() as s:
        assert breaches.create_breach(s, f.SYSTEM, _breach(org_id)).reference == "VIO-2026-08"
        breaches.create_breach(s, f.SYSTEM, _breach(org_id, "VIO-2026-09"))  # typed by hand
        assert breaches.create_breach(s, f.SYSTEM, _breach(org_id)).reference == "VIO-2026-10"
        other_year = _breach(org_id).model_copy(
            update={"aware_at": datetime(2025, 12, 30, tzinfo=UTC)})
        assert breaches.create_breach(s, f.SYSTEM, other_year).reference == "VIO-2025-01"


def test_nothing_is_spent_by_a_rollback_or_a_dry_run(db: Database) -> None:
    with db.unit_of_work() as s:
        org = f.organisation(s, "CCAS de Ligérac")
        org_id, org_name = org.id, org.name
    s = db.session()
    assert breaches.create_breach(s, f.SYSTEM, _breach(org_id)).reference == "VIO-2026-01"
    s.rollback()
    s.close()
    csv = ("Organisation;Nom du traitement\n"
           f"{org_name};Portage de repas\n{org_name};Cantine scolaire\n").encode()
    with db.unit_of_work() as s:
        plan = spreadsheet.import_register(s, f.SYSTEM, csv, "registre.csv", dry_run=True)
        assert [r["reference"] for r in plan["rows"]] == ["T-0001", "T-0002"]
        assert registers.preview_reference(s, register.ACTIVITIES, org_id) == "T-0001"
    with db.unit_of_work() as s:
        assert breaches.create_breach(s, f.SYSTEM, _breach(org_id)).reference == "VIO-2026-01"
        done = spreadsheet.import_register(s, f.SYSTEM, csv, "registre.csv")
        assert done["created"] == ["T-0001", "T-0002"]
        assert registers.preview_reference(s, register.ACTIVITIES, org_id) == "T-0003"


def test_an_import_numbers_its_new_rows_after_the_references_it_names(db: Database) -> None:
    with db.unit_of_work() as s:
        org = f.organisation(s, "CCAS de Ligérac")
        org_id, org_name = org.id, org.name
    csv = ("Organisation;Référence;Nom du traitement\n"
           f"{org_name};T-0009;Portage de repas\n{org_name};;Cantine scolaire\n").encode()
    with db.unit_of_work() as s:
        plan = spreadsheet.import_register(s, f.SYSTEM, csv, "registre.csv", dry_run=True)
        assert [r["reference"] for r in plan["rows"]] == ["T-0009", "T-0010"]
        done = spreadsheet.import_register(s, f.SYSTEM, csv, "registre.csv")
        assert done["created"] == ["T-0009", "T-0010"]
    with db.unit_of_work() as s:  # the counter goes on from there
        activity = register.create_activity(s, f.SYSTEM, register.ActivityInput(
            organisation_id=org_id, name="État civil"))
        assert activity.reference == "T-0011"
