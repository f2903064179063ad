"""The JSON API of findings, decisions, anonymisation, k-anonymity and counts."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from patrimoine.access import service as accounts
from patrimoine.access.models import Account
from patrimoine.bootstrap import Services
from tests.factories import KNOWN_CLASSES_CSV, persons_world


def _token(services: Services, account_id: int | None) -> dict[str, str]:
    with services.db.unit_of_work() as s:
        acc = s.get(Account, account_id)
        _, token = accounts.create_api_token(s, acc, "tests")
    return {"Authorization": f"Bearer {token}"}


def test_findings_decisions_and_anonymisation(client: TestClient, services: Services,
                                              tmp_path: Path) -> None:
    w = persons_world(services, tmp_path)
    dpo, editor, reader = (_token(services, p.account_id)
                           for p in (w.dpo, w.editor, w.reader))
    base = f"/api/v1/datasets/{w.dataset.slug}/versions/1"
    assert client.get(base + "/findings").status_code in (401, 404)
    assert client.get(base + "/findings", headers=reader).status_code == 403
    r = client.get(base + "/findings", headers=editor)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["version"] == 1 and body["sampled_rows"] == 40
    kinds = {(f["column"], f["kind"]) for f in body["findings"]}
    assert ("email", "email") in kinds and len(body["blockers"]) == len(kinds)
    email = next(f for f in body["findings"] if f["column"] == "email")
    assert email["status"] == "undecided" and email["examples"]

    decision = {"column": "email", "kind": "email", "decision": "not_personal",
                "reason": "Adresses de service."}
    r = client.post(base + "/findings/decisions", json=decision, headers=editor)
    assert r.status_code == 403 and "DPO" in r.text
    r = client.post(base + "/findings/decisions", json={**decision, "reason": ""}, headers=dpo)
    assert r.status_code == 422 and "motif" in r.text
    r = client.post(base + "/findings/decisions", json=decision, headers=dpo)
    assert r.status_code == 200, r.text
    email = next(f for f in r.json()["findings"] if f["column"] == "email")
    assert email["status"] == "dismissed"
    assert email["decision"]["decided_by"] == w.dpo.label
    assert email["decision"]["reason"] == "Adresses de service."
    r = client.post(base + "/findings/decisions", headers=editor,
                    json={"column": "prenom", "kind": "name", "decision": "confirmed"})
    assert r.status_code == 200

    r = client.post(base + "/findings/scan", headers=editor)
    assert r.status_code == 200
    statuses = {f["column"]: f["status"] for f in r.json()["findings"]}
    assert statuses["email"] == "dismissed" and statuses["prenom"] == "confirmed"

    plan = {"operations": [
        {"op": "drop", "column": "prenom"}, {"op": "mask", "column": "nom"},
        {"op": "generalise", "column": "date_naissance", "level": "year"},
        {"op": "generalise", "column": "latitude", "level": "grid", "size": 1000}]}
    # Restricted since its first scan found personal data: an agent no longer sees it.
    assert client.post(base + "/anonymise", json=plan, headers=reader).status_code == 404
    r = client.post(base + "/anonymise", json={"operations": [{"op": "x", "column": "nom"}]},
                    headers=editor)
    assert r.status_code == 422 and "opération inconnue" in r.text
    r = client.post(base + "/anonymise", json=plan, headers=editor)
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["version"] == 2 and out["source_version"] == 1
    # Findings all cleared; the birth year and the 1 km grid still single out each person.
    risk = "k-anonymat insuffisant sur date_naissance, latitude, longitude : k = 1"
    assert len(out["blockers"]) == 1 and out["blockers"][0].startswith(risk)
    assert "prenom" not in [c["name"] for c in out["columns"]]
    r = client.get(f"/api/v1/datasets/{w.dataset.slug}/versions/2/findings", headers=dpo)
    assert [b[:len(risk)] for b in r.json()["blockers"]] == [risk]


def test_k_anonymity_and_counts(client: TestClient, services: Services, tmp_path: Path) -> None:
    w = persons_world(services, tmp_path, KNOWN_CLASSES_CSV)
    editor = _token(services, w.editor.account_id)
    base = f"/api/v1/datasets/{w.dataset.slug}/versions/1"
    r = client.get(base + "/k-anonymity?columns=sexe,annee,commune&k=3&worst=2", headers=editor)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["k"], body["classes"], body["classes_below_target"]) == (1, 4, 2)
    assert [c["size"] for c in body["worst"]] == [1, 2]
    r = client.get(base + "/k-anonymity?columns=inconnue", headers=editor)
    assert r.status_code == 422 and "inconnue" in r.text
    r = client.get(base + "/counts?by=commune", headers=editor)
    assert r.status_code == 200
    assert r.json()["threshold"] == 11 and r.json()["suppressed_groups"] == 2
    assert r.json()["groups"] == []  # no suppressed cell shows its group's keys
    from sqlalchemy import select

    from patrimoine.access.audit import AuditEvent
    with services.db.session() as s:
        actions = s.scalars(select(AuditEvent.action)).all()
    assert "dataset.k_anonymity_read" in actions and "dataset.counts_read" in actions
