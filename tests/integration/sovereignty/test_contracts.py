"""Contracts: SIRET check, links, the default clause set, clause statuses with evidence,
reversibility tests and the reversibility watch."""

from __future__ import annotations

from datetime import date

import pytest

from patrimoine.access.models import Role
from patrimoine.access.principal import Principal
from patrimoine.bootstrap import Services
from patrimoine.core.errors import Forbidden, Invalid
from patrimoine.sovereignty import applications as apps
from patrimoine.sovereignty import contracts as ctr
from patrimoine.sovereignty.applications import ApplicationInput
from patrimoine.sovereignty.contracts import ClauseStatusInput, ContractInput, TestInput
from patrimoine.sovereignty.models import ClauseStatus, TestResult
from tests import factories as f

SIRET = "732 829 320 00074"  # a valid key (python-stdnum)


def _contract(org_id: int, **fields: object) -> ContractInput:
    base: dict[str, object] = {"organisation_id": org_id, "title": "Logiciel des crèches",
                               "supplier_name": "Éditeur SA", "supplier_siret": SIRET}
    return ContractInput.model_validate({**base, **fields})


def test_contract_register_and_clauses(services: Services, system: Principal) -> None:
    with services.db.unit_of_work() as s:
        org = f.organisation(s)
        app = apps.create_application(s, system, ApplicationInput(
            organisation_id=org.id, name="Crèches", hosting_mode="own", location="france"))
        agent_id = f.account(s, "agent@ville.example", roles=[(org, Role.AGENT, None)]).id
        org_id, app_ref = org.id, app.reference
    agent = f.principal(services, agent_id)
    with services.db.unit_of_work() as s:
        with pytest.raises(Invalid) as caught:
            ctr.create_contract(s, system, _contract(
                org_id, supplier_siret="73282932000075", start_date=date(2026, 1, 1),
                end_date=date(2025, 1, 1)))
        assert caught.value.errors == [
            "SIRET « 73282932000075 » invalide : 14 chiffres dont la clé de contrôle doit "
            "être juste.", "La date de fin précède la date de début."]
        with pytest.raises(Invalid, match="Applications inconnues"):
            ctr.create_contract(s, system, _contract(org_id, applications=["APP-9999"]))
        with pytest.raises(Forbidden):
            ctr.create_contract(s, agent, _contract(org_id))
        contract = ctr.create_contract(s, system, _contract(
            org_id, applications=[app_ref], processor=True))
        assert (contract.reference, contract.supplier_siret) == ("CTR-0001", "73282932000074")
        assert [a.reference for a in contract.applications] == [app_ref]

        table = ctr.clause_table(s, contract)
        assert [line.clause.title for line in table] == [
            "Données publiques", "Propriété des données", "Formats ouverts",
            "Hébergement dans l'Union européenne", "Réversibilité", "Sécurité",
            "Protection des données personnelles"]
        assert all(line.entry is None for line in table)
        with pytest.raises(Invalid, match="Indiquez l'article"):
            ctr.set_clause_status(s, system, contract, "rgpd",
                                  ClauseStatusInput(status=ClauseStatus.PRESENT))
        ctr.set_clause_status(s, system, contract, "rgpd", ClauseStatusInput(
            status=ClauseStatus.PRESENT, article="CCAP art. 14", evidence="ccap.pdf"))
        with pytest.raises(Invalid, match="Clause « inconnue » inconnue"):
            ctr.set_clause_status(s, system, contract, "inconnue",
                                  ClauseStatusInput(status=ClauseStatus.ABSENT))
        statuses = {line.clause.code: line.entry.status for line in ctr.clause_table(
            s, contract) if line.entry}
        assert statuses == {"rgpd": ClauseStatus.PRESENT}
        assert [h.action for h in ctr.history(s, system, contract)] == ["clause_set",
                                                                        "created"]
        assert ctr.update_contract(s, system, contract, ContractInput.model_validate(
            {**ctr.values_of(contract), "organisation_id": org_id})) == {}


def test_reversibility_watch(services: Services, system: Principal) -> None:
    today = date(2026, 6, 1)
    with services.db.unit_of_work() as s:
        org = f.organisation(s)
        soon = ctr.create_contract(s, system, _contract(org.id, title="Bientôt",
                                                        end_date=date(2026, 11, 30)))
        tested = ctr.create_contract(s, system, _contract(org.id, title="Testé",
                                                          end_date=date(2026, 9, 1)))
        ctr.create_contract(s, system, _contract(org.id, title="Lointain",
                                                 end_date=date(2028, 1, 1)))
        ctr.create_contract(s, system, _contract(org.id, title="Échu",
                                                 end_date=date(2026, 1, 1)))
        ctr.set_clause_status(s, system, tested, "reversibilite", ClauseStatusInput(
            status=ClauseStatus.NEGOTIATED, article="Annexe 3"))
        ctr.record_test(s, system, tested, TestInput(
            tested_on=date(2025, 3, 1), formats=["CSV", "JSON"], result=TestResult.FAILURE))
        watched = ctr.reversibility_watch(s, system, months=12, today=today)
        assert [(w.contract.title, w.reasons) for w in watched] == [
            ("Testé", ["réversibilité jamais testée avec succès"]),
            ("Bientôt", ["clause de réversibilité absente ou non vérifiée",
                         "réversibilité jamais testée avec succès"])]
        ctr.record_test(s, system, tested, TestInput(
            tested_on=date(2025, 9, 1), formats=["CSV"], result=TestResult.SUCCESS))
        watched = ctr.reversibility_watch(s, system, months=3, today=today)
        assert watched == []
        assert [w.contract.id for w in ctr.reversibility_watch(
            s, system, months=6, today=today)] == [soon.id]
