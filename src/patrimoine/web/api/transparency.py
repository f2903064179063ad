"""JSON API of the public algorithms register, of the requests for the rules of a decision and
of the requests for data of general interest.

Who may do what (access/permissions.py): an organisation's staff read its algorithms; its
administrators, chief data officers, DPOs and referents describe them; its administrators and
chief data officers publish them and lead the dialogue with holders of data of general
interest; its register keepers handle the requests for rules. Other
organisations' entries answer 404. The published register is public: see the portal's
/algorithmes.json.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from patrimoine.core.db import DbInt
from patrimoine.inventory.service import get_organisation_by_slug
from patrimoine.transparency import exports, general_interest, requests, service
from patrimoine.transparency.general_interest import GeneralInterestInput
from patrimoine.transparency.models import AlgorithmStatus, GeneralInterestState
from patrimoine.transparency.requests import AlgorithmRequestInput
from patrimoine.transparency.service import AlgorithmInput
from patrimoine.web.api.guards import api_write
from patrimoine.web.api.responses import ERRORS
from patrimoine.web.deps import PrincipalDep, SessionDep
from patrimoine.web.pages.portal import _base_url

router = APIRouter(prefix="/api/v1/transparency", tags=["transparence des algorithmes"],
                   responses=ERRORS)
Write = [Depends(api_write)]


def _organisation_id(session: SessionDep, organisation: str | None) -> int | None:
    return get_organisation_by_slug(session, organisation).id if organisation else None


@router.get("/algorithms", summary="Le registre des algorithmes publics (espace de gestion)")
def list_algorithms(session: SessionDep, principal: PrincipalDep,
                    organisation: str | None = None, status: AlgorithmStatus | None = None,
                    q: str | None = None) -> list[dict[str, Any]]:
    return [service.algorithm_dict(a, principal) for a in service.list_algorithms(
        session, principal, organisation_id=_organisation_id(session, organisation),
        status=status, q=q)]


@router.post("/algorithms", status_code=201, dependencies=Write,
             summary="Inscrire un algorithme au registre")
def create_algorithm(session: SessionDep, principal: PrincipalDep, data: AlgorithmInput
                     ) -> dict[str, Any]:
    return service.algorithm_dict(service.create_algorithm(session, principal, data), principal)


@router.get("/algorithms/{algorithm_id:int}", summary="Lire un algorithme")
def get_algorithm(algorithm_id: DbInt, session: SessionDep, principal: PrincipalDep
                  ) -> dict[str, Any]:
    return service.algorithm_dict(service.get_algorithm(session, principal, algorithm_id),
                                  principal)


@router.put("/algorithms/{algorithm_id:int}", dependencies=Write,
            summary="Modifier, publier ou retirer un algorithme")
def update_algorithm(algorithm_id: DbInt, session: SessionDep, principal: PrincipalDep,
                     data: AlgorithmInput) -> dict[str, Any]:
    algorithm = service.get_algorithm(session, principal, algorithm_id)
    service.update_algorithm(session, principal, algorithm, data)
    return service.algorithm_dict(algorithm, principal)


@router.delete("/algorithms/{algorithm_id:int}", status_code=204, dependencies=Write,
               summary="Supprimer un algorithme en préparation")
def delete_algorithm(algorithm_id: DbInt, session: SessionDep, principal: PrincipalDep
                     ) -> Response:
    service.delete_algorithm(session, principal,
                             service.get_algorithm(session, principal, algorithm_id))
    return Response(status_code=204)


@router.get("/algorithms/{algorithm_id:int}/mention",
            summary="La mention explicite à porter sur les décisions (R311-3-1-1)")
def mention(algorithm_id: DbInt, request: Request, session: SessionDep,
            principal: PrincipalDep) -> dict[str, str]:
    algorithm = service.get_algorithm(session, principal, algorithm_id)
    return {"text": exports.mention_explicite(algorithm, _base_url(request))}


@router.get("/requests", summary="Demandes de communication des règles d'un algorithme")
def list_requests(session: SessionDep, principal: PrincipalDep, organisation: str | None = None,
                  overdue: bool = False) -> list[dict[str, Any]]:
    return [requests.request_dict(r) for r in requests.list_requests(
        session, principal, organisation_id=_organisation_id(session, organisation),
        overdue=overdue)]


@router.post("/requests", status_code=201, dependencies=Write,
             summary="Enregistrer une demande de communication des règles (R311-3-1-2)")
def create_request(session: SessionDep, principal: PrincipalDep, data: AlgorithmRequestInput
                   ) -> dict[str, Any]:
    return requests.request_dict(requests.create_request(session, principal, data))


@router.get("/requests/{request_id:int}", summary="Lire une demande")
def get_request(request_id: DbInt, session: SessionDep, principal: PrincipalDep
                ) -> dict[str, Any]:
    request = requests.get_request(session, principal, request_id)
    return {**requests.request_dict(request),
            "draft_answer": requests.draft_answer(request.algorithm),
            "answer_text": requests.answer_text(request)}


@router.put("/requests/{request_id:int}", dependencies=Write,
            summary="Modifier une demande, y répondre")
def update_request(request_id: DbInt, session: SessionDep, principal: PrincipalDep,
                   data: AlgorithmRequestInput) -> dict[str, Any]:
    request = requests.get_request(session, principal, request_id)
    requests.update_request(session, principal, request, data)
    return requests.request_dict(request)


@router.get("/general-interest", summary="Demandes de données d'intérêt général")
def list_general_interest(session: SessionDep, principal: PrincipalDep,
                          organisation: str | None = None,
                          state: GeneralInterestState | None = None) -> list[dict[str, Any]]:
    return [general_interest.request_dict(r, principal) for r in general_interest.list_requests(
        session, principal, organisation_id=_organisation_id(session, organisation),
        state=state)]


@router.post("/general-interest", status_code=201, dependencies=Write,
             summary="Enregistrer une demande de données d'intérêt général")
def create_general_interest(session: SessionDep, principal: PrincipalDep,
                            data: GeneralInterestInput) -> dict[str, Any]:
    return general_interest.request_dict(
        general_interest.create_request(session, principal, data), principal)


@router.get("/general-interest/{request_id:int}",
            summary="Lire une demande de données d'intérêt général")
def get_general_interest(request_id: DbInt, session: SessionDep, principal: PrincipalDep
                         ) -> dict[str, Any]:
    return general_interest.request_dict(
        general_interest.get_request(session, principal, request_id), principal)


@router.put("/general-interest/{request_id:int}", dependencies=Write,
            summary="Faire avancer une demande de données d'intérêt général")
def update_general_interest(request_id: DbInt, session: SessionDep, principal: PrincipalDep,
                            data: GeneralInterestInput) -> dict[str, Any]:
    request = general_interest.get_request(session, principal, request_id)
    general_interest.update_request(session, principal, request, data)
    return general_interest.request_dict(request, principal)
