"""Requests for data of general interest: the state machine, its dates and documents, the
datasets received linked to the inventory, the SIREN check, the public summary, the audit."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from patrimoine.access.models import AuditEvent, Role
from patrimoine.access.principal import Principal
from patrimoine.core.db import Database
from patrimoine.core.errors import Forbidden, Invalid
from patrimoine.transparency import general_interest as gi
from patrimoine.transparency.general_interest import GeneralInterestInput
from tests import factories as f

SYSTEM = Principal.system("tests")


def _input(org_id: int, **fields: Any) -> GeneralInterestInput:
    return GeneralInterestInput.model_validate({
        "organisation_id": org_id, "holder": "Délégataire du réseau de bus",
        "holder_kind": "concession_holder", "holder_siren": "243700754",
        "data_asked": "Validations par arrêt et par heure", "basis": "concession",
        "asked_on": date(2026, 1, 10), **fields})


def test_a_request_follows_its_states_to_delivery(db: Database) -> None:
    with db.unit_of_work() as s:
        org = f.organisation(s, "Métropole de Test")
        received = f.dataset(s, org, "Validations du réseau de bus")
        referent = Principal.of(f.account(s, "ref@example.fr",
                                          roles=[(org, Role.DATA_REFERENT, None)]))
        with pytest.raises(Forbidden):
            gi.create_request(s, referent, _input(org.id))
        request = gi.create_request(s, SYSTEM, _input(org.id))
        assert request.reference == "DIG-2026-001" and request.state == gi.State.ASKED
        assert (gi.request_dict(request, SYSTEM)["next_states"]
                == ["in_discussion", "agreed", "refused"])
        gi.update_request(s, SYSTEM, request, _input(
            org.id, state="in_discussion", discussion_on=date(2026, 2, 1)))
        with pytest.raises(Invalid, match="ne passe pas à « livrées »"):
            gi.update_request(s, SYSTEM, request, _input(
                org.id, state="delivered", discussion_on=date(2026, 2, 1),
                decided_on=date(2026, 3, 1), delivered_on=date(2026, 4, 1),
                dataset_ids=[received.id]))
        gi.update_request(s, SYSTEM, request, _input(
            org.id, state="agreed", discussion_on=date(2026, 2, 1), decided_on=date(2026, 3, 1)))
        changed = gi.update_request(s, SYSTEM, request, _input(
            org.id, state="delivered", discussion_on=date(2026, 2, 1),
            decided_on=date(2026, 3, 1), delivered_on=date(2026, 4, 1),
            dataset_ids=[received.id], public=True,
            public_summary="Le délégataire transmet chaque mois les validations."))
        assert {"state", "delivered_on", "datasets", "public"} <= set(changed)
        assert gi.request_input(request).dataset_ids == [received.id]
        with pytest.raises(Invalid, match="c'est un état final"):
            gi.update_request(s, SYSTEM, request, _input(
                org.id, state="refused", decided_on=date(2026, 3, 1)))
        summary = gi.public_summary(s)
        assert [r["holder"] for r in summary] == ["Délégataire du réseau de bus"]
        assert summary[0]["datasets"] == []  # received, but not published yet
        actions = list(s.scalars(select(AuditEvent.action).where(
            AuditEvent.action.startswith("transparency.general_interest"))))
        assert actions.count("transparency.general_interest.updated") == 3


def test_each_state_carries_its_dates_and_documents() -> None:
    with pytest.raises(ValidationError, match="indique la date de livraison"):
        _input(1, state="delivered", decided_on=date(2026, 3, 1), dataset_ids=[1])
    with pytest.raises(ValidationError, match="indique les jeux de données reçus"):
        _input(1, state="delivered", decided_on=date(2026, 3, 1), delivered_on=date(2026, 4, 1))
    with pytest.raises(ValidationError, match="adresse du document signé"):
        _input(1, state="agreed", basis="voluntary", decided_on=date(2026, 3, 1))
    with pytest.raises(ValidationError, match="précède celle de la demande"):
        _input(1, state="refused", decided_on=date(2025, 12, 1))
    with pytest.raises(ValidationError, match="n'est pas un numéro SIREN valide"):
        _input(1, holder_siren="243700755")
    with pytest.raises(ValidationError, match="résumé public"):
        _input(1, public=True)


def test_api_and_public_summary(db: Database, client: Any) -> None:
    from patrimoine.access import service as accounts
    with db.unit_of_work() as s:
        org = f.organisation(s, "Métropole de Test")
        account = f.account(s, "agd@example.fr", roles=[(org, Role.CHIEF_DATA_OFFICER, None)])
        _, secret = accounts.create_api_token(s, account, "tests")
        org_id = org.id
    headers = {"Authorization": f"Bearer {secret}"}
    api = "/api/v1/transparency/general-interest"
    body = _input(org_id).model_dump(mode="json")
    r = client.post(api, json={**body, "holder_siren": "123"}, headers=headers)
    assert r.status_code == 422 and "SIREN" in r.text
    r = client.post(api, json=body, headers=headers)
    assert r.status_code == 201, r.text
    assert "Aucune demande n'est publiée" in client.get("/donnees-interet-general").text
    r = client.put(f"{api}/{r.json()['id']}", headers=headers, json={
        **body, "state": "refused", "decided_on": "2026-02-01", "public": True,
        "public_summary": "Le délégataire invoque le secret des affaires."})
    assert r.status_code == 200 and r.json()["state_label"] == "Refusées"
    page = client.get("/donnees-interet-general").text
    assert "secret des affaires" in page and "Refusées" in page
    assert f"{api}/{{request_id}}" in client.get("/api/v1/openapi.json").json()["paths"]
