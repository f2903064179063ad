"""Charter partners: SIREN check, one signature per SIREN, yearly actions, who may edit,
and the public list of signatories (anonymous, without internal references)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from patrimoine.access import service as accounts
from patrimoine.access.models import Role
from patrimoine.bootstrap import Services
from tests import factories as f

API = "/api/v1/sovereignty"


def test_partners_through_the_api(client: TestClient, services: Services) -> None:
    with services.db.unit_of_work() as s:
        org = f.organisation(s)
        tokens = {}
        for email, role in (("cdo@ville.example", Role.CHIEF_DATA_OFFICER),
                            ("dpo@ville.example", Role.DPO)):
            account = f.account(s, email, roles=[(org, role, None)])
            _, secret = accounts.create_api_token(s, account, "tests")
            tokens[role] = {"Authorization": f"Bearer {secret}"}
        org_id, slug = org.id, org.slug
    cdo, dpo = tokens[Role.CHIEF_DATA_OFFICER], tokens[Role.DPO]
    body = {"organisation_id": org_id, "name": "Coopérative des mobilités",
            "siren": "900 100 017", "kind": "company", "signed_on": "2024-03-12",
            "document": "GED-2024-0312.pdf", "commitments": "Ouvrir ses données de trafic."}
    assert client.post(f"{API}/partners", json=body, headers=dpo).status_code == 403
    r = client.post(f"{API}/partners", json={**body, "siren": "900100018",
                                             "renewal_on": "2020-01-01"}, headers=cdo)
    assert r.status_code == 422
    assert r.json()["errors"] == [
        "SIREN « 900100018 » invalide : 9 chiffres dont la clé de contrôle doit être juste.",
        "Le renouvellement précède la signature."]
    r = client.post(f"{API}/partners", json=body, headers=cdo)
    assert r.status_code == 201 and r.json()["siren"] == "900100017"
    partner_id = r.json()["id"]
    r = client.post(f"{API}/partners", json={**body, "name": "Doublon"}, headers=cdo)
    assert r.status_code == 422 and "déjà signé" in r.json()["error"]
    client.post(f"{API}/partners", headers=cdo, json={
        **body, "name": "Association discrète", "siren": "900100025", "kind": "association",
        "public": False})
    r = client.post(f"{API}/partners/{partner_id}/actions", headers=cdo,
                    json={"year": 2023, "description": "Avant la signature"})
    assert r.status_code == 422 and "précède la signature" in r.json()["error"]
    r = client.post(f"{API}/partners/{partner_id}/actions", headers=cdo,
                    json={"year": 2025, "description": "Jeu de données des trajets publié."})
    assert r.status_code == 201

    assert len(client.get(f"{API}/organisations/{slug}/partners", headers=dpo).json()) == 2
    assert client.get(f"{API}/organisations/{slug}/partners").status_code == 401
    public = client.get(f"{API}/organisations/{slug}/signatories").json()
    assert public == [{
        "name": "Coopérative des mobilités", "siren": "900100017", "kind": "company",
        "kind_label": "Entreprise", "signed_on": "2024-03-12",
        "commitments": "Ouvrir ses données de trafic.", "renewal_on": None,
        "actions": [{"year": 2025, "description": "Jeu de données des trajets publié."}]}]
