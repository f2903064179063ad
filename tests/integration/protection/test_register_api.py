"""The protection API: CRUD of activities, DPIAs, requests and breaches, the register as a
spreadsheet, the dashboard, and who may do what (DPO of several organisations, agents)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient

from patrimoine.access import service as accounts
from patrimoine.access.models import Role
from patrimoine.core.db import Database
from patrimoine.protection.rights_requests import COMPLAINT_MENTION
from tests import factories as f
from tests.factories import full_activity

API = "/api/v1/protection"


def _token(db: Database, email: str, roles: list[tuple[str, Role]]) -> dict[str, str]:
    with db.unit_of_work() as s:
        granted = [(f.organisation(s, name), role, None) for name, role in roles]
        account = f.account(s, email, roles=granted)
        _, secret = accounts.create_api_token(s, account, "tests")
    return {"Authorization": f"Bearer {secret}"}


def _orgs(db: Database) -> dict[str, int]:
    with db.unit_of_work() as s:
        return {name: f.organisation(s, name).id
                for name in ("Commune A", "Commune B", "Commune C")}


def test_crud_and_permissions(client: TestClient, db: Database) -> None:
    orgs = _orgs(db)
    dpo = _token(db, "dpo@mutualise.example", [("Commune A", Role.DPO), ("Commune B", Role.DPO)])
    agent = _token(db, "agent@a.example", [("Commune A", Role.AGENT)])
    admin_c = _token(db, "admin@c.example", [("Commune C", Role.ADMINISTRATOR)])
    body = full_activity(orgs["Commune A"]).model_dump(mode="json")

    # Anonymous and agents cannot write; an agent reads their own register.
    assert client.post(f"{API}/activities", json=body).status_code == 401
    r = client.post(f"{API}/activities", json=body, headers=agent)
    assert r.status_code == 403 and r.json()["error"].startswith("Votre compte n'a pas le droit")
    r = client.post(f"{API}/activities", json=body, headers=dpo)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["reference"] == "T-0001"
    assert created["dpia"]["state"] == "missing" and created["dpia"]["required"]
    assert created["retention"][0] == ("5 ans à compter de la clôture du dossier, puis "
                                       "versement aux archives")
    activity_id = created["id"]
    assert client.get(f"{API}/activities/{activity_id}", headers=agent).status_code == 200
    assert client.get(f"{API}/activities/{activity_id}", headers=admin_c).status_code == 404
    assert client.get(f"{API}/activities", headers=admin_c).json() == []
    assert client.get(f"{API}/activities?organisation=commune-a",
                      headers=admin_c).status_code == 403
    assert client.get(f"{API}/activities").json() == []

    # Update, history, validation errors in French.
    body["name"] = "Gestion des aides"
    r = client.put(f"{API}/activities/{activity_id}", json=body, headers=dpo)
    assert r.status_code == 200 and r.json()["name"] == "Gestion des aides"
    history = client.get(f"{API}/activities/{activity_id}/history", headers=agent).json()
    assert [h["action"] for h in history] == ["updated", "created"]
    bad = {**body, "art9_condition": None}
    r = client.put(f"{API}/activities/{activity_id}", json=bad, headers=dpo)
    assert r.status_code == 422 and "article 9.2" in " ".join(r.json()["errors"])

    # DPIA: missing, then recorded.
    missing = client.get(f"{API}/dpias/missing", headers=dpo).json()
    assert [m["id"] for m in missing] == [activity_id]
    dpia_body = {"started_on": "2026-01-10", "description": "Contexte",
                 "risks": [{"kind": "illegitimate_access", "likelihood": 3, "severity": 3}]}
    assert client.post(f"{API}/activities/{activity_id}/dpias", json=dpia_body,
                       headers=agent).status_code == 403
    r = client.post(f"{API}/activities/{activity_id}/dpias", json=dpia_body, headers=dpo)
    assert r.status_code == 201 and r.json()["risks"][0]["level"] == "high"
    assert client.get(f"{API}/dpias/missing", headers=dpo).json() == []
    assert client.get(f"{API}/dpias/{r.json()['id']}", headers=admin_c).status_code == 404

    # Requests: DPO and managers only; agents see nothing.
    req = {"organisation_id": orgs["Commune A"], "kind": "access", "requester": "Jeanne Martin",
           "received_on": (date.today() - timedelta(days=45)).isoformat()}
    assert client.post(f"{API}/requests", json=req, headers=agent).status_code == 403
    r = client.post(f"{API}/requests", json=req, headers=dpo)
    assert r.status_code == 201 and r.json()["overdue"] is True
    request_id = r.json()["id"]
    assert client.get(f"{API}/requests", headers=agent).json() == []
    assert client.get(f"{API}/requests/{request_id}", headers=agent).status_code == 404
    assert [x["id"] for x in client.get(f"{API}/requests?overdue=true",
                                        headers=dpo).json()] == [request_id]
    refusal = {**req, "status": "refused", "answered_on": date.today().isoformat(),
               "refusal_reason": "Demande répétitive", "answer": "Non."}
    r = client.put(f"{API}/requests/{request_id}", json=refusal, headers=dpo)
    assert r.status_code == 422 and "CNIL" in r.json()["errors"][0]
    refusal["answer"] = f"Non. {COMPLAINT_MENTION}"
    r = client.put(f"{API}/requests/{request_id}", json=refusal, headers=dpo)
    assert r.status_code == 200 and r.json()["answered_late"] is True
    stats = client.get(f"{API}/requests/stats", headers=dpo).json()
    assert stats[0]["count"] == 1 and stats[0]["refused"] == 1

    # Breaches and the dashboard.
    aware = datetime.now(UTC) - timedelta(hours=5)
    breach = {"organisation_id": orgs["Commune B"], "title": "Perte d'une clé USB",
              "aware_at": aware.isoformat(), "natures": ["confidentiality", "availability"],
              "risk": "to_assess", "persons_approx": 300}
    r = client.post(f"{API}/breaches", json=breach, headers=dpo)
    assert r.status_code == 201 and r.json()["notification"] == "running"
    assert 66 < r.json()["hours_left"] <= 67
    assert client.get(f"{API}/breaches", headers=admin_c).json() == []
    board = client.get(f"{API}/dashboard", headers=dpo).json()
    assert [o["organisation"] for o in board["organisations"]] == ["Commune A", "Commune B"]
    assert board["total"]["breaches_within_72h"] == 1
    assert board["total"]["dpia_missing"] == 0 and board["total"]["activities"] == 1
    agent_board = client.get(f"{API}/dashboard", headers=agent).json()
    assert agent_board["organisations"][0]["cases_visible"] is False
    assert agent_board["total"]["requests_open"] == 0

    # Deletion.
    assert client.delete(f"{API}/activities/{activity_id}", headers=agent).status_code == 403
    assert client.delete(f"{API}/activities/{activity_id}", headers=dpo).status_code == 204
    assert client.get(f"{API}/activities/{activity_id}", headers=dpo).status_code == 404


def test_export_and_import_over_the_api(client: TestClient, db: Database) -> None:
    orgs = _orgs(db)
    dpo = _token(db, "dpo@a.example", [("Commune A", Role.DPO)])
    agent = _token(db, "agent@a.example", [("Commune A", Role.AGENT)])
    body = full_activity(orgs["Commune A"]).model_dump(mode="json")
    assert client.post(f"{API}/activities", json=body, headers=dpo).status_code == 201
    for fmt, media in (("xlsx", "spreadsheetml"), ("csv", "text/csv")):
        r = client.get(f"{API}/register/export?organisation=commune-a&format={fmt}", headers=dpo)
        assert r.status_code == 200 and media in r.headers["content-type"]
        assert "registre-commune-a" in r.headers["content-disposition"]
    data = client.get(f"{API}/register/export?organisation=commune-a", headers=dpo).content
    assert client.get(f"{API}/register/export?organisation=commune-b",
                      headers=dpo).status_code == 403
    files = {"file": ("registre.xlsx", data)}
    r = client.post(f"{API}/register/import?dry_run=true", files=files, headers=dpo)
    assert r.status_code == 200 and r.json()["counts"]["unchanged"] == 1, r.text
    r = client.post(f"{API}/register/import", files=files, headers=agent)
    assert r.status_code == 422
    assert "n'a pas le droit" in r.json()["errors"][0]
    with db.unit_of_work() as s:
        f.dataset(s, f.organisation(s, "Commune A"), "Fichier des usagers",
                  contains_personal_data=True)
    r = client.get(f"{API}/datasets/unregistered?organisation=commune-a", headers=dpo)
    assert [d["title"] for d in r.json()] == ["Fichier des usagers"]
    assert client.get(f"{API}/datasets/unregistered?organisation=commune-b",
                      headers=dpo).status_code == 403
    r = client.post(f"{API}/register/import", files={"file": ("vide.csv", b"")}, headers=dpo)
    assert r.status_code == 422 and "vide" in r.json()["error"]
