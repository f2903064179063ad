"""The demo's application map and contracts, read through the commands and services."""

from __future__ import annotations

import json

import pytest

from patrimoine.access.principal import Principal
from patrimoine.bootstrap import Services
from patrimoine.sovereignty import contracts as ctr
from patrimoine.sovereignty import partners, strategy
from tests.conftest import Cli


@pytest.mark.demo
def test_demo_application_map_and_contracts(services: Services, cli: Cli,
                                            system: Principal) -> None:
    r = cli("applications", "stats", "--by", "location", "--json")
    assert r.returncode == 0, r.stderr
    body = json.loads(r.stdout)
    assert body["total"] == 300
    assert body["counts"] == [
        {"value": "France", "count": 296}, {"value": "Union européenne / EEE", "count": 3},
        {"value": "Pays adéquat", "count": 1}]
    with services.db.unit_of_work() as s:
        breaches = strategy.breaches(s, system)
        assert 2 <= len(breaches) <= 10
        assert any("Cloud Nord-Américain" == b.application.host for b in breaches)
        watched = ctr.reversibility_watch(s, system, months=12)
        assert [w.contract.title for w in watched] == [
            "Hébergement des applications métier", "Logiciel de gestion des aides sociales"]
        assert all(w.reasons[0].startswith("clause de réversibilité absente")
                   for w in watched)
        metropole = watched[0].contract.organisation_id
    r = cli("applications", "breaches", "--json")
    assert r.returncode == 0 and len(json.loads(r.stdout)) == len(breaches)
    with services.db.session() as s:
        signatories = partners.public_signatories(s, metropole)
    assert [p["kind"] for p in signatories] == ["company", "association", "public_body"]
    assert signatories[1]["actions"][1]["year"] == 2025
