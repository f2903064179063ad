"""Requests for the rules of an algorithmic decision (R311-3-1-2): the one-month deadline of
the rights requests, the four items of the answer, who handles them, an audit without names."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from patrimoine.access.models import AuditEvent, Role
from patrimoine.access.principal import Principal
from patrimoine.core.db import Database
from patrimoine.core.errors import Forbidden, Invalid, NotFound
from patrimoine.transparency import requests, service
from patrimoine.transparency.requests import AlgorithmRequestInput
from tests import factories as f

SYSTEM = Principal.system("tests")


def test_a_request_is_due_in_one_month_and_answered_with_the_four_items(db: Database) -> None:
    with db.unit_of_work() as s:
        org = f.organisation(s, "Métropole de Test")
        used = f.dataset(s, org, "Quotients familiaux")
        algorithm = service.create_algorithm(s, SYSTEM, f.full_algorithm(
            org.id, dataset_ids=[used.id]))
        dpo = Principal.of(f.account(s, "dpo@example.fr", roles=[(org, Role.DPO, None)]))
        referent = Principal.of(f.account(s, "ref@example.fr",
                                          roles=[(org, Role.DATA_REFERENT, None)]))
        asked = AlgorithmRequestInput(algorithm_id=algorithm.id, requester="Camille Martin",
                                      decision="Tarif réduit refusé", received_on=date(2026, 1, 31))
        with pytest.raises(Forbidden):
            requests.create_request(s, referent, asked)
        request = requests.create_request(s, dpo, asked)
        assert request.reference == "DRA-2026-001"
        assert request.organisation_id == org.id
        # 31 January → 28 February 2026, a Saturday → Monday 2 March (as the rights requests).
        assert requests.clock(request, date(2026, 3, 2)).deadline == date(2026, 3, 2)
        assert not requests.clock(request, date(2026, 3, 2)).overdue
        assert requests.clock(request, date(2026, 3, 3)).overdue
        assert requests.list_requests(s, dpo, overdue=True, today=date(2026, 3, 3)) == [request]
        with pytest.raises(NotFound):
            requests.get_request(s, referent, request.id)  # names stay with the keepers

        draft = requests.draft_answer(algorithm)
        assert draft["data_and_sources"] == "Données utilisées : Quotients familiaux."
        assert "Quotient familial (pondération : Détermine la tranche)" in \
            draft["parameters_applied"]
        with pytest.raises(ValidationError, match="il manque : .*appliqués à votre situation"):
            AlgorithmRequestInput.model_validate({
                **asked.model_dump(), "status": "answered", "answered_on": date(2026, 3, 4),
                **{**draft, "parameters_applied": ""}})
        answered = AlgorithmRequestInput.model_validate({
            **asked.model_dump(), "status": "answered", "answered_on": date(2026, 3, 4),
            **draft, "parameters_applied": "Quotient familial : 412 €, tranche 2"})
        assert set(requests.update_request(s, dpo, request, answered)) >= {
            "status", "answered_on", "parameters_applied"}
        c = requests.clock(request)
        assert c.answered_late and not c.overdue and c.days_left is None
        text = requests.answer_text(request)
        assert text.index("1. Le degré") < text.index("2. Les données") < \
            text.index("3. Les paramètres") < text.index("4. Les opérations")
        assert "Quotient familial : 412 €, tranche 2" in text

        details = list(s.scalars(select(AuditEvent.details).where(
            AuditEvent.action.startswith("transparency.request."))))
        assert len(details) == 2 and "Camille" not in str(details)


def test_a_draft_algorithm_takes_no_request_and_dates_are_checked(db: Database) -> None:
    with db.unit_of_work() as s:
        org = f.organisation(s, "Métropole de Test")
        draft = service.create_algorithm(s, SYSTEM, f.full_algorithm(org.id, status="draft"))
        with pytest.raises(Invalid, match="encore en préparation"):
            requests.create_request(s, SYSTEM, AlgorithmRequestInput(
                algorithm_id=draft.id, requester="X", received_on=date(2026, 1, 5)))
    with pytest.raises(ValidationError, match="ne peut précéder la réception"):
        AlgorithmRequestInput(algorithm_id=1, requester="X", received_on=date(2026, 1, 5),
                              status="answered", answered_on=date(2026, 1, 4),
                              **{k: "x" for k in requests.ITEMS})
