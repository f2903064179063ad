"""The sovereignty JSON API: permissions, French validation errors, facets, stats, contracts
with clauses and tests, the reversibility watch, and the OpenAPI document."""

from __future__ import annotations

from fastapi.testclient import TestClient

from patrimoine.access import service as accounts
from patrimoine.access.models import Role
from patrimoine.bootstrap import Services
from tests import factories as f

API = "/api/v1/sovereignty"


def _token(services: Services, email: str, role: Role) -> dict[str, str]:
    with services.db.unit_of_work() as s:
        org = f.organisation(s)
        account = f.account(s, email, roles=[(org, role, None)])
        _, secret = accounts.create_api_token(s, account, "tests")
    return {"Authorization": f"Bearer {secret}"}


def test_applications_and_contracts_through_the_api(client: TestClient, services: Services
                                                    ) -> None:
    admin = _token(services, "dsi@ville.example", Role.ADMINISTRATOR)
    agent = _token(services, "agent@ville.example", Role.AGENT)
    with services.db.session() as s:
        org = f.organisation(s)
        org_id, slug = org.id, org.slug
    body = {"organisation_id": org_id, "name": "Paie", "hosting_mode": "saas",
            "location": "third_country", "sensitivity": "sensible"}
    assert client.post(f"{API}/applications", json=body).status_code == 401
    assert client.post(f"{API}/applications", json=body, headers=agent).status_code == 403
    r = client.post(f"{API}/applications", json=body, headers=admin)
    assert r.status_code == 422
    assert "Indiquez l'hébergeur ou l'éditeur qui héberge l'application." in r.json()["errors"]
    r = client.post(f"{API}/applications", json={**body, "host": "Nuage", "country": "Inde",
                                                 "transfer_tool": "scc"}, headers=admin)
    assert r.status_code == 201, r.json()
    app_id = r.json()["id"]
    r = client.post(f"{API}/applications", json={**body, "name": "Voirie", "location": "france",
                                                 "hosting_mode": "own",
                                                 "sensitivity": "public"}, headers=admin)
    assert r.status_code == 201

    r = client.get(f"{API}/applications", params={"hosting_mode": "saas"}, headers=agent)
    assert [a["name"] for a in r.json()["results"]] == ["Paie"]
    r = client.get(f"{API}/applications", params={"q": "voi"}, headers=agent)
    assert r.json()["total"] == 1 and r.json()["facets"]["location"] == {"france": 1}
    r = client.get(f"{API}/applications", params={"q": "%"}, headers=agent)
    assert r.json()["total"] == 0  # searched literally, not as a wildcard
    detail = client.get(f"{API}/applications/{app_id}", headers=agent).json()
    assert "certification exigée absente : SecNumCloud" in detail["breaches"]
    assert [h["action"] for h in detail["history"]] == ["created"]
    assert client.get(f"{API}/stats", params={"by": "location"}, headers=agent).json()[
        "counts"] == [{"value": "Autre pays tiers", "count": 1}, {"value": "France", "count": 1}]
    breaches = client.get(f"{API}/breaches", headers=agent).json()
    assert [b["name"] for b in breaches] == ["Paie"]
    levels = client.get(f"{API}/organisations/{slug}/levels", headers=agent).json()
    assert [lv["code"] for lv in levels] == ["public", "interne", "personnel", "sensible"]

    contract = {"organisation_id": org_id, "title": "Paie SaaS", "supplier_name": "Nuage",
                "supplier_siret": "73282932000074", "end_date": "2099-01-01",
                "applications": [detail["reference"]]}
    r = client.post(f"{API}/contracts", json={**contract, "supplier_siret": "123"},
                    headers=admin)
    assert r.status_code == 422 and "SIRET « 123 » invalide" in r.json()["errors"][0]
    r = client.post(f"{API}/contracts", json=contract, headers=admin)
    assert r.status_code == 201
    cid = r.json()["id"]
    r = client.put(f"{API}/contracts/{cid}/clauses/reversibilite",
                   json={"status": "present", "article": "CCTP 9"}, headers=admin)
    assert {c["code"]: c["status"] for c in r.json()["clauses"]}["reversibilite"] == "present"
    r = client.post(f"{API}/contracts/{cid}/tests", headers=admin, json={
        "tested_on": "2024-05-02", "formats": ["CSV"], "result": "success"})
    assert r.status_code == 201 and r.json()["tests"][0]["result"] == "success"
    watch = client.get(f"{API}/reversibility-watch", params={"months": 1200},
                       headers=agent).json()
    assert watch == []

    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert f"{API}/applications" in paths and f"{API}/contracts/{{contract_id}}/tests" in paths


def test_out_of_range_numbers_are_refused_in_french(client: TestClient, services: Services
                                                    ) -> None:
    admin = _token(services, "dsi@ville.example", Role.ADMINISTRATOR)
    for path, body in (
            ("applications", {"organisation_id": 2**63, "name": "X", "hosting_mode": "own",
                              "location": "france"}),
            ("contracts", {"organisation_id": 2**63, "title": "X", "supplier_name": "Y"}),
            ("partners", {"organisation_id": 2**63, "name": "X", "siren": "900100017",
                          "kind": "company", "signed_on": "2025-01-01"})):
        r = client.post(f"{API}/{path}", json=body, headers=admin)
        assert r.status_code == 422, (path, r.status_code)
        assert "doit être inférieur ou égal à" in r.json()["errors"][0]
    r = client.get(f"{API}/reversibility-watch", params={"months": 10**9}, headers=admin)
    assert r.status_code == 422
