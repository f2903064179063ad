"""The register, DPIAs, requests and breaches through their services: history and audit,
the DPIA state, the mutualised DPO's scope, overdue requests and the 72-hour clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from patrimoine.access.models import AuditEvent, Role
from patrimoine.access.principal import Principal
from patrimoine.core.db import Database
from patrimoine.core.errors import Forbidden, Invalid, NotFound
from patrimoine.protection import breaches, dpia, rights_requests
from patrimoine.protection.dpia import DpiaInput, DpiaState
from patrimoine.protection.register import service as register
from patrimoine.protection.register.service import ActivityInput
from patrimoine.protection.rights_requests import COMPLAINT_MENTION, RequestInput
from tests import factories as f
from tests.factories import full_activity

SYSTEM = Principal.system("tests")


def test_activity_history_audit_and_dpia_state(db: Database) -> None:
    with db.unit_of_work() as s:
        org = f.organisation(s, "CCAS de Test")
        data = full_activity(org.id)
        activity = register.create_activity(s, SYSTEM, data)
        assert register.activity_input(activity) == data
        assert dpia.assess(activity).state == DpiaState.MISSING
        assert [a.id for a in dpia.missing_dpias(s, SYSTEM)] == [activity.id]

        changed = register.update_activity(s, SYSTEM, activity, ActivityInput.model_validate(
            {**data.model_dump(), "name": "Aides facultatives",
             "dpia_criteria": ["vulnerable_persons"]}))
        assert set(changed) == {"name", "dpia_criteria"}
        # One criterion with special-category data: still required.
        assert dpia.assess(activity).required
        unchanged = register.activity_input(activity)
        assert register.update_activity(s, SYSTEM, activity, unchanged) == {}
        history = register.history(s, SYSTEM, activity)
        assert [h.action for h in history] == ["updated", "created"]
        assert history[0].changes["name"] == [data.name, "Aides facultatives"]
        actions = list(s.scalars(select(AuditEvent.action)))
        assert "protection.activity.created" in actions and "protection.activity.updated" in actions

        record = dpia.create_dpia(s, SYSTEM, activity, DpiaInput(
            started_on=date(2026, 2, 1), description="Contexte",
            risks=[{"kind": "illegitimate_access", "likelihood": 2, "severity": 3}]))
        s.refresh(activity)
        assert dpia.assess(activity).state == DpiaState.IN_PROGRESS
        with pytest.raises(ValidationError, match="avis du DPO"):
            DpiaInput(started_on=date(2026, 2, 1), decision="favourable",
                      decided_on=date(2026, 3, 1), decision_by="Le président",
                      risks=[{"kind": "disappearance", "likelihood": 1, "severity": 1}])
        dpia.update_dpia(s, SYSTEM, record, DpiaInput(
            started_on=date(2026, 2, 1), decision="favourable", decided_on=date(2026, 3, 1),
            decision_by="Le président", dpo_opinion="Favorable", dpo_opinion_on=date(2026, 2, 20),
            risks=[{"kind": "illegitimate_access", "likelihood": 2, "severity": 3}]))
        assert dpia.assess(activity).state == DpiaState.DONE
        assert dpia.missing_dpias(s, SYSTEM) == []


def test_art9_needs_a_condition_and_retention_is_structured(db: Database) -> None:
    with db.unit_of_work() as s:
        org = f.organisation(s)
        with pytest.raises(ValidationError, match="condition de l'article 9.2"):
            full_activity(org.id, art9_condition=None)
        with pytest.raises(ValidationError, match="pas déclarée"):
            full_activity(org.id, retention_rules=[
                {"data_category": "location", "duration": 1, "unit": "years",
                 "start_event": "la collecte", "final_fate": "destruction"}])
        with pytest.raises(ValidationError):
            full_activity(org.id, retention_rules=[
                {"data_category": "identity", "duration": "3 ans après la fin",
                 "unit": "years", "start_event": "x", "final_fate": "destruction"}])
        with pytest.raises(Invalid, match="inconnus"):
            register.create_activity(s, SYSTEM, full_activity(org.id, linked_datasets=["nope"]))
        ds = f.dataset(s, org, "Bénéficiaires des aides")
        activity = register.create_activity(s, SYSTEM, full_activity(
            org.id, reference=None, linked_datasets=[ds.slug]))
        assert activity.reference == "T-0001"
        again = register.create_activity(s, SYSTEM, full_activity(org.id, reference=None))
        assert again.reference == "T-0002"


def test_mutualised_dpo_sees_each_of_their_registers_and_nobody_else_does(db: Database) -> None:
    with db.unit_of_work() as s:
        a, b, c = (f.organisation(s, n) for n in ("Commune A", "Commune B", "Commune C"))
        for org in (a, b, c):
            register.create_activity(s, SYSTEM, full_activity(org.id, name=f"RH {org.name}"))
        dpo = Principal.of(f.account(s, "dpo@mutualise.example",
                                     roles=[(a, Role.DPO, None), (b, Role.DPO, None)]))
        agent = Principal.of(f.account(s, "agent@a.example", roles=[(a, Role.AGENT, None)]))
        outsider = Principal.of(f.account(s, "admin@c.example",
                                          roles=[(c, Role.ADMINISTRATOR, None)]))
        seen = {x.organisation_id for x in register.list_activities(s, dpo)}
        assert seen == {a.id, b.id}
        assert {x.organisation_id for x in register.list_activities(s, agent)} == {a.id}
        assert {x.organisation_id for x in register.list_activities(s, outsider)} == {c.id}
        assert register.list_activities(s, Principal.anonymous()) == []
        in_c = register.list_activities(s, outsider)[0]
        with pytest.raises(NotFound):
            register.get_activity(s, dpo, in_c.id)
        with pytest.raises(Forbidden):
            register.list_activities(s, dpo, organisation_id=c.id)
        # The DPO keeps registers A and B; the agent reads A but does not change it.
        register.create_activity(s, dpo, full_activity(b.id, reference="T-0009"))
        with pytest.raises(Forbidden):
            register.create_activity(s, dpo, full_activity(c.id, reference="T-0009"))
        with pytest.raises(Forbidden):
            register.create_activity(s, agent, full_activity(a.id, reference="T-0009"))
        # Requests and breaches: the agent sees none, the DPO those of A and B.
        rights_requests.create_request(s, dpo, RequestInput(
            organisation_id=a.id, kind="access", requester="X", received_on=date(2026, 1, 5)))
        assert len(rights_requests.list_requests(s, dpo)) == 1
        assert rights_requests.list_requests(s, agent) == []
        assert rights_requests.list_requests(s, outsider) == []


def test_requests_overdue_extension_and_counts(db: Database) -> None:
    today = date(2026, 3, 10)
    with db.unit_of_work() as s:
        org = f.organisation(s)
        base = {"organisation_id": org.id, "requester": "Jeanne Martin"}
        late = rights_requests.create_request(s, SYSTEM, RequestInput(
            **base, kind="access", received_on=date(2026, 1, 31)))
        extended = rights_requests.create_request(s, SYSTEM, RequestInput(
            **base, kind="erasure", received_on=date(2026, 1, 31),
            extension_informed_on=date(2026, 2, 20), extension_reasons="Archives papier"))
        answered = rights_requests.create_request(s, SYSTEM, RequestInput(
            **base, kind="access", received_on=date(2025, 12, 1), status="answered",
            answered_on=date(2026, 1, 15), answer="Copie des données envoyée."))
        refused = rights_requests.create_request(s, SYSTEM, RequestInput(
            **base, kind="erasure", received_on=date(2026, 2, 1), status="refused",
            answered_on=date(2026, 2, 20), refusal_reason="Obligation légale de conservation",
            answer=f"Refus. {COMPLAINT_MENTION}"))
        assert late.reference == "DDP-2026-001" and extended.reference == "DDP-2026-002"
        # One month: Saturday 28 February 2026, rolled to Monday 2 March (1182/71 art. 3(4)).
        assert rights_requests.clock(late, today).deadline == date(2026, 3, 2)
        assert rights_requests.clock(late, today).initial_deadline == date(2026, 3, 2)
        assert not rights_requests.clock(late, date(2026, 3, 2)).overdue  # its last day
        assert rights_requests.clock(late, date(2026, 3, 3)).overdue
        assert rights_requests.clock(late, date(2026, 2, 28)).days_left == 2
        assert rights_requests.clock(late, today).overdue
        assert rights_requests.clock(extended, today).deadline == date(2026, 4, 30)
        assert not rights_requests.clock(extended, today).overdue
        assert rights_requests.clock(answered, today).answered_late
        assert not rights_requests.clock(refused, today).overdue
        overdue = rights_requests.list_requests(s, SYSTEM, overdue=True, today=today)
        assert [r.id for r in overdue] == [late.id]
        counts = rights_requests.counts(rights_requests.list_requests(s, SYSTEM))
        assert {(c["year"], c["kind"]): c["count"] for c in counts} == {
            (2026, "access"): 1, (2026, "erasure"): 2, (2025, "access"): 1}
        assert next(c for c in counts if c["year"] == 2025)["answered_late"] == 1
        with pytest.raises(Invalid, match="futur"):
            rights_requests.create_request(s, SYSTEM, RequestInput(
                **base, kind="access", received_on=date.today() + timedelta(days=3)))
        audit_targets = [e.details for e in s.scalars(select(AuditEvent).where(
            AuditEvent.action == "protection.request.created"))]
        assert all("Jeanne" not in str(d) for d in audit_targets)


def test_breach_72_hour_clock(db: Database) -> None:
    aware = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with db.unit_of_work() as s:
        org = f.organisation(s)
        base = {"organisation_id": org.id, "title": "Courriel envoyé au mauvais destinataire",
                "aware_at": aware, "natures": ["confidentiality"]}
        breach = breaches.create_breach(s, SYSTEM, breaches.BreachInput(**base, risk="risk"))
        assert breach.reference == "VIO-2026-01"
        running = breaches.clock(breach, aware + timedelta(hours=10))
        assert running.state == "running" and running.hours_left == pytest.approx(62)
        assert breaches.clock(breach, aware + timedelta(hours=73)).state == "overdue"
        with pytest.raises(ValidationError, match="motifs du retard"):
            breaches.BreachInput(**base, risk="risk", notified_at=aware + timedelta(hours=80))
        breaches.update_breach(s, SYSTEM, breach, breaches.BreachInput(
            **base, risk="risk", notified_at=aware + timedelta(hours=80),
            late_notification_reasons="Week-end, astreinte injoignable"))
        assert breaches.clock(breach).state == "notified_late"
        with pytest.raises(ValidationError, match="pas susceptible"):
            breaches.BreachInput(**base, risk="unlikely")
        minor = breaches.create_breach(s, SYSTEM, breaches.BreachInput(
            **base, risk="unlikely", no_risk_reason="Fichier chiffré, clé non compromise"))
        assert breaches.clock(minor).state == "not_required"
        with pytest.raises(ValidationError, match="article 34"):
            breaches.BreachInput(**base, risk="high", notified_at=aware + timedelta(hours=5),
                                 closed_at=aware + timedelta(days=5))
        with pytest.raises(ValidationError):
            breaches.BreachInput(**{**base, "natures": []})


def test_breaches_to_notify_owe_the_cnil_or_the_persons(db: Database) -> None:
    """One rule for the dashboard page and `breaches pending`: a high-risk breach notified
    to the CNIL stays listed while the persons are not informed."""
    aware = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with db.unit_of_work() as s:
        org = f.organisation(s)
        base = {"organisation_id": org.id, "aware_at": aware, "natures": ["confidentiality"]}

        def breach(title: str, **fields: Any) -> None:
            breaches.create_breach(s, SYSTEM, breaches.BreachInput(**base, title=title, **fields))

        notified = aware + timedelta(hours=5)
        breach("Risque à évaluer")
        breach("Risque élevé, notifiée", risk="high", notified_at=notified)
        breach("Risque élevé, notifiée, personnes informées", risk="high",
               notified_at=notified, persons_informed_at=notified)
        breach("Risque, notifiée", risk="risk", notified_at=notified)
        breach("Peu probable", risk="unlikely", no_risk_reason="Fichier chiffré")
        breach("Close", risk="risk", notified_at=notified, closed_at=notified)
        found = breaches.breaches_to_notify(s, SYSTEM, at=aware + timedelta(hours=80))
        assert sorted(b.title for b in found) == ["Risque à évaluer", "Risque élevé, notifiée"]


def test_personal_datasets_without_a_processing_activity(db: Database) -> None:
    with db.unit_of_work() as s:
        org = f.organisation(s)
        linked = f.dataset(s, org, "Bénéficiaires des aides", contains_personal_data=True)
        alone = f.dataset(s, org, "Fichier des usagers", contains_personal_data=True)
        f.dataset(s, org, "Arbres d'alignement", contains_personal_data=False)
        register.create_activity(s, SYSTEM, full_activity(org.id, linked_datasets=[linked.slug]))
        found = register.unregistered_personal_datasets(s, SYSTEM, org.id)
        assert [d.slug for d in found] == [alone.slug]
        from patrimoine.protection import dashboard

        assert dashboard.dashboard(s, SYSTEM)["total"]["personal_datasets_unregistered"] == 1
        outsider = Principal.of(f.account(s, "x@other.example",
                                          roles=[(f.organisation(s, "Autre"), Role.DPO, None)]))
        assert register.unregistered_personal_datasets(s, outsider, org.id) == []
