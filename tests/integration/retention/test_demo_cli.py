"""The demo's retention content, and the `patrimoine retention` commands on it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from patrimoine.bootstrap import Services
from patrimoine.datastore import versions as store
from patrimoine.inventory.models import Dataset
from patrimoine.retention.models import EliminationSlip, SlipStatus
from tests.conftest import Cli


@pytest.mark.demo
def test_demo_slip_waits_for_visa_then_commands_apply_it(
        services: Services, cli: Cli, tmp_path: Path) -> None:
    with services.db.session() as s:
        slip = s.scalar(select(EliminationSlip))
        assert slip is not None and slip.status == SlipStatus.AWAITING_VISA
        assert [i.description.split(" — ")[0] for i in slip.items] == [
            "Occupation horaire des parkings relais"]
        parkings = s.scalar(select(Dataset).where(Dataset.slug == "parkings-relais-occupation"))
        assert parkings is not None
        before = store.latest_version(s, parkings)
        assert before is not None
        rows_before, number_before = before.row_count, before.number
        slip_id = slip.id

    r = cli("retention", "plan", "--json")
    assert r.returncode == 0, r.stderr
    plan = json.loads(r.stdout)
    [item] = [i for i in plan["items"] if i["dataset_slug"] == "parkings-relais-occupation"]
    assert item["action"] == "purge_rows" and item["slip_status"] == "awaiting_visa"
    assert {w["dataset_slug"] for w in plan["waiting"]} >= {"comptages-velo",
                                                            "subventions-associations"}
    r = cli("retention", "plan")
    assert r.returncode == 0 and "Purge des lignes échues" in r.stdout

    r = cli("retention", "apply")
    assert r.returncode == 0 and "Non fait — parkings-relais-occupation" in r.stdout

    out = tmp_path / "bordereau.xlsx"
    r = cli("retention", "export-slip", str(slip_id), "-o", str(out))
    assert r.returncode == 0, r.stderr
    sheet = load_workbook(out).active
    assert sheet is not None and "Bordereau d'élimination BE-" in str(sheet["A1"].value)

    r = cli("retention", "visa", str(slip_id), "--by", "", "--reference", "X")
    assert r.returncode == 2 and "directeur des archives" in r.stderr
    r = cli("retention", "visa", str(slip_id), "--by", "Mme Lenoir, directrice des archives "
            "départementales", "--reference", "AD-2026-412")
    assert r.returncode == 0 and "visé" in r.stdout.lower()
    r = cli("retention", "apply", "--json")
    assert r.returncode == 0, r.stderr
    [done] = json.loads(r.stdout)["done"]
    assert done["dataset"] == "parkings-relais-occupation" and done["details"]["removed_rows"] > 0

    with services.db.session() as s:
        parkings = s.scalar(select(Dataset).where(Dataset.slug == "parkings-relais-occupation"))
        assert parkings is not None
        after = store.latest_version(s, parkings)
        assert after is not None and after.number == number_before + 1
        assert after.row_count == rows_before - done["details"]["removed_rows"]
        assert [v.number for v in store.list_versions(s, parkings)] == [after.number]

    with services.db.session() as s:
        slip = s.get(EliminationSlip, slip_id)
        assert slip is not None and slip.status == SlipStatus.EXECUTED
    r = cli("retention", "sobriety", "--json")
    assert r.returncode == 0, r.stderr
    figures = json.loads(r.stdout)
    assert sum(v["versions"] for v in figures["volumes"]) >= 12
    r = cli("retention", "rule", "comptages-velo", "--duration", "5", "--unit", "siècles",
            "--start", "created", "--fate", "archives")
    assert r.returncode == 2 and "Unité « siècles »" in r.stderr
    r = cli("retention", "plan", "--organisation", "nulle-part")
    assert r.returncode == 3 and "introuvable" in r.stderr
