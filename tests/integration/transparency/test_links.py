"""An algorithm names the contracts it is bought or run under and the applications that run
it: of its own organisation only; the application's and the contract's sheets list it back,
and the public entry and its exports carry the contracts."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient

from patrimoine.access.models import Role
from patrimoine.access.principal import Principal
from patrimoine.bootstrap import Services
from patrimoine.core.errors import Invalid
from patrimoine.sovereignty import applications as apps
from patrimoine.sovereignty import contracts as ctr
from patrimoine.transparency import exports, service
from tests import factories as f

SYSTEM = Principal.system("tests")


def test_links_within_the_organisation(client: TestClient, services: Services) -> None:
    with services.db.unit_of_work() as s:
        org = f.organisation(s, "Métropole de Test")
        other = f.organisation(s, "Autre Ville")
        f.account(s, "agd@metropole.example", roles=[(org, Role.CHIEF_DATA_OFFICER, None)])
        contract = ctr.create_contract(s, SYSTEM, ctr.ContractInput(
            organisation_id=org.id, title="Billettique des transports",
            supplier_name="Éditeur billettique"))
        application = apps.create_application(s, SYSTEM, apps.ApplicationInput(
            organisation_id=org.id, name="Tarification solidaire", hosting_mode="own",
            location="france"))
        foreign = ctr.create_contract(s, SYSTEM, ctr.ContractInput(
            organisation_id=other.id, title="Contrat d'ailleurs", supplier_name="Autre"))
        with pytest.raises(Invalid, match=r"Ces contrats ne sont pas ceux de l'organisation : "
                                          rf"{foreign.id}\."):
            service.create_algorithm(s, SYSTEM, f.full_algorithm(
                org.id, contract_ids=[contract.id, foreign.id]))
        algorithm = service.create_algorithm(s, SYSTEM, f.full_algorithm(
            org.id, contract_ids=[contract.id], application_ids=[application.id]))
        ids = algorithm.id, contract.id, application.id
        assert [c.id for c in algorithm.contracts] == [contract.id]
        entry = service.algorithm_dict(algorithm, SYSTEM)
        assert entry["contracts"] == [{"id": contract.id, "reference": contract.reference,
                                       "title": "Billettique des transports"}]
        assert entry["applications"][0]["name"] == "Tarification solidaire"
        # Unlinking is a change the register records.
        changed = service.update_algorithm(s, SYSTEM, algorithm, f.full_algorithm(
            org.id, contract_ids=[contract.id]))
        assert changed == ["applications"]
        service.update_algorithm(s, SYSTEM, algorithm, f.full_algorithm(
            org.id, contract_ids=[contract.id], application_ids=[application.id]))
    algorithm_id, contract_id, application_id = ids

    f.login(client, "agd@metropole.example")
    for sheet in (f"/admin/souverainete/contrats/{contract_id}",
                  f"/admin/souverainete/applications/{application_id}"):
        assert f'href="/admin/algorithmes/{algorithm_id}"' in client.get(sheet).text
    form = client.get(f"/admin/algorithmes/{algorithm_id}").text
    assert (f'name="contract_ids" value="{contract_id}" checked' in form
            and f'name="application_ids" value="{application_id}" checked' in form)

    client.cookies.clear()
    public = client.get(f"/algorithmes/{algorithm_id}").text
    assert "Billettique des transports" in public
    rows = list(csv.DictReader(io.StringIO(client.get("/algorithmes.csv").text)))
    assert rows[0]["contracts"].endswith(" — Billettique des transports")
    assert [n for n, _ in exports.FIELDS].index("contracts") == \
        [n for n, _ in exports.FIELDS].index("supplier") + 1
