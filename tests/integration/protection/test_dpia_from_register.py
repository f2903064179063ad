"""The DPIA is judged from the register's own data: the nine criteria proposed from the
activity's fields, the CNIL's list of processing types that always require a DPIA
(deliberation 2018-327) applied (protection/register/criteria.py, protection/dpia.py)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from patrimoine.access import service as accounts
from patrimoine.access.models import Role
from patrimoine.core.db import Database
from tests import factories as f
from tests.factories import full_activity

API = "/api/v1/protection"

PORTAGE: dict[str, Any] = {
    "reference": "T-0107", "name": "Portage de repas à domicile",
    "department": "Centre communal d'action sociale",
    "description": "Livraison de repas adaptés aux régimes des bénéficiaires.",
    "purpose": "Livrer des repas aux personnes âgées ou en perte d'autonomie",
    "sub_purposes": ["Inscription", "Facturation"],
    "data_subjects": ["Bénéficiaires âgés de plus de 65 ans"], "estimated_data_subjects": 240,
    "data_categories": [{"category": "identity"}, {"category": "personal_life",
                                                   "details": "Régime alimentaire"}],
    "special_categories": ["health"], "art9_condition": "h",
    "data_sources": ["data_subject"], "dpia_criteria": [], "dpia_exemption": None,
    "linked_datasets": [], "linked_applications": [], "transfers": [],
    "joint_controllers": [], "processors": [],
    "retention_rules": [{"data_category": "identity", "duration": 2, "unit": "years",
                         "start_event": "relationship_end", "final_fate": "destruction"}],
}


def _dpo(db: Database) -> tuple[dict[str, str], int]:
    with db.unit_of_work() as s:
        org = f.organisation(s)
        account = f.account(s, "dpo@ville.fr", roles=[(org, Role.DPO, None)])
        _, secret = accounts.create_api_token(s, account, "tests")
        return {"Authorization": f"Bearer {secret}"}, org.id


def test_meal_delivery_to_elderly_people_requires_a_dpia_with_no_criterion_ticked(
        client: TestClient, db: Database) -> None:
    headers, org_id = _dpo(db)
    body = full_activity(org_id, **PORTAGE).model_dump(mode="json")
    created = client.post(f"{API}/activities", json=body, headers=headers)
    assert created.status_code == 201, created.text
    found = client.get(f"{API}/activities/{created.json()['id']}", headers=headers).json()
    assessment = found["dpia"]
    assert assessment["state_label"] == "Requise et manquante"
    assert [t["number"] for t in assessment["cnil_list"]] == [13]
    assert "accompagnement social ou médico-social" in assessment["cnil_list"][0]["label"]
    proposed = {p["criterion"]: p["reason"] for p in assessment["proposed"]}
    assert set(proposed) == {"sensitive_data", "vulnerable_persons"}
    assert "données de santé" in proposed["sensitive_data"]
    assert "« âgés de plus de 65 ans »" in proposed["vulnerable_persons"]
    missing = client.get(f"{API}/dpias/missing", headers=headers).json()
    assert [a["reference"] for a in missing] == ["T-0107"]
    page = client.get(f"/admin/protection/traitements/{found['id']}", headers=headers)
    assert "délibération n° 2018-327" in page.text and "Personnes vulnérables" in page.text

    # The DPO confirms the criteria by ticking them: no longer proposed, still required.
    ticked = client.put(f"{API}/activities/{found['id']}", headers=headers,
                        json={**body, "dpia_criteria": ["sensitive_data",
                                                        "vulnerable_persons"]})
    assert ticked.status_code == 200, ticked.text
    again = client.get(f"{API}/activities/{found['id']}", headers=headers).json()["dpia"]
    assert again["proposed"] == [] and again["criteria_count"] == 2
    assert again["state"] == "missing"


def test_a_library_loan_register_entry_needs_no_dpia(client: TestClient, db: Database) -> None:
    headers, org_id = _dpo(db)
    body = full_activity(org_id, **{
        **PORTAGE, "reference": "T-0201", "name": "Prêt de documents de la médiathèque",
        "department": "Culture", "description": "", "purpose": "Prêter des documents",
        "sub_purposes": [], "data_subjects": ["Usagers inscrits"],
        "estimated_data_subjects": 3200, "data_categories": [{"category": "identity"}],
        "special_categories": [], "art9_condition": None}).model_dump(mode="json")
    created = client.post(f"{API}/activities", json=body, headers=headers)
    assert created.status_code == 201, created.text
    assessment = created.json()["dpia"]
    assert assessment["state_label"] == "Non requise"
    assert assessment["proposed"] == [] and assessment["cnil_list"] == []
