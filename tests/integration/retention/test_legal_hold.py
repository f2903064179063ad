"""Legal holds (gel juridique): held data is never proposed for elimination, destroyed,
purged nor transferred, even under a visa given before the hold; holds are in the audit
log, the dataset's history, the slip, and on the retention pages."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from patrimoine.access.models import AuditEvent, Role
from patrimoine.bootstrap import Services
from patrimoine.core.errors import Conflict, Invalid
from patrimoine.datastore import versions as store
from patrimoine.inventory.models import Dataset, DatasetChange, Organisation
from patrimoine.retention import holds, planner, slips
from patrimoine.retention.apply import apply_plan
from tests.conftest import Cli
from tests.factories import (
    SYSTEM,
    account,
    csrf_of,
    dataset,
    load,
    login,
    retention_world,
    set_rule,
    subscribers_csv,
    write,
)

CLOSED = {"duration": 2, "unit": "years", "start_event": "file_closed",
          "event_date": "2020-01-31", "final_fate": "destruction",
          "legal_reference": "Instruction DAF/DPACI/RES/2009/018"}
TODAY = date(2026, 6, 30)


def _hold(services: Services, entry: Dataset, **kw: Any) -> int:
    with services.db.unit_of_work() as s:
        current = s.get(Dataset, entry.id)
        assert current is not None
        return holds.place_hold(s, SYSTEM, current, **{
            "kind": "litigation", "reason": "Requête n° 2601234 devant le tribunal administratif",
            "starts_on": "2026-03-01", "review_on": "2027-03-01", **kw}).id


def _versions(services: Services, entry: Dataset) -> list[int]:
    with services.db.session() as s:
        current = s.get(Dataset, entry.id)
        assert current is not None
        return [v.number for v in store.list_versions(s, current)]


def _visa(services: Services, slip_id: int) -> None:
    with services.db.unit_of_work() as s:
        slips.record_visa(s, SYSTEM, slip_id, by="Mme Durand, directrice des archives",
                          reference="VISA-2026-17")


def test_held_data_is_neither_proposed_nor_destroyed(services: Services,
                                                     tmp_path: Path) -> None:
    w = retention_world(services)
    with services.db.unit_of_work() as s:
        org = s.get(Organisation, w.org_id)
        assert org is not None
        other = dataset(s, org, "Inscriptions aux ateliers")
    for entry in (w.dataset, other):
        load(services, entry, write(tmp_path, "a.csv", subscribers_csv()))
        load(services, entry, write(tmp_path, "b.csv", subscribers_csv(range(2018, 2022))))
        set_rule(services, entry, **CLOSED)
    # A CADA request on version 1 only holds the item destroying versions 1 and 2.
    _hold(services, w.dataset, kind="cada", version=1, reason="Demande CADA du 12/02/2026",
          review_on=None, ends_on="2026-12-31")
    with services.db.session() as s:
        plan = planner.build_plan(s, services.settings, today=TODAY)
    by_slug = {i.dataset_slug: i for i in plan.items}
    held = by_slug[w.dataset.slug]
    assert held.held and "Demande CADA" in held.held and "version 1" in held.held
    assert by_slug[other.slug].held is None
    with services.db.unit_of_work() as s:
        slip = slips.create_slip(s, services.settings, SYSTEM, w.org_id, today=TODAY)
        assert [i.dataset_id for i in slip.items] == [other.id]
        listed = slips.slip_json(slip)["holds"]
        slip_id = slip.id
    assert [h["dataset"] for h in listed] == [w.dataset.title]
    assert "Demande CADA du 12/02/2026" in listed[0]["held"]
    with services.db.unit_of_work() as s:
        with pytest.raises(Conflict, match="gel juridique"):
            slips.create_slip(s, services.settings, SYSTEM, w.org_id, today=TODAY)
    _visa(services, slip_id)
    with services.db.unit_of_work() as s:
        outcome = apply_plan(s, services.settings, SYSTEM, today=TODAY)
    assert [d["dataset"] for d in outcome.done] == [other.slug]
    assert any(k["dataset"] == w.dataset.slug and "Gel juridique" in k["reason"]
               for k in outcome.skipped)
    assert _versions(services, w.dataset) == [2, 1]


def test_a_hold_placed_after_the_visa_still_wins(services: Services, tmp_path: Path) -> None:
    w = retention_world(services)
    load(services, w.dataset, write(tmp_path, "a.csv", subscribers_csv()))
    set_rule(services, w.dataset, **CLOSED)
    with services.db.unit_of_work() as s:
        slip_id = slips.create_slip(s, services.settings, SYSTEM, w.org_id, today=TODAY).id
    _visa(services, slip_id)
    hold_id = _hold(services, w.dataset)  # the whole dataset
    with services.db.unit_of_work() as s:
        outcome = apply_plan(s, services.settings, SYSTEM, today=TODAY)
    assert outcome.done == [] and "Contentieux" in outcome.skipped[0]["reason"]
    assert _versions(services, w.dataset) == [1]
    with services.db.unit_of_work() as s:
        with pytest.raises(Invalid, match="pourquoi"):
            holds.release_hold(s, SYSTEM, hold_id, "")
        holds.release_hold(s, SYSTEM, hold_id, "Jugement définitif du 20/06/2026")
    with services.db.unit_of_work() as s:
        outcome = apply_plan(s, services.settings, SYSTEM, today=TODAY)
    assert [d["dataset"] for d in outcome.done] == [w.dataset.slug]
    assert _versions(services, w.dataset) == []
    with services.db.session() as s:
        actions = s.scalars(select(AuditEvent.action)).all()
        changes = s.scalars(select(DatasetChange.action)
                            .where(DatasetChange.dataset_id == w.dataset.id)).all()
    assert "retention.hold_placed" in actions and "retention.hold_released" in actions
    assert "legal_hold_placed" in changes and "legal_hold_released" in changes


def test_a_hold_needs_a_reason_and_an_end_or_a_review(services: Services,
                                                      tmp_path: Path) -> None:
    w = retention_world(services)
    load(services, w.dataset, write(tmp_path, "a.csv", subscribers_csv()))
    with pytest.raises(Invalid) as refused:
        _hold(services, w.dataset, kind="procès", reason=" ", review_on=None, version=7)
    errors = " ".join(refused.value.errors)
    assert "Nature du gel inconnue" in errors and "motif" in errors
    assert "date de fin ou une date de réexamen" in errors and "pas de version 7" in errors
    # An ended hold no longer holds; a passed review date does not end it.
    _hold(services, w.dataset, review_on=None, ends_on="2026-04-30")
    _hold(services, w.dataset, kind="audit", reason="Contrôle de la CRC",
          review_on="2026-05-01")
    with services.db.session() as s:
        in_force = holds.holds_in_force(s, TODAY)[w.dataset.id]
        assert [h.kind.value for h in in_force] == ["audit"]
        assert holds.hold_json(in_force[0], TODAY)["review_due"] is True


def test_holds_are_listed_on_the_retention_pages_and_api(
        client: TestClient, services: Services, tmp_path: Path) -> None:
    w = retention_world(services)
    load(services, w.dataset, write(tmp_path, "a.csv", subscribers_csv()))
    set_rule(services, w.dataset, **CLOSED)
    with services.db.unit_of_work() as s:
        org = s.get(Organisation, w.org_id)
        assert org is not None
        account(s, "dpo@ville.fr", roles=[(org, Role.DPO, None)])
    login(client, "dpo@ville.fr")
    url = f"/admin/conservation/jeux/{w.dataset.slug}/gels"
    page = client.get(f"/admin/conservation/jeux/{w.dataset.slug}").text
    r = client.post(url, data={"csrf_token": csrf_of(page), "kind": "cada",
                               "reason": "Demande CADA de M. X", "starts_on": "2026-01-05",
                               "review_on": "2027-01-05", "version": ""},
                    follow_redirects=True)
    assert r.status_code == 200 and "Gel juridique enregistré" in r.text, r.text[-2000:]
    assert "Demande CADA de M. X" in r.text
    index = client.get("/admin/conservation").text
    assert "Gels juridiques" in index and "Demande CADA de M. X" in index
    held = client.get("/api/v1/retention/holds")
    assert held.status_code == 200 and held.json()["holds"][0]["kind"] == "cada"


def test_holds_from_the_command_line(cli: Cli, services: Services, tmp_path: Path) -> None:
    w = retention_world(services)
    load(services, w.dataset, write(tmp_path, "a.csv", subscribers_csv()))
    r = cli("retention", "hold", w.dataset.slug, "--kind", "litigation", "--reason",
            "Requête n° 2601234", "--review", "2027-01-01", "--by", "Service juridique")
    assert r.returncode == 0 and "Gel juridique n° 1 posé" in r.stdout, r.stderr
    r = cli("retention", "hold", w.dataset.slug, "--kind", "x", "--reason", "")
    assert r.returncode != 0 and "Nature du gel inconnue" in r.stderr + r.stdout
    r = cli("retention", "holds", "--json")
    assert r.returncode == 0 and '"in_force": true' in r.stdout
    r = cli("retention", "release", "1", "--reason", "Désistement du requérant")
    assert r.returncode == 0 and "levé" in r.stdout
    r = cli("retention", "holds")
    assert "levé : Désistement du requérant" in r.stdout
