"""The bordereau d'élimination names the archives service it is addressed to, the medium
and the destruction method, on its page, in its JSON and in its XLSX."""

from __future__ import annotations

import io
from pathlib import Path

from openpyxl import load_workbook

from patrimoine.bootstrap import Services
from patrimoine.inventory.models import Organisation
from patrimoine.retention import slips
from tests.factories import SYSTEM, load, retention_world, set_rule, subscribers_csv, write


def test_slip_names_the_archives_service_medium_and_method(services: Services,
                                                           tmp_path: Path) -> None:
    services.settings.archives_service = "Archives départementales du Loiret"
    w = retention_world(services)
    load(services, w.dataset, write(tmp_path, "a.csv", subscribers_csv()))
    set_rule(services, w.dataset, duration=2, unit="years", start_event="file_closed",
             event_date="2020-01-31", final_fate="destruction")
    with services.db.unit_of_work() as s:
        slip = slips.create_slip(s, services.settings, SYSTEM, w.org_id)
        data = slips.slip_json(slip)
        org = s.get(Organisation, w.org_id)
        assert org is not None
        book = load_workbook(io.BytesIO(slips.slip_xlsx(slip, org)))
    assert data["archives_service"] == "Archives départementales du Loiret"
    assert data["medium"].startswith("Électronique")
    assert "copies dérivées" in data["destruction_method"]
    cells = " ".join(str(c.value) for row in book.active.iter_rows() for c in row if c.value)
    assert "adressé à : Archives départementales du Loiret" in cells
    assert "Mode de destruction : Effacement" in cells and "Support : Électronique" in cells
