"""A real file of public places through the gate: the scanner's suggestion is stored and
preselected for the DPO, but the version stays blocked until the DPO decides."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from patrimoine.access.models import Account, Role
from patrimoine.access.principal import Principal
from patrimoine.bootstrap import Services
from patrimoine.datastore import versions
from patrimoine.inventory.models import Dataset, Organisation
from patrimoine.protection.findings import service as findings
from patrimoine.publication import service as publication
from tests import factories as f
from tests.factories import REFERENT, ligerac, login

FOUNTAINS = Path(__file__).parents[2] / "corpus" / "files" / "fontaine-eau.csv"
DPO = "dpo@ligerac.fr"


def test_a_fountain_address_is_suggested_and_the_dpo_decides(
        services: Services, client: TestClient) -> None:
    world = ligerac(services.db)
    with services.db.unit_of_work() as s:
        ville = s.get(Organisation, world.org_id)
        assert ville is not None
        f.account(s, DPO, roles=[(ville, Role.DPO, None)])
        referent = Principal.of(s.scalars(select(Account).where(
            Account.email == REFERENT)).one())
        dataset = s.scalars(select(Dataset).where(Dataset.slug == world.slug)).one()
        version = publication.add_version(s, services.settings, referent, dataset, FOUNTAINS)
        stored = findings.findings_of(s, version)
        assert [(x.column, x.kind, x.suggestion, x.severity) for x in stored] == [
            ("adresse", "address", "not_personal", "low")]
        # A suggestion is not a decision: the version stays blocked.
        state = publication.status(s, referent, dataset, services.settings)
        assert any("Colonne « adresse »" in b for b in state.gate)
        number = versions.latest_version(s, dataset).number  # type: ignore[union-attr]
    login(client, DPO)
    page = client.get(f"/admin/inventaire/{world.slug}/donnees-personnelles").text
    assert "Suggestion : pas une donnée personnelle (lieu public)" in page
    assert re.search(r'<option value="not_personal" selected>', page)
    assert "lieu public probable" in page
    assert number == 1
