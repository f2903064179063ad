"""The demo's algorithms register: the four planned algorithms, three published with their
documents, the nursery one linked to a DPIA, the canteen forecast to its dataset, and two
requests (one answered with the four items, one within its month)."""

from __future__ import annotations

import pytest

from patrimoine.access.principal import Principal
from patrimoine.core.db import Database
from patrimoine.transparency import general_interest, requests, service
from patrimoine.transparency.models import AlgorithmStatus

SYSTEM = Principal.system("t")


@pytest.mark.demo
def test_demo_algorithms(db: Database) -> None:
    with db.session() as s:
        found = {a.name: a for a in service.list_algorithms(s, SYSTEM)}
        assert set(found) == {"Tarification solidaire des transports",
                              "Tarification sociale de l'eau",
                              "Attribution des places en crèche",
                              "Prévision des repas des cantines"}
        assert len(service.published_algorithms(s)) == 3
        assert len(found["Tarification solidaire des transports"].documents) == 4
        canteen = found["Prévision des repas des cantines"]
        assert canteen.status == AlgorithmStatus.DRAFT
        assert [d.slug for d in canteen.datasets] == ["frequentation-cantines-scolaires"]
        assert found["Attribution des places en crèche"].dpia_id is not None
        asked = requests.list_requests(s, SYSTEM)
        assert sorted(r.status.value for r in asked) == ["answered", "received"]
        assert not any(requests.clock(r).overdue or requests.clock(r).answered_late
                       for r in asked)
        summary = general_interest.public_summary(s)
        assert sorted(r["state"] for r in summary) == ["En discussion", "Livrées"]
        delivered = next(r for r in summary if r["state"] == "Livrées")
        assert [d["slug"] for d in delivered["datasets"]] == ["parkings-relais-occupation"]
