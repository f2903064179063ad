"""JSON API of sovereignty: the application map, the hosting strategy and the placements
that break it, contracts with their charter clauses, reversibility tests and watch.

Who may do what (access/permissions.py): an organisation's staff read its applications and
contracts; its administrators and chief data officers change them. Entries of organisations
one may not read answer 404.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Response
from sqlalchemy.orm import Session

from patrimoine.access.permissions import can_read_sovereignty, require
from patrimoine.access.principal import Principal
from patrimoine.core.db import DbInt
from patrimoine.core.vocabulary import label
from patrimoine.inventory.service import get_organisation_by_slug
from patrimoine.sovereignty import applications as apps
from patrimoine.sovereignty import contracts as ctr
from patrimoine.sovereignty import partners, strategy
from patrimoine.sovereignty.applications import ApplicationInput
from patrimoine.sovereignty.contracts import (
    ClauseInput,
    ClauseStatusInput,
    ContractInput,
    TestInput,
)
from patrimoine.sovereignty.models import Application, CharterClause, CharterPartner, Contract
from patrimoine.sovereignty.partners import ActionInput, PartnerInput
from patrimoine.sovereignty.strategy import LevelInput
from patrimoine.web.api.guards import api_write
from patrimoine.web.api.responses import ERRORS
from patrimoine.web.deps import PrincipalDep, SessionDep

router = APIRouter(prefix="/api/v1/sovereignty", tags=["souveraineté"], responses=ERRORS)
Write = [Depends(api_write)]


def _org_id(session: Session, slug: str | None) -> int | None:
    return get_organisation_by_slug(session, slug).id if slug else None


def _change(c: Any, hidden: set[str] | None = None) -> dict[str, Any]:
    return {"at": c.at.isoformat(), "actor": c.actor_label, "action": c.action,
            "changes": apps.shown_change(c.changes, hidden) if hidden else c.changes}


def _hidden(session: Session, principal: Principal) -> Callable[[int], set[str]]:
    """hidden_slugs() per organisation, asked once each."""
    found: dict[int, set[str]] = {}
    return lambda org_id: found.setdefault(org_id, apps.hidden_slugs(session, principal,
                                                                     org_id))


def application_json(a: Application, hidden: set[str]) -> dict[str, Any]:
    return {"id": a.id, "uid": a.uid, "organisation_id": a.organisation_id,
                           **apps.values_for(a, hidden),
                           "labels": {"status": label(a.status),
                                      "hosting_mode": label(a.hosting_mode),
                                      "location": label(a.location)},
                           "updated_at": a.updated_at.isoformat()}


# Applications


@router.get("/applications", summary="Les applications de la cartographie")
def list_applications(session: SessionDep, principal: PrincipalDep, q: str | None = None,
                      organisation: str | None = None, status: str | None = None,
                      hosting_mode: str | None = None, location: str | None = None,
                      sensitivity: str | None = None) -> dict[str, Any]:
    filters = {k: v for k, v in {"status": status, "hosting_mode": hosting_mode,
                                 "location": location, "sensitivity": sensitivity}.items() if v}
    hidden = _hidden(session, principal)
    found = apps.list_applications(session, principal, q=q,
                                   organisation_id=_org_id(session, organisation),
                                   filters=filters)
    facets: dict[str, dict[str, int]] = {f: {} for f in apps.FACETS}
    for a in found:
        for f in apps.FACETS:
            value = getattr(a, f)
            if value is not None:
                facets[f][str(value)] = facets[f].get(str(value), 0) + 1
    return {"total": len(found), "facets": facets,
            "results": [application_json(a, hidden(a.organisation_id)) for a in found]}


@router.post("/applications", dependencies=Write, status_code=201,
             summary="Ajouter une application")
def create_application(data: ApplicationInput, session: SessionDep, principal: PrincipalDep
                       ) -> dict[str, Any]:
    a = apps.create_application(session, principal, data)
    return application_json(a, apps.hidden_slugs(session, principal, a.organisation_id))


@router.get("/applications/{application_id}", summary="Une application, avec son historique")
def get_application(application_id: DbInt, session: SessionDep, principal: PrincipalDep
                    ) -> dict[str, Any]:
    a = apps.get_application(session, principal, application_id)
    level = strategy.level_codes(session, a.organisation_id).get(a.sensitivity or "")
    hidden = apps.hidden_slugs(session, principal, a.organisation_id)
    return {**application_json(a, hidden),
            "breaches": strategy.reasons(a, level) if level else [],
            "history": [_change(c, hidden) for c in apps.history(session, principal, a)]}


@router.put("/applications/{application_id}", dependencies=Write,
            summary="Modifier une application")
def put_application(application_id: DbInt, data: ApplicationInput, session: SessionDep,
                    principal: PrincipalDep) -> dict[str, Any]:
    a = apps.get_application(session, principal, application_id)
    changes = apps.update_application(session, principal, a, data)
    return {**application_json(a, apps.hidden_slugs(session, principal, a.organisation_id)),
            "changed": sorted(changes)}


@router.delete("/applications/{application_id}", dependencies=Write, status_code=204,
               summary="Supprimer une application")
def delete_application(application_id: DbInt, session: SessionDep, principal: PrincipalDep
                       ) -> Response:
    apps.delete_application(session, principal,
                            apps.get_application(session, principal, application_id))
    return Response(status_code=204)


@router.get("/stats", summary="Nombre d'applications par hébergement, localisation ou "
                              "organisation")
def get_stats(session: SessionDep, principal: PrincipalDep, by: str = "hosting",
              organisation: str | None = None) -> dict[str, Any]:
    rows = apps.stats(session, principal, by, organisation_id=_org_id(session, organisation))
    return {"by": by, "total": sum(n for _, n in rows),
            "counts": [{"value": v, "count": n} for v, n in rows]}


# The hosting strategy


@router.get("/organisations/{organisation}/levels",
            summary="La stratégie d'hébergement : niveaux de sensibilité")
def get_levels(organisation: str, session: SessionDep, principal: PrincipalDep
               ) -> list[dict[str, Any]]:
    org_id = get_organisation_by_slug(session, organisation).id
    apps.list_applications(session, principal, organisation_id=org_id)  # checks reading
    return [{"code": lv.code, "label": lv.label, "rank": lv.rank,
             "allowed_modes": lv.allowed_modes, "allowed_locations": lv.allowed_locations,
             "required_certifications": lv.required_certifications}
            for lv in strategy.levels(session, org_id)]


@router.put("/organisations/{organisation}/levels", dependencies=Write,
            summary="Définir un niveau de sensibilité")
def put_level(organisation: str, data: LevelInput, session: SessionDep,
              principal: PrincipalDep) -> dict[str, Any]:
    org_id = get_organisation_by_slug(session, organisation).id
    lv = strategy.set_level(session, principal, org_id, data)
    return {"code": lv.code, "label": lv.label, "allowed_modes": lv.allowed_modes,
            "allowed_locations": lv.allowed_locations}


@router.get("/breaches", summary="Les placements contraires à la stratégie d'hébergement")
def get_breaches(session: SessionDep, principal: PrincipalDep, organisation: str | None = None
                 ) -> list[dict[str, Any]]:
    org_id = _org_id(session, organisation)
    found = strategy.breaches(session, principal, [org_id] if org_id else None)
    return [{"application_id": b.application.id, "reference": b.application.reference,
             "name": b.application.name, "level": b.level.code, "reasons": b.reasons}
            for b in found]


# Contracts


def contract_json(session: Session, c: Contract) -> dict[str, Any]:
    return {"id": c.id, "uid": c.uid, "organisation_id": c.organisation_id,
            **ctr.values_of(c), "kind_label": label(c.kind),
            "clauses": [{"code": line.clause.code, "title": line.clause.title,
                         "status": line.entry.status.value if line.entry else None,
                         "article": line.entry.article if line.entry else None,
                         "evidence": line.entry.evidence if line.entry else None}
                        for line in ctr.clause_table(session, c)],
            "tests": [{"tested_on": t.tested_on.isoformat(), "formats": t.formats,
                       "result": t.result.value, "notes": t.notes} for t in c.tests]}


@router.get("/contracts", summary="Les contrats")
def list_contracts(session: SessionDep, principal: PrincipalDep,
                   organisation: str | None = None) -> list[dict[str, Any]]:
    return [contract_json(session, c) for c in ctr.list_contracts(
        session, principal, organisation_id=_org_id(session, organisation))]


@router.post("/contracts", dependencies=Write, status_code=201, summary="Ajouter un contrat")
def create_contract(data: ContractInput, session: SessionDep, principal: PrincipalDep
                    ) -> dict[str, Any]:
    return contract_json(session, ctr.create_contract(session, principal, data))


@router.get("/contracts/{contract_id}", summary="Un contrat, ses clauses et son historique")
def get_contract(contract_id: DbInt, session: SessionDep, principal: PrincipalDep
                 ) -> dict[str, Any]:
    c = ctr.get_contract(session, principal, contract_id)
    return {**contract_json(session, c),
            "history": [_change(h) for h in ctr.history(session, principal, c)]}


@router.put("/contracts/{contract_id}", dependencies=Write, summary="Modifier un contrat")
def put_contract(contract_id: DbInt, data: ContractInput, session: SessionDep,
                 principal: PrincipalDep) -> dict[str, Any]:
    c = ctr.get_contract(session, principal, contract_id)
    changes = ctr.update_contract(session, principal, c, data)
    return {**contract_json(session, c), "changed": sorted(changes)}


@router.delete("/contracts/{contract_id}", dependencies=Write, status_code=204,
               summary="Supprimer un contrat")
def delete_contract(contract_id: DbInt, session: SessionDep, principal: PrincipalDep
                    ) -> Response:
    ctr.delete_contract(session, principal, ctr.get_contract(session, principal, contract_id))
    return Response(status_code=204)


@router.put("/contracts/{contract_id}/clauses/{code}", dependencies=Write,
            summary="Statut d'une clause de la charte dans un contrat")
def put_clause_status(contract_id: DbInt, code: str, data: ClauseStatusInput,
                      session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    c = ctr.get_contract(session, principal, contract_id)
    ctr.set_clause_status(session, principal, c, code, data)
    return contract_json(session, c)


@router.post("/contracts/{contract_id}/tests", dependencies=Write, status_code=201,
             summary="Enregistrer un test de réversibilité")
def post_test(contract_id: DbInt, data: TestInput, session: SessionDep,
              principal: PrincipalDep) -> dict[str, Any]:
    c = ctr.get_contract(session, principal, contract_id)
    ctr.record_test(session, principal, c, data)
    return contract_json(session, c)


def clause_json(clause: CharterClause) -> dict[str, Any]:
    return {"code": clause.code, "title": clause.title, "text": clause.text,
            "rank": clause.rank, "reversibility": clause.reversibility}


@router.get("/organisations/{organisation}/clauses",
            summary="Les clauses de la charte que les contrats de l'organisation portent")
def get_clauses(organisation: str, session: SessionDep, principal: PrincipalDep
                ) -> list[dict[str, Any]]:
    org_id = get_organisation_by_slug(session, organisation).id
    require(can_read_sovereignty(principal, org_id), principal,
            "consulter les clauses de la charte de cette organisation")
    return [clause_json(c) for c in ctr.clause_set(session, org_id)]


@router.put("/organisations/{organisation}/clauses", dependencies=Write,
            summary="Modifier une clause de la charte de l'organisation")
def put_clause(organisation: str, data: ClauseInput, session: SessionDep,
               principal: PrincipalDep) -> dict[str, Any]:
    org_id = get_organisation_by_slug(session, organisation).id
    return clause_json(ctr.set_clause(session, principal, org_id, data))


@router.get("/reversibility-watch", summary="Contrats proches de leur fin dont la "
                                            "réversibilité n'est pas assurée")
def get_watch(session: SessionDep, principal: PrincipalDep, months: int = 12,
              organisation: str | None = None) -> list[dict[str, Any]]:
    found = ctr.reversibility_watch(session, principal, months=months,
                                    organisation_id=_org_id(session, organisation))
    return [{"contract_id": w.contract.id, "reference": w.contract.reference,
             "title": w.contract.title, "end_date": w.contract.end_date.isoformat()
             if w.contract.end_date else None, "reasons": w.reasons} for w in found]




# Charter partners


def partner_json(p: CharterPartner) -> dict[str, Any]:
    return {"id": p.id, "organisation_id": p.organisation_id, "name": p.name,
            "siren": p.siren, "kind": p.kind.value, "kind_label": label(p.kind),
            "signed_on": p.signed_on.isoformat(), "document": p.document,
            "commitments": p.commitments,
            "renewal_on": p.renewal_on.isoformat() if p.renewal_on else None,
            "public": p.public,
            "actions": [{"year": a.year, "description": a.description} for a in p.actions]}


@router.get("/organisations/{organisation}/partners",
            summary="Les partenaires signataires de la charte")
def list_partners(organisation: str, session: SessionDep, principal: PrincipalDep
                  ) -> list[dict[str, Any]]:
    org_id = get_organisation_by_slug(session, organisation).id
    return [partner_json(p) for p in partners.list_partners(session, principal, org_id)]


@router.get("/organisations/{organisation}/signatories",
            summary="La liste publique des signataires de la charte")
def public_signatories(organisation: str, session: SessionDep) -> list[dict[str, Any]]:
    org_id = get_organisation_by_slug(session, organisation).id
    return partners.public_signatories(session, org_id)


@router.post("/partners", dependencies=Write, status_code=201,
             summary="Enregistrer un signataire de la charte")
def create_partner(data: PartnerInput, session: SessionDep, principal: PrincipalDep
                   ) -> dict[str, Any]:
    return partner_json(partners.create_partner(session, principal, data))


@router.put("/partners/{partner_id}", dependencies=Write, summary="Modifier un signataire")
def put_partner(partner_id: DbInt, data: PartnerInput, session: SessionDep,
                principal: PrincipalDep) -> dict[str, Any]:
    p = partners.get_partner(session, principal, partner_id)
    partners.update_partner(session, principal, p, data)
    return partner_json(p)


@router.post("/partners/{partner_id}/actions", dependencies=Write, status_code=201,
             summary="Enregistrer l'action annuelle d'un signataire")
def post_action(partner_id: DbInt, data: ActionInput, session: SessionDep,
                principal: PrincipalDep) -> dict[str, Any]:
    p = partners.get_partner(session, principal, partner_id)
    partners.record_action(session, principal, p, data)
    return partner_json(p)
