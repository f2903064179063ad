"""The publication workflow through the JSON API, with bearer tokens per role."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import select

from patrimoine.access import service as accounts
from patrimoine.access.models import Account
from patrimoine.core.db import Database
from patrimoine.inventory.models import AccessLevel, Dataset, LifecycleStage
from tests.factories import AGENT, CDO, LIGERAC_COUNTERS_CSV, REFERENT, ligerac, login


def _tokens(db: Database, *emails: str) -> dict[str, dict[str, str]]:
    out = {}
    with db.unit_of_work() as s:
        for email in emails:
            account = s.scalars(select(Account).where(Account.email == email)).one()
            _row, secret = accounts.create_api_token(s, account, "tests")
            out[email] = {"Authorization": f"Bearer {secret}"}
    return out


def _csv() -> dict[str, tuple[str, bytes, str]]:
    return {"file": ("comptages.csv", LIGERAC_COUNTERS_CSV.encode("cp1252"), "text/csv")}


def test_api_workflow_with_roles(client: TestClient, db: Database) -> None:
    world = ligerac(db)
    auth = _tokens(db, REFERENT, CDO, AGENT)
    base = f"/api/v1/datasets/{world.slug}"

    # Dry run: the plan, nothing written.
    r = client.post(f"{base}/versions", headers=auth[REFERENT], files=_csv(),
                    data={"dry_run": "true", "overrides": json.dumps(
                        {"types": {"passages": "number", "compteur": "string"}})})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["dry_run"] is True
    plan = body["plan"]
    assert plan["encoding"] == "cp1252" and plan["delimiter"] == ";"
    assert plan["header_row"] == 1 and plan["decimal"] == ","
    assert {c["name"]: c["type"] for c in plan["columns"]}["passages"] == "number"
    assert body["overrides"]["types"] == {"passages": "number"}
    assert len(plan["first_rows"]) == 10 and "path" not in plan
    assert client.get(f"{base}/versions", headers=auth[REFERENT]).json() == []

    # The agent may not load data; nor may an anonymous caller.
    assert client.post(f"{base}/versions", headers=auth[AGENT], files=_csv()).status_code == 403
    assert client.post(f"{base}/versions", files=_csv()).status_code == 401
    assert client.get(f"{base}/publication").status_code == 401

    r = client.post(f"{base}/versions", headers=auth[REFERENT], files=_csv(),
                    data={"overrides": json.dumps({"types": {"passages": "number"}})})
    assert r.status_code == 201, r.text
    version = r.json()["version"]
    assert version["number"] == 1 and version["row_count"] == 60
    assert version["source_filename"] == "comptages.csv"
    assert version["positions"] == {"lat": "latitude", "lon": "longitude"}
    again = client.post(f"{base}/versions", headers=auth[REFERENT], files=_csv(),
                        data={"overrides": json.dumps({"types": {"passages": "number"}})})
    assert again.json()["version"]["unchanged"] is True

    state = client.get(f"{base}/publication", headers=auth[REFERENT]).json()
    assert state["ready"] is True and state["can_prepare"] and not state["can_publish"]
    assert state["licence"] == "etalab-2.0" and state["latest_version"] == 1

    # The referent asks but may not publish; the agent may do neither.
    assert client.post(f"{base}/publish", headers=auth[REFERENT]).status_code == 403
    assert client.post(f"{base}/publish", headers=auth[AGENT]).status_code == 403
    assert client.post(f"{base}/publication-request", headers=auth[AGENT],
                       json={}).status_code == 403
    r = client.post(f"{base}/publication-request", headers=auth[REFERENT],
                    json={"note": "Prêt."})
    assert r.status_code == 200, r.text
    assert r.json()["request"]["note"] == "Prêt." and r.json()["request"]["version"] == 1
    r = client.post(f"{base}/publication-request", headers=auth[REFERENT], json={})
    assert r.status_code == 422 and "déjà en attente" in r.json()["error"]

    r = client.post(f"{base}/publish", headers=auth[CDO])
    assert r.status_code == 200, r.text
    assert r.json()["public"] is True and r.json()["request"] is None
    assert client.get(f"/api/v1/datasets/{world.slug}").json()["access_level"] == "open"
    assert client.post(f"{base}/publish", headers=auth[CDO]).status_code == 422

    r = client.post(f"{base}/unpublish", headers=auth[REFERENT])
    assert r.status_code == 403
    r = client.post(f"{base}/unpublish", headers=auth[CDO])
    assert r.status_code == 200 and r.json()["public"] is False
    assert r.json()["access_level"] == "internal" and r.json()["lifecycle_stage"] == "stored"
    assert [v["number"] for v in client.get(f"{base}/versions", headers=auth[CDO]).json()] == [1]


def test_api_refusals_are_explained(client: TestClient, db: Database) -> None:
    world = ligerac(db, licence="Tous droits réservés")
    auth = _tokens(db, REFERENT, CDO)
    base = f"/api/v1/datasets/{world.slug}"
    r = client.post(f"{base}/publish", headers=auth[CDO])
    assert r.status_code == 422
    errors = r.json()["errors"]
    assert any("Aucune donnée chargée" in e for e in errors)
    assert any("« Tous droits réservés » n'est pas une licence" in e for e in errors)
    r = client.post(f"{base}/versions", headers=auth[REFERENT],
                    data={"overrides": "pas du json"}, files=_csv())
    assert r.status_code == 422 and "overrides" in r.json()["error"]
    r = client.post(f"{base}/versions", headers=auth[REFERENT],
                    data={"overrides": json.dumps({"types": {"passages": "monnaie"}})},
                    files=_csv())
    assert r.status_code == 422 and "type inconnu" in " ".join(r.json()["errors"])
    r = client.post(f"{base}/versions", headers=auth[REFERENT], data={"dry_run": "1"})
    assert r.status_code == 422
    client.app.state.services.settings.max_upload_bytes = 1000  # type: ignore[attr-defined]
    r = client.post(f"{base}/versions", headers=auth[REFERENT], files=_csv())
    assert r.status_code == 413


def test_browser_session_needs_the_csrf_header(client: TestClient, db: Database) -> None:
    world = ligerac(db)
    token = login(client, CDO)
    base = f"/api/v1/datasets/{world.slug}"
    assert client.post(f"{base}/unpublish").status_code == 403
    r = client.post(f"{base}/unpublish", headers={"X-CSRF-Token": token})
    assert r.status_code == 422 and "n'est pas publié" in r.json()["error"]


def test_openapi_documents_the_publication_endpoints(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    paths = spec["paths"]
    assert "post" in paths["/api/v1/datasets/{slug}/versions"]
    upload = paths["/api/v1/datasets/{slug}/versions"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]
    for path in ("/api/v1/datasets/{slug}/publish", "/api/v1/datasets/{slug}/unpublish",
                 "/api/v1/datasets/{slug}/publication-request"):
        assert "post" in paths[path], path
    assert "get" in paths["/api/v1/datasets/{slug}/publication"]


def test_published_state_shows_in_the_inventory(db: Database, client: TestClient) -> None:
    world = ligerac(db)
    auth = _tokens(db, REFERENT, CDO)
    base = f"/api/v1/datasets/{world.slug}"
    client.post(f"{base}/versions", headers=auth[REFERENT], files=_csv())
    client.post(f"{base}/publish", headers=auth[CDO])
    with db.session() as s:
        dataset = s.scalars(select(Dataset).where(Dataset.slug == world.slug)).one()
        assert dataset.access_level == AccessLevel.OPEN
        assert dataset.lifecycle_stage == LifecycleStage.PUBLISHED
    history = client.get(f"{base}/history", headers=auth[CDO]).json()
    assert [h["action"] for h in history][:2] == ["published", "version_published"]


def test_request_is_withdrawn_or_rejected(client: TestClient, db: Database) -> None:
    world = ligerac(db)
    auth = _tokens(db, REFERENT, CDO)
    base = f"/api/v1/datasets/{world.slug}"
    client.post(f"{base}/versions", headers=auth[REFERENT], files=_csv())
    assert client.post(f"{base}/publication-request", headers=auth[REFERENT],
                       json={}).status_code == 200
    r = client.delete(f"{base}/publication-request", headers=auth[REFERENT])
    assert r.status_code == 200 and r.json()["request"] is None
    assert client.delete(f"{base}/publication-request",
                         headers=auth[REFERENT]).status_code == 422
    client.post(f"{base}/publication-request", headers=auth[REFERENT], json={})
    r = client.post(f"{base}/publication-request/reject", headers=auth[REFERENT],
                    json={"reason": "non"})
    assert r.status_code == 403
    r = client.post(f"{base}/publication-request/reject", headers=auth[CDO],
                    json={"reason": "Titre à préciser."})
    assert r.status_code == 200 and r.json()["request"] is None
    actions = [h["action"] for h in client.get(f"{base}/history", headers=auth[CDO]).json()]
    assert actions[:4] == ["publication_rejected", "publication_requested",
                           "publication_withdrawn", "publication_requested"]


def test_spreadsheets_are_previewed(client: TestClient, db: Database) -> None:
    from tests.support.spreadsheets import audit_bytes, audit_rows

    world = ligerac(db)
    auth = _tokens(db, REFERENT)
    for fmt in ("ods", "xlsx"):
        r = client.post(f"/api/v1/datasets/{world.slug}/versions", headers=auth[REFERENT],
                        data={"dry_run": "oui"},
                        files={"file": (f"audit.{fmt}", audit_bytes(fmt, audit_rows(12)),
                                        "application/octet-stream")})
        assert r.status_code == 200, r.text
        plan = r.json()["plan"]
        assert plan["format"] == fmt and len(plan["columns"]) > 5
        assert len(plan["first_rows"]) == 10


def test_api_refuses_rejected_cells_unless_accepted(client: TestClient, db: Database) -> None:
    world = ligerac(db)
    auth = _tokens(db, REFERENT)
    base = f"/api/v1/datasets/{world.slug}"
    lines = ["Compte;Montant"] + [f"C{n};{n}\u00a0000,50" for n in range(1, 150)]
    lines[20] = "C20;N   82 584,28"
    files = {"file": ("balance.csv", ("\n".join(lines) + "\n").encode(), "text/csv")}
    r = client.post(f"{base}/versions", headers=auth[REFERENT], files=files)
    assert r.status_code == 422
    assert "ligne 21, colonne « Montant » : « N   82 584,28 »" in r.json()["error"]
    r = client.post(f"{base}/versions", headers=auth[REFERENT], files=files,
                    data={"accept_rejects": "true"})
    assert r.status_code == 201, r.text
    report = r.json()["version"]["ingest"]
    assert report["records_read"] == report["records_loaded"] == 149
    assert report["rejected_cells"] == [
        {"record": 20, "line": 21, "column": "Montant", "value": "N   82 584,28"}]
