"""JSON API of retention: dataset rules, the plan, its application, elimination slips and the
archives director's visa, the record of actions, sobriety figures.

Who may do what (access/permissions.py): an organisation's administrators, chief data
officers and DPO see its plan, slips, actions and figures; its administrators and chief data
officers apply the plan, produce slips and record visas; whoever may change a dataset sets
its rule. Other organisations' slips answer 404.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from patrimoine.access import permissions as perms
from patrimoine.access.permissions import require
from patrimoine.access.principal import Principal
from patrimoine.charter import sobriety
from patrimoine.core.db import DbInt
from patrimoine.core.errors import Invalid
from patrimoine.inventory import service as inventory
from patrimoine.inventory.models import Organisation
from patrimoine.inventory.service import get_organisation_by_slug
from patrimoine.retention import apply as applier
from patrimoine.retention import holds, planner, slips
from patrimoine.retention import service as rules
from patrimoine.retention.models import RetentionAction
from patrimoine.web.api.guards import api_write
from patrimoine.web.api.responses import ERRORS, files
from patrimoine.web.deps import PrincipalDep, SessionDep, services

router = APIRouter(prefix="/api/v1/retention", tags=["conservation"], responses=ERRORS)
Write = [Depends(api_write)]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _scope(session: SessionDep, principal: Principal, organisation: str | None,
           manage: bool = False) -> list[int] | None:
    """The organisations the request covers (None: all, for an instance administrator)."""
    if organisation:
        org = get_organisation_by_slug(session, organisation)
        if manage:
            perms.require_manage_retention(principal, org.id)
        else:
            perms.require_view_retention(principal, org.id)
        return [org.id]
    orgs = perms.retention_managed_organisations(principal) if manage else \
        perms.retention_viewable_organisations(principal)
    require(orgs is None or bool(orgs), principal,
            "décider de la conservation des données" if manage
            else "consulter la conservation des données")
    return orgs


# Dataset rules


@router.get("/datasets/{slug}/rule", summary="La règle de conservation d'un jeu de données")
def get_rule(slug: str, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    dataset = inventory.get_dataset(session, principal, slug)
    return {"dataset": dataset.slug, "rule": rules.rule_json(rules.rule_of(session, dataset))}


@router.put("/datasets/{slug}/rule", dependencies=Write,
            summary="Régler la conservation d'un jeu de données")
def put_rule(slug: str, data: dict[str, Any], session: SessionDep, principal: PrincipalDep
             ) -> dict[str, Any]:
    dataset = inventory.get_dataset(session, principal, slug)
    own = rules.set_rule(session, principal, dataset, data)
    return {"dataset": dataset.slug, "rule": rules.rule_json(own)}


@router.delete("/datasets/{slug}/rule", dependencies=Write, status_code=204,
               summary="Retirer la règle propre d'un jeu de données")
def delete_rule(slug: str, session: SessionDep, principal: PrincipalDep) -> Response:
    dataset = inventory.get_dataset(session, principal, slug)
    rules.clear_rule(session, principal, dataset)
    return Response(status_code=204)


# Legal holds


class HoldInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str = Field(description="litigation (contentieux), cada (demande CADA), audit, other.")
    reason: str = Field(description="Motif : n° de requête, demande CADA, mission d'audit…")
    starts_on: date | None = Field(default=None, description="Début (par défaut aujourd'hui).")
    ends_on: date | None = Field(default=None, description="Fin du gel, ou :")
    review_on: date | None = Field(default=None, description="Date de réexamen.")
    version: int | None = Field(default=None, description="Une version ; sinon tout le jeu.")


class ReleaseInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str


@router.get("/holds", summary="Les gels juridiques (contentieux, CADA, audit)")
def list_holds(session: SessionDep, principal: PrincipalDep,
               organisation: str | None = None) -> dict[str, Any]:
    orgs = _scope(session, principal, organisation)
    return {"holds": [holds.hold_json(h) for h in holds.list_holds(session, orgs)]}


@router.post("/datasets/{slug}/holds", status_code=201, dependencies=Write,
             summary="Geler la conservation d'un jeu de données ou d'une version")
def place_hold(slug: str, data: HoldInput, session: SessionDep, principal: PrincipalDep
               ) -> dict[str, Any]:
    dataset = inventory.get_dataset(session, principal, slug)
    hold = holds.place_hold(session, principal, dataset, **data.model_dump())
    return holds.hold_json(hold)


@router.post("/holds/{hold_id:int}/release", dependencies=Write,
             summary="Lever un gel juridique (avec le motif)")
def release_hold(hold_id: DbInt, data: ReleaseInput, session: SessionDep,
                 principal: PrincipalDep) -> dict[str, Any]:
    return holds.hold_json(holds.release_hold(session, principal, hold_id, data.reason))


# The plan and its application


@router.get("/plan", summary="Ce qui arrive à échéance")
def get_plan(session: SessionDep, principal: PrincipalDep, request: Request,
             organisation: str | None = None) -> dict[str, Any]:
    orgs = _scope(session, principal, organisation)
    return planner.build_plan(session, services(request).settings, orgs).as_json()


class ApplyInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    organisation: str | None = None
    keys: list[str] | None = None


@router.post("/apply", dependencies=Write, summary="Appliquer ce qui est échu")
def post_apply(data: ApplyInput, session: SessionDep, principal: PrincipalDep,
               request: Request) -> dict[str, Any]:
    orgs = _scope(session, principal, data.organisation, manage=True)
    return applier.apply_plan(session, services(request).settings, principal, orgs,
                              data.keys).as_json()


@router.get("/actions", summary="Les actions de conservation effectuées")
def list_actions(session: SessionDep, principal: PrincipalDep,
                 organisation: str | None = None, limit: DbInt = 200) -> list[dict[str, Any]]:
    orgs = _scope(session, principal, organisation)
    query = select(RetentionAction).order_by(RetentionAction.id.desc()).limit(
        max(1, min(limit, 1000)))
    if orgs is not None:
        query = query.where(RetentionAction.organisation_id.in_(orgs))
    return [{"id": a.id, "at": a.at.isoformat(), "organisation_id": a.organisation_id,
             "dataset_id": a.dataset_id, "activity_reference": a.activity_reference,
             "key": a.item_key, "action": a.action, "fate": a.fate, "slip_id": a.slip_id,
             "actor": a.actor_label, "description": a.description, "details": a.details}
            for a in session.scalars(query)]


# Elimination slips and visas


class SlipInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    organisation: str
    keys: list[str] | None = None


class VisaInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)
    by: str = Field(default="", max_length=300)
    reference: str = Field(default="", max_length=200)
    on: date | None = Field(default=None, alias="date")
    refused: bool = False
    reason: str | None = Field(default=None, max_length=2000)


@router.get("/slips", summary="Les bordereaux d'élimination")
def list_slips(session: SessionDep, principal: PrincipalDep) -> list[dict[str, Any]]:
    _scope(session, principal, None)
    return [slips.slip_json(s) for s in slips.list_slips(session, principal)]


@router.post("/slips", status_code=201, dependencies=Write,
             summary="Établir le bordereau d'élimination des destructions échues")
def create_slip(data: SlipInput, session: SessionDep, principal: PrincipalDep,
                request: Request) -> dict[str, Any]:
    org = get_organisation_by_slug(session, data.organisation)
    return slips.slip_json(slips.create_slip(session, services(request).settings, principal,
                                             org.id, data.keys))


@router.get("/slips/{slip_id:int}.xlsx", summary="Un bordereau d'élimination en tableur",
            response_class=Response, responses=files(XLSX, description="Le bordereau."))
def get_slip_xlsx(slip_id: DbInt, session: SessionDep, principal: PrincipalDep) -> Response:
    slip = slips.get_slip(session, principal, slip_id)
    org = session.get(Organisation, slip.organisation_id)
    assert org is not None
    return Response(
        slips.slip_xlsx(slip, org),
        media_type=XLSX,
        headers={"Content-Disposition":
                 f'attachment; filename="bordereau-{slip.reference}.xlsx"'})


@router.get("/slips/{slip_id:int}", summary="Un bordereau d'élimination")
def get_slip(slip_id: DbInt, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    return slips.slip_json(slips.get_slip(session, principal, slip_id))


@router.post("/slips/{slip_id:int}/visa", dependencies=Write,
             summary="Enregistrer le visa du directeur des archives (R212-14)")
def post_visa(slip_id: DbInt, data: VisaInput, session: SessionDep, principal: PrincipalDep
              ) -> dict[str, Any]:
    at = datetime.combine(data.on, time(12)).astimezone() if data.on else None
    if data.on is not None and data.on > date.today():
        raise Invalid("Visa non enregistré.",
                      errors=["La date du visa ne peut pas être dans le futur."])
    return slips.slip_json(slips.record_visa(session, principal, slip_id, by=data.by,
                                             reference=data.reference, at=at,
                                             refused=data.refused, reason=data.reason))


# Sobriety


@router.get("/sobriety", summary="Volumes stockés, données non lues, doublons")
def get_sobriety(session: SessionDep, principal: PrincipalDep,
                 request: Request,
                 organisation: str | None = None) -> dict[str, Any]:
    orgs = _scope(session, principal, organisation)
    return sobriety.compute(session, services(request).settings, orgs).as_json()
