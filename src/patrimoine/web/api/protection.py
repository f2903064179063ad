"""JSON API of the GDPR register: processing activities, DPIAs, rights requests, breaches,
the register as a spreadsheet (export and import) and the DPO's dashboard.

Who may do what (access/permissions.py): an organisation's staff read its register;
its administrators, chief data officers and DPOs (a mutualised DPO in each organisation
where they hold the role) change it and handle requests and breaches, which nobody else
sees. Other organisations' entries answer 404.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from starlette.concurrency import run_in_threadpool

from patrimoine.access.permissions import can_read_register, require
from patrimoine.core.db import DbInt
from patrimoine.core.vocabulary import label
from patrimoine.inventory.service import get_organisation_by_slug
from patrimoine.protection import breaches, dashboard, dpia, rights_requests
from patrimoine.protection.breaches import BreachInput
from patrimoine.protection.dpia import DpiaInput
from patrimoine.protection.register import service as register
from patrimoine.protection.register import spreadsheet
from patrimoine.protection.register.models import ProcessingActivity
from patrimoine.protection.register.service import ActivityInput, plain
from patrimoine.protection.register.vocabulary import ActivityStatus, RequestKind, RequestStatus
from patrimoine.protection.rights_requests import RequestInput
from patrimoine.web.api.guards import api_write
from patrimoine.web.api.responses import ERRORS, files
from patrimoine.web.deps import PrincipalDep, SessionDep
from patrimoine.web.uploads import FileDep

router = APIRouter(prefix="/api/v1/protection", tags=["protection des données"],
                   responses=ERRORS)
Write = [Depends(api_write)]


def activity_dict(activity: ProcessingActivity) -> dict[str, Any]:
    values = register.current_values(activity)
    assessment = dpia.assess(activity)
    return {
        "id": activity.id, "uid": activity.uid, **values,
        "status_label": label(activity.status),
        "legal_basis_label": label(activity.legal_basis) if activity.legal_basis else None,
        "retention": [register.describe_retention(r)
                      for r in activity.retention_rules],
        "dpia": assessment.as_dict(),
        "dpias": [d.id for d in activity.dpias],
        "gaps": register.gaps(activity),
        "created_at": plain(activity.created_at), "updated_at": plain(activity.updated_at),
    }


def _organisation_id(session: SessionDep, organisation: str | None) -> int | None:
    return get_organisation_by_slug(session, organisation).id if organisation else None


# Processing activities


@router.get("/activities", summary="Le registre des traitements")
def list_activities(session: SessionDep, principal: PrincipalDep,
                    organisation: str | None = None,
                    status: ActivityStatus | None = None) -> list[dict[str, Any]]:
    return [activity_dict(a) for a in register.list_activities(
        session, principal, organisation_id=_organisation_id(session, organisation),
        status=status)]


@router.post("/activities", status_code=201, dependencies=Write,
             summary="Inscrire un traitement au registre")
def create_activity(session: SessionDep, principal: PrincipalDep, data: ActivityInput
                    ) -> dict[str, Any]:
    return activity_dict(register.create_activity(session, principal, data))


@router.get("/activities/{activity_id:int}", summary="Lire un traitement")
def get_activity(activity_id: DbInt, session: SessionDep, principal: PrincipalDep
                 ) -> dict[str, Any]:
    return activity_dict(register.get_activity(session, principal, activity_id))


@router.put("/activities/{activity_id:int}", dependencies=Write, summary="Modifier un traitement")
def update_activity(activity_id: DbInt, session: SessionDep, principal: PrincipalDep,
                    data: ActivityInput) -> dict[str, Any]:
    activity = register.get_activity(session, principal, activity_id)
    register.update_activity(session, principal, activity, data)
    return activity_dict(activity)


@router.delete("/activities/{activity_id:int}", status_code=204, dependencies=Write,
               summary="Retirer un traitement du registre")
def delete_activity(activity_id: DbInt, session: SessionDep, principal: PrincipalDep) -> Response:
    register.delete_activity(session, principal,
                             register.get_activity(session, principal, activity_id))
    return Response(status_code=204)


@router.get("/activities/{activity_id:int}/history", summary="Historique d'un traitement")
def activity_history(activity_id: DbInt, session: SessionDep, principal: PrincipalDep
                     ) -> list[dict[str, Any]]:
    activity = register.get_activity(session, principal, activity_id)
    return [{"at": plain(c.at), "actor": c.actor_label, "action": c.action, "changes": c.changes}
            for c in register.history(session, principal, activity)]


# DPIA


@router.get("/activities/{activity_id:int}/dpias", summary="Analyses d'impact d'un traitement")
def list_dpias(activity_id: DbInt, session: SessionDep, principal: PrincipalDep
               ) -> list[dict[str, Any]]:
    activity = register.get_activity(session, principal, activity_id)
    return [dpia.dpia_dict(d) for d in activity.dpias]


@router.post("/activities/{activity_id:int}/dpias", status_code=201, dependencies=Write,
             summary="Enregistrer une analyse d'impact")
def create_dpia(activity_id: DbInt, session: SessionDep, principal: PrincipalDep, data: DpiaInput
                ) -> dict[str, Any]:
    activity = register.get_activity(session, principal, activity_id)
    return dpia.dpia_dict(dpia.create_dpia(session, principal, activity, data))


@router.get("/dpias/missing", summary="Traitements dont l'analyse d'impact requise manque")
def missing_dpias(session: SessionDep, principal: PrincipalDep, organisation: str | None = None
                  ) -> list[dict[str, Any]]:
    return [{"id": a.id, "organisation_id": a.organisation_id, "reference": a.reference,
             "name": a.name, "dpia": dpia.assess(a).as_dict()}
            for a in dpia.missing_dpias(session, principal,
                                        _organisation_id(session, organisation))]


@router.get("/dpias/{dpia_id:int}", summary="Lire une analyse d'impact")
def get_dpia(dpia_id: DbInt, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    return dpia.dpia_dict(dpia.get_dpia(session, principal, dpia_id))


@router.put("/dpias/{dpia_id:int}", dependencies=Write, summary="Modifier une analyse d'impact")
def update_dpia(dpia_id: DbInt, session: SessionDep, principal: PrincipalDep, data: DpiaInput
                ) -> dict[str, Any]:
    record = dpia.get_dpia(session, principal, dpia_id)
    dpia.update_dpia(session, principal, record, data)
    return dpia.dpia_dict(record)


@router.delete("/dpias/{dpia_id:int}", status_code=204, dependencies=Write,
               summary="Supprimer une analyse d'impact")
def delete_dpia(dpia_id: DbInt, session: SessionDep, principal: PrincipalDep) -> Response:
    dpia.delete_dpia(session, principal, dpia.get_dpia(session, principal, dpia_id))
    return Response(status_code=204)


# Rights requests


@router.get("/requests", summary="Demandes d'exercice des droits")
def list_requests(
    session: SessionDep, principal: PrincipalDep, organisation: str | None = None,
    year: Annotated[int | None, Query(ge=1990, le=2200)] = None,
    kind: RequestKind | None = None, status: RequestStatus | None = None,
    overdue: bool = False,
) -> list[dict[str, Any]]:
    return [rights_requests.request_dict(r) for r in rights_requests.list_requests(
        session, principal, organisation_id=_organisation_id(session, organisation), year=year,
        kind=kind, status=status, overdue=overdue)]


@router.get("/requests/stats", summary="Nombre de demandes par année et par type")
def request_stats(session: SessionDep, principal: PrincipalDep, organisation: str | None = None
                  ) -> list[dict[str, Any]]:
    return rights_requests.counts(rights_requests.list_requests(
        session, principal, organisation_id=_organisation_id(session, organisation)))


@router.post("/requests", status_code=201, dependencies=Write,
             summary="Enregistrer une demande")
def create_request(session: SessionDep, principal: PrincipalDep, data: RequestInput
                   ) -> dict[str, Any]:
    return rights_requests.request_dict(rights_requests.create_request(session, principal, data))


@router.get("/requests/{request_id:int}", summary="Lire une demande")
def get_request(request_id: DbInt, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    return rights_requests.request_dict(
        rights_requests.get_request(session, principal, request_id))


@router.put("/requests/{request_id:int}", dependencies=Write, summary="Modifier une demande")
def update_request(request_id: DbInt, session: SessionDep, principal: PrincipalDep,
                   data: RequestInput) -> dict[str, Any]:
    request = rights_requests.get_request(session, principal, request_id)
    rights_requests.update_request(session, principal, request, data)
    return rights_requests.request_dict(request)


@router.delete("/requests/{request_id:int}", status_code=204, dependencies=Write,
               summary="Supprimer une demande saisie par erreur")
def delete_request(request_id: DbInt, session: SessionDep, principal: PrincipalDep) -> Response:
    rights_requests.delete_request(
        session, principal, rights_requests.get_request(session, principal, request_id))
    return Response(status_code=204)


# Breaches


@router.get("/breaches", summary="Registre des violations de données")
def list_breaches(session: SessionDep, principal: PrincipalDep, organisation: str | None = None,
                  open_only: bool = False) -> list[dict[str, Any]]:
    return [breaches.breach_dict(b) for b in breaches.list_breaches(
        session, principal, organisation_id=_organisation_id(session, organisation),
        open_only=open_only)]


@router.post("/breaches", status_code=201, dependencies=Write,
             summary="Enregistrer une violation")
def create_breach(session: SessionDep, principal: PrincipalDep, data: BreachInput
                  ) -> dict[str, Any]:
    return breaches.breach_dict(breaches.create_breach(session, principal, data))


@router.get("/breaches/{breach_id:int}", summary="Lire une violation")
def get_breach(breach_id: DbInt, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    return breaches.breach_dict(breaches.get_breach(session, principal, breach_id))


@router.put("/breaches/{breach_id:int}", dependencies=Write, summary="Modifier une violation")
def update_breach(breach_id: DbInt, session: SessionDep, principal: PrincipalDep,
                  data: BreachInput) -> dict[str, Any]:
    breach = breaches.get_breach(session, principal, breach_id)
    breaches.update_breach(session, principal, breach, data)
    return breaches.breach_dict(breach)


@router.delete("/breaches/{breach_id:int}", status_code=204, dependencies=Write,
               summary="Supprimer une violation saisie par erreur")
def delete_breach(breach_id: DbInt, session: SessionDep, principal: PrincipalDep) -> Response:
    breaches.delete_breach(session, principal, breaches.get_breach(session, principal, breach_id))
    return Response(status_code=204)


# The register as a spreadsheet, and the dashboard

_MEDIA = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
          "csv": "text/csv; charset=utf-8"}


@router.get("/register/export", summary="Exporter le registre (modèle CNIL, XLSX ou CSV)",
            response_class=Response,
            responses=files(*_MEDIA.values(), description="Le registre."))
def export_register(session: SessionDep, principal: PrincipalDep, organisation: str,
                    format: Annotated[str, Query(pattern="^(xlsx|csv)$")] = "xlsx") -> Response:
    org = get_organisation_by_slug(session, organisation)
    data = spreadsheet.export_register(session, principal, org, format)
    filename = f"registre-{org.slug}-{date.today().isoformat()}.{format}"
    return Response(data, media_type=_MEDIA[format],
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


_TRUE = {"1", "true", "oui", "yes", "on", "vrai"}


@router.post(
    "/register/import", dependencies=Write,
    summary="Importer un registre (modèle CNIL, XLSX, ODS ou CSV)",
    description="Formulaire multipart : `file` et `dry_run`. En simulation, renvoie le plan "
                "(traitements à créer, à modifier, inchangés, erreurs par ligne et colonne) "
                "sans rien écrire ; sinon importe tout ou rien.",
    openapi_extra={"requestBody": {"required": True, "content": {"multipart/form-data": {
        "schema": {"type": "object", "required": ["file"], "properties": {
            "file": {"type": "string", "format": "binary"},
            "dry_run": {"type": "boolean"}}}}}}},
)
async def import_register(
    session: SessionDep, principal: PrincipalDep, upload: FileDep,
    dry_run: Annotated[bool | None, Query(description="Simuler sans rien écrire.")] = None,
) -> dict[str, Any]:
    if dry_run is None:
        dry_run = str(upload.form.get("dry_run", "")).strip().lower() in _TRUE
    data = await run_in_threadpool(upload.file.read_bytes)
    return await run_in_threadpool(spreadsheet.import_register, session, principal, data,
                                   upload.filename, dry_run=dry_run)


@router.get("/datasets/unregistered",
            summary="Jeux de données personnelles qu'aucun traitement du registre ne nomme")
def unregistered_datasets(session: SessionDep, principal: PrincipalDep, organisation: str
                          ) -> list[dict[str, Any]]:
    org = get_organisation_by_slug(session, organisation)
    require(can_read_register(principal, org.id), principal,
            "consulter le registre de cette organisation")
    return [{"slug": d.slug, "uid": d.uid, "title": d.title}
            for d in register.unregistered_personal_datasets(session, principal, org.id)]


@router.get("/dashboard", summary="Tableau de bord du DPO")
def protection_dashboard(session: SessionDep, principal: PrincipalDep,
                         organisation: str | None = None) -> dict[str, Any]:
    return dashboard.dashboard(session, principal, _organisation_id(session, organisation))
