"""The transparency JSON API: the register's CRUD under its permissions, the mention, the
requests with their deadline and answer, and the routes in the OpenAPI schema."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from patrimoine.access import service as accounts
from patrimoine.access.models import Role
from patrimoine.core.db import Database
from tests import factories as f

API = "/api/v1/transparency"


def _token(db: Database, email: str, role: Role) -> dict[str, str]:
    with db.unit_of_work() as s:
        account = f.account(s, email, roles=[(f.organisation(s, "Métropole de Test"), role,
                                              None)])
        _, secret = accounts.create_api_token(s, account, "tests")
    return {"Authorization": f"Bearer {secret}"}


def _body(org_id: int, **fields: Any) -> dict[str, Any]:
    return f.full_algorithm(org_id, **fields).model_dump(mode="json")


def test_algorithms_and_requests_through_the_api(client: TestClient, db: Database) -> None:
    referent = _token(db, "ref@example.fr", Role.DATA_REFERENT)
    chief = _token(db, "agd@example.fr", Role.CHIEF_DATA_OFFICER)
    with db.unit_of_work() as s:
        org_id = f.organisation(s, "Métropole de Test").id

    r = client.post(f"{API}/algorithms", json=_body(org_id), headers=referent)
    assert r.status_code == 403, r.text  # a referent prepares, does not publish
    r = client.post(f"{API}/algorithms", json=_body(org_id, status="draft"), headers=referent)
    assert r.status_code == 201, r.text
    algorithm = r.json()
    assert algorithm["reference"] == "ALG-001" and algorithm["status_label"] == "En préparation"

    incomplete = {**_body(org_id), "appeal": ""}
    r = client.put(f"{API}/algorithms/{algorithm['id']}", json=incomplete, headers=chief)
    assert r.status_code == 422 and "les voies de recours" in r.text
    r = client.put(f"{API}/algorithms/{algorithm['id']}", json=_body(org_id), headers=chief)
    assert r.status_code == 200 and r.json()["status"] == "published"
    assert client.get("/algorithmes.json").json()["algorithms"][0]["reference"] == "ALG-001"

    text = client.get(f"{API}/algorithms/{algorithm['id']}/mention", headers=chief).json()["text"]
    assert f"http://testserver/algorithmes/{algorithm['id']}" in text

    ask = {"algorithm_id": algorithm["id"], "requester": "Camille Martin",
           "received_on": "2026-01-31"}
    assert client.post(f"{API}/requests", json=ask, headers=referent).status_code == 403
    r = client.post(f"{API}/requests", json=ask, headers=chief)
    assert r.status_code == 201, r.text
    assert r.json()["deadline"] == "2026-03-02" and r.json()["reference"] == "DRA-2026-001"
    detail = client.get(f"{API}/requests/{r.json()['id']}", headers=chief).json()
    assert detail["draft_answer"]["operations"].startswith("Le quotient est calculé")

    schema = client.get("/api/v1/openapi.json").json()
    assert {f"{API}/algorithms", f"{API}/algorithms/{{algorithm_id}}", f"{API}/requests",
            f"{API}/algorithms/{{algorithm_id}}/mention"} <= set(schema["paths"])
