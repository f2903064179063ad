"""Grants through the JSON API and the back-office pages; the audit journal page."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from patrimoine.access.models import AuditEvent
from patrimoine.core.clock import now
from patrimoine.core.db import Database
from tests.factories import GRANTS_SLUG, GrantsWorld, csrf_of, login


def test_grants_api_create_list_revoke(client: TestClient, db: Database,
                                       world: GrantsWorld) -> None:
    body = {"grantee_kind": "account", "grantee": "alice@autre.fr",
            "purpose": "Évaluation du dispositif",
            "valid_until": (now() + timedelta(days=30)).isoformat(),
            "row_filter": {"column": "commune", "op": "eq", "value": "Lyon"},
            "hidden_columns": ["nom"]}
    refused = world.post(client, "dpo@ville.fr", "/grants", body)
    assert refused.status_code == 403
    assert "donner des accès" in refused.json()["error"]
    created = world.post(client, "cdo@ville.fr", "/grants", body)
    assert created.status_code == 201, created.text
    grant = created.json()
    assert grant["state"] == "active" and grant["hidden_columns"] == ["nom"]
    assert grant["grantee"] == "alice <alice@autre.fr>" and grant["granted_by"].startswith("cdo")
    assert world.get(client, "alice@autre.fr", "/records").json()["total"] == 3
    listed = world.get(client, "dpo@ville.fr", "/grants").json()
    assert [g["id"] for g in listed] == [grant["id"]]
    assert world.get(client, "alice@autre.fr", "/grants").status_code == 403
    bad = world.post(client, "cdo@ville.fr", "/grants", {**body, "purpose": "",
                                                          "hidden_columns": ["salaire"]})
    assert bad.status_code == 422
    revoked = world.post(client, "cdo@ville.fr", f"/grants/{grant['id']}/revoke",
                   {"reason": "Étude terminée"})
    assert revoked.json()["state"] == "revoked"
    assert world.get(client, "alice@autre.fr", "/records").status_code == 404
    missing = world.post(client, "cdo@ville.fr", "/grants/999/revoke", {})
    assert missing.status_code == 404
    with db.unit_of_work() as s:
        actions = [e.action for e in s.scalars(select(AuditEvent).where(
            AuditEvent.action.like("grant.%")).order_by(AuditEvent.id))]
    assert actions == ["grant.create", "grant.revoke"]


def test_access_page_gives_and_revokes(client: TestClient, db: Database,
                                       world: GrantsWorld) -> None:
    login(client, "cdo@ville.fr")
    assert "Accès aux données" in client.get(f"/admin/inventaire/{GRANTS_SLUG}").text
    page = client.get(f"/admin/inventaire/{GRANTS_SLUG}/acces")
    assert page.status_code == 200 and "Aucune autorisation." in page.text
    token = csrf_of(page.text)
    until = (now() + timedelta(days=10)).strftime("%d/%m/%Y")
    form = {"csrf_token": token, "grantee_kind": "organisation", "grantee": "Autre Ville",
            "purpose": "", "valid_until": until, "row_filter": "commune:eq:Paris",
            "hidden_columns": ["montant"]}
    wrong = client.post(f"/admin/inventaire/{GRANTS_SLUG}/acces", data=form)
    assert wrong.status_code == 422 and "Finalité : indiquez pourquoi" in wrong.text
    bad_date = client.post(f"/admin/inventaire/{GRANTS_SLUG}/acces",
                           data={**form, "purpose": "Suivi", "valid_until": "31/02/2030"})
    assert bad_date.status_code == 422 and "Date de fin « 31/02/2030 » invalide" in bad_date.text
    done = client.post(f"/admin/inventaire/{GRANTS_SLUG}/acces", data={**form, "purpose": "Suivi"})
    assert done.status_code == 200 and "Accès donné à Autre Ville." in done.text
    assert "En vigueur" in done.text and "montant" in done.text
    body = world.get(client, "bob@autre.fr", "/records").json()
    assert body["total"] == 2 and "montant" not in body["columns"]
    revoked = client.post(f"/admin/inventaire/{GRANTS_SLUG}/acces/1/revoquer",
                          data={"csrf_token": token, "reason": "Fin"})
    assert "Accès de Autre Ville révoqué." in revoked.text and "Révoquée" in revoked.text
    client.cookies.clear()
    login(client, "referent@ville.fr")  # another department: the entry stays hidden
    assert client.get(f"/admin/inventaire/{GRANTS_SLUG}/acces").status_code == 404


def test_journal_page_filters_pages_and_verifies(client: TestClient, db: Database,
                                                 world: GrantsWorld) -> None:
    for _ in range(3):
        world.get(client, "dpo@ville.fr", "/records")
    login(client, "dpo@ville.fr")
    journal = client.get("/admin/journal", params={"cible": f"dataset:{GRANTS_SLUG}",
                                                   "action": "datastore."})
    assert journal.status_code == 200 and "3 entrées." in journal.text
    assert "href=\"/admin/journal\"" in client.get("/admin").text
    verified = client.post("/admin/journal/verifier", data={"csrf_token": csrf_of(journal.text)})
    assert "Journal intact" in verified.text
    bad = client.get("/admin/journal", params={"du": "hier"})
    assert bad.status_code == 422 and "Date de début « hier » invalide" in bad.text
    client.cookies.clear()
    login(client, "referent@ville.fr")
    assert client.get("/admin/journal").status_code == 403
    assert "href=\"/admin/journal\"" not in client.get("/admin").text
