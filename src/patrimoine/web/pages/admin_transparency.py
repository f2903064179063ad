"""Back-office pages of the public algorithms register: the list (search, organisation and
status facets), an algorithm's form (create, describe, publish, with French errors next to
each field) and its audit trail; the requests for the rules of a decision, with their
deadline, the four items of the answer drafted from the register and the answer's text; the
requests for data of general interest (list by state, form following the state machine).

The pages call the same service functions as the JSON API and the command line; the
permissions are theirs (access/permissions.py).
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import unquote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from starlette.datastructures import FormData

from patrimoine.access.models import AuditEvent
from patrimoine.access.permissions import (
    algorithm_organisations,
    can_edit_algorithms,
    can_handle_algorithm_requests,
    can_manage_general_interest,
    can_publish_algorithms,
    readable_datasets,
    require,
)
from patrimoine.access.principal import Principal
from patrimoine.core.db import DbInt
from patrimoine.core.errors import Invalid
from patrimoine.core.vocabulary import choices, label
from patrimoine.documents.service import ACCEPTED
from patrimoine.inventory.models import Dataset, Organisation
from patrimoine.inventory.service import get_organisation_by_slug
from patrimoine.protection.register.models import Dpia, ProcessingActivity
from patrimoine.sovereignty.models import Application, Contract
from patrimoine.transparency import general_interest, requests, service
from patrimoine.transparency.general_interest import GeneralInterestInput
from patrimoine.transparency.models import (
    AlgorithmKind,
    AlgorithmRequest,
    AlgorithmRequestStatus,
    AlgorithmStatus,
    Automation,
    DocumentKind,
    GeneralInterestBasis,
    GeneralInterestRequest,
    GeneralInterestState,
    HolderKind,
    PublicAlgorithm,
)
from patrimoine.transparency.requests import AlgorithmRequestInput
from patrimoine.transparency.service import AlgorithmInput
from patrimoine.web.deps import LoggedInDep, SessionDep, services
from patrimoine.web.pages.backoffice import FormDep, page
from patrimoine.web.pages.protection_forms import Form, validated
from patrimoine.web.templating import flash
from patrimoine.web.uploads import ReceiveUpload, Upload

router = APIRouter(include_in_schema=False)
SECTION = "algorithmes"
BASE = "/admin/algorithmes"

TITLES = {
    "organisation_id": "Organisation", "reference": "Référence", "name": "Nom de l'algorithme",
    "department": "Service responsable", "contact": "Contact",
    "purpose": "Finalité", "legal_basis": "Base légale",
    "decisions_per_year": "Décisions par an", "public_concerned": "Public concerné",
    "automation": "Degré d'automatisation", "kind": "Nature de l'algorithme",
    "parameters": "Paramètres et pondération", "operations": "Opérations effectuées",
    "human_oversight": "Intervention humaine", "appeal": "Voies de recours",
    "risks": "Risques et mesures", "dpia_id": "Analyse d'impact (AIPD)",
    "dataset_ids": "Jeux de données utilisés", "supplier": "Fournisseur",
    "contract_ids": "Contrats liés", "application_ids": "Applications qui l'exécutent",
    "source_code_url": "Adresse du code source", "source_code_licence": "Licence du code source",
    **{f"doc_{k.value}": f"{label(k)} (adresse)" for k in DocumentKind},
    "documents": "Documents", "status": "Statut", "published_on": "Date de publication",
    "review_on": "Date de la prochaine revue",
}
OPTIONS = {"automation": choices(Automation), "kind": choices(AlgorithmKind),
           "status": choices(AlgorithmStatus)}


def _organisations(session: SessionDep, principal: Principal, *, editable: bool = False
                   ) -> list[Organisation]:
    scope = algorithm_organisations(principal)
    orgs = session.scalars(select(Organisation).order_by(Organisation.name))
    return [o for o in orgs if (scope is None or o.id in scope)
            and (not editable or can_edit_algorithms(principal, o.id))]


def _parameters_text(parameters: list[dict[str, Any]]) -> str:
    return "\n".join(" | ".join([p["name"], p.get("weight") or "", p.get("description") or ""])
                     .rstrip(" |") for p in parameters)


def _parse_parameters(text: str) -> list[dict[str, str]]:
    """One parameter a line: "name | weighting | description" (the last two optional)."""
    found = []
    for line in text.splitlines():
        if line.strip():
            parts = [p.strip() for p in line.split("|", 2)] + ["", ""]
            found.append({"name": parts[0], "weight": parts[1], "description": parts[2]})
    return found


def values_of(algorithm: PublicAlgorithm) -> dict[str, Any]:
    data = service.algorithm_input(algorithm).model_dump(mode="json")
    data["parameters"] = _parameters_text(data["parameters"])
    for kind in DocumentKind:
        data[f"doc_{kind.value}"] = (data["documents"].get(kind.value) or {}).get("url", "")
    for field in service.LINKS:
        data[field] = [str(i) for i in data[field]]
    return {k: ("" if v is None else v) for k, v in data.items()}


def _document(url: str) -> dict[str, str]:
    """A document field: a web address, or the address of a file kept here (its uid kept)."""
    kept = re.match(r"^/documents/([0-9a-f]{32})/", url)
    if kept is None:
        return {"url": url}
    return {"url": url, "title": unquote(url.rsplit("/", 1)[-1]), "document": kept.group(1)}


def parse(posted: FormData, organisation_id: int | None) -> tuple[Form, AlgorithmInput | None]:
    values: dict[str, Any] = {name: str(posted.get(name) or "").strip() for name in posted
                              if name != "csrf_token" and name not in service.LINKS}
    for field in service.LINKS:
        values[field] = [str(v) for v in posted.getlist(field)]
    form = Form(values=values)
    if organisation_id is None:
        form.errors["organisation_id"] = "choisissez une organisation."
        return form, None
    data: dict[str, Any] = {
        k: (values.get(k) or None) for k in AlgorithmInput.model_fields
        if k not in ("organisation_id", "parameters", "documents", *service.LINKS)}
    for text in ("purpose", "legal_basis", "contact", "name"):
        data[text] = values.get(text, "")
    for text in ("public_concerned", "operations", "human_oversight", "appeal", "risks"):
        data[text] = values.get(text, "")
    data["organisation_id"] = organisation_id
    data["parameters"] = _parse_parameters(values.get("parameters", ""))
    for field in service.LINKS:
        data[field] = values[field]
    data["documents"] = {k.value: _document(values[f"doc_{k.value}"]) for k in DocumentKind
                         if values.get(f"doc_{k.value}")}
    return form, validated(AlgorithmInput, data, form)


def _dataset_choices(session: SessionDep, principal: Principal, organisation_id: int,
                     linked: list[str]) -> list[tuple[str, str]]:
    """The organisation's datasets this person may read; a dataset already linked that they
    may not read stays ticked under its number, so saving the form does not unlink it."""
    readable = session.scalars(select(Dataset).where(
        Dataset.organisation_id == organisation_id, readable_datasets(principal))
        .order_by(Dataset.title))
    shown = [(str(d.id), d.title) for d in readable]
    known = {value for value, _ in shown}
    return shown + [(i, f"Jeu de données non consultable (n° {i})") for i in linked
                    if i not in known]


def _choices(session: SessionDep, organisation_id: int) -> dict[str, Any]:
    dpias = session.execute(
        select(Dpia.id, ProcessingActivity.reference, ProcessingActivity.name)
        .join(ProcessingActivity, Dpia.activity_id == ProcessingActivity.id)
        .where(ProcessingActivity.organisation_id == organisation_id)
        .order_by(ProcessingActivity.reference))
    contracts = session.execute(select(Contract.id, Contract.reference, Contract.title).where(
        Contract.organisation_id == organisation_id).order_by(Contract.reference))
    applications = session.execute(
        select(Application.id, Application.reference, Application.name).where(
            Application.organisation_id == organisation_id).order_by(Application.name))
    return {"dpias": [(str(i), f"{ref} — {name}") for i, ref, name in dpias],
            "contracts": [(str(i), f"{ref} — {title}") for i, ref, title in contracts],
            "applications": [(str(i), f"{name} ({ref})") for i, ref, name in applications]}


def _form_page(request: Request, session: SessionDep, principal: Principal, form: Form,
               organisations: list[Organisation], item: PublicAlgorithm | None,
               organisation_id: int, status: int = 200, upload_error: str | None = None
               ) -> Response:
    return page(request, "admin/transparency/algorithm_form.html", SECTION, {
        "form": form, "titles": TITLES, "options": OPTIONS, "organisations": organisations,
        "upload_error": upload_error, "accepted": ACCEPTED, "label": label,
        "item": item, "kinds": list(DocumentKind), **_choices(session, organisation_id),
        "datasets": _dataset_choices(session, principal, organisation_id,
                                     form.values.get("dataset_ids", [])),
        "can_publish": can_publish_algorithms(principal, organisation_id),
        "history": _history(session, item) if item else [],
        "breadcrumb": [(BASE, "Algorithmes publics"),
                       (None, item.reference if item else "Nouvel algorithme")]},
        status=status)


def _history(session: SessionDep, item: PublicAlgorithm) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(
        AuditEvent.target == f"public_algorithm:{item.id}").order_by(AuditEvent.id.desc())))


@router.get(BASE)
def algorithms_page(request: Request, session: SessionDep, principal: LoggedInDep,
                    organisation: str | None = None, statut: AlgorithmStatus | None = None,
                    q: str | None = None) -> Response:
    orgs = _organisations(session, principal)
    current = get_organisation_by_slug(session, organisation) if organisation else None
    found = service.list_algorithms(session, principal,
                                    organisation_id=current.id if current else None,
                                    status=statut, q=q)
    names = {o.id: o.name for o in orgs}
    return page(request, "admin/transparency/algorithms.html", SECTION, {
        "organisations": orgs, "current": current, "status": statut, "q": q or "",
        "statuses": choices(AlgorithmStatus),
        "rows": [(names.get(a.organisation_id, ""), a) for a in found], "label": label,
        "can_create": bool(_organisations(session, principal, editable=True)),
        "breadcrumb": [(None, "Algorithmes publics")]})


@router.get(f"{BASE}/nouveau")
def new_algorithm_form(request: Request, session: SessionDep, principal: LoggedInDep
                       ) -> Response:
    orgs = _organisations(session, principal, editable=True)
    require(bool(orgs), principal, "décrire un algorithme")
    form = Form(values={"organisation": orgs[0].slug, "status": "draft", "dataset_ids": []})
    return _form_page(request, session, principal, form, orgs, None, orgs[0].id)


@router.post(f"{BASE}/nouveau")
def create_algorithm(request: Request, session: SessionDep, principal: LoggedInDep,
                     posted: FormDep) -> Response:
    orgs = _organisations(session, principal, editable=True)
    slug = str(posted.get("organisation") or "")
    organisation_id = next((o.id for o in orgs if o.slug == slug), None)
    form, data = parse(posted, organisation_id)
    if data is not None and not form.errors:
        created = service.create_algorithm(session, principal, data)
        flash(request, f"Algorithme {created.reference} enregistré.")
        return RedirectResponse(f"{BASE}/{created.id}", status_code=303)
    return _form_page(request, session, principal, form, orgs, None,
                      organisation_id or (orgs[0].id if orgs else 0), status=422)


@router.get(f"{BASE}/{{algorithm_id:int}}")
def edit_algorithm_form(algorithm_id: DbInt, request: Request, session: SessionDep,
                        principal: LoggedInDep) -> Response:
    item = service.get_algorithm(session, principal, algorithm_id)
    org = session.get(Organisation, item.organisation_id)
    form = Form(values={**values_of(item), "organisation": org.slug if org else ""})
    return _form_page(request, session, principal, form, [org] if org else [], item,
                      item.organisation_id)


@router.post(f"{BASE}/{{algorithm_id:int}}")
def update_algorithm(algorithm_id: DbInt, request: Request, session: SessionDep,
                     principal: LoggedInDep, posted: FormDep) -> Response:
    item = service.get_algorithm(session, principal, algorithm_id)
    org = session.get(Organisation, item.organisation_id)
    form, data = parse(posted, item.organisation_id)
    if data is not None and not form.errors:
        changed = service.update_algorithm(session, principal, item, data)
        flash(request, f"Algorithme {item.reference} : " + (
            f"{len(changed)} champ(s) modifié(s)." if changed else "aucun changement."))
        return RedirectResponse(f"{BASE}/{item.id}", status_code=303)
    form.values["organisation"] = org.slug if org else ""
    return _form_page(request, session, principal, form, [org] if org else [], item,
                      item.organisation_id, status=422)


@router.post(f"{BASE}/{{algorithm_id:int}}/documents/{{kind}}")
def attach_document(algorithm_id: DbInt, kind: DocumentKind, request: Request,
                    session: SessionDep, principal: LoggedInDep,
                    upload: Annotated[Upload, Depends(ReceiveUpload("fichier", page=True))]
                    ) -> Response:
    item = service.get_algorithm(session, principal, algorithm_id)
    error = upload.refused or (None if upload.path else "Choisissez un fichier à joindre.")
    if error is None and upload.path is not None:
        try:
            with session.begin_nested():
                service.attach_document(session, services(request).settings, principal, item,
                                        kind, upload.path, upload.filename)
        except Invalid as exc:
            error = exc.message
    if error is not None:
        session.refresh(item)
        org = session.get(Organisation, item.organisation_id)
        form = Form(values={**values_of(item), "organisation": org.slug if org else ""})
        return _form_page(request, session, principal, form, [org] if org else [], item,
                          item.organisation_id, status=422, upload_error=error)
    flash(request, f"{label(kind)} joint à l'algorithme {item.reference}.")
    return RedirectResponse(f"{BASE}/{item.id}#joindre", status_code=303)


# Requests for the rules of a decision (R311-3-1-2)

REQUEST_TITLES = {
    "algorithm_id": "Algorithme", "reference": "Référence", "requester": "Demandeur",
    "decision": "Décision concernée", "received_on": "Reçue le", "status": "Statut",
    "answered_on": "Répondue le", **requests.ITEMS,
}
REQUEST_OPTIONS = {"status": choices(AlgorithmRequestStatus)}


def _request_algorithms(session: SessionDep, principal: Principal) -> list[PublicAlgorithm]:
    """The algorithms a principal may record requests on: used ones, of organisations whose
    requests they handle."""
    return [a for a in session.scalars(select(PublicAlgorithm).where(
        PublicAlgorithm.status != AlgorithmStatus.DRAFT).order_by(PublicAlgorithm.name))
        if can_handle_algorithm_requests(principal, a.organisation_id)]


def parse_request(posted: FormData) -> tuple[Form, AlgorithmRequestInput | None]:
    values = {name: str(posted.get(name) or "").strip() for name in posted
              if name != "csrf_token"}
    form = Form(values=values)
    data = {k: values.get(k) or None for k in AlgorithmRequestInput.model_fields}
    data["decision"] = values.get("decision", "")
    data["requester"] = values.get("requester", "")
    return form, validated(AlgorithmRequestInput, data, form)


def _request_page(request: Request, form: Form, algorithms: list[PublicAlgorithm],
                  item: AlgorithmRequest | None, status: int = 200) -> Response:
    return page(request, "admin/transparency/request_form.html", SECTION, {
        "form": form, "titles": REQUEST_TITLES, "options": REQUEST_OPTIONS,
        "algorithms": [(str(a.id), f"{a.reference} — {a.name}") for a in algorithms],
        "item": requests.request_dict(item) if item else None,
        "answer_text": requests.answer_text(item) if item else None,
        "breadcrumb": [(BASE, "Algorithmes publics"), (f"{BASE}/demandes", "Demandes"),
                       (None, item.reference if item else "Nouvelle demande")]},
        status=status)


@router.get(f"{BASE}/demandes")
def requests_page(request: Request, session: SessionDep, principal: LoggedInDep,
                  en_retard: bool = False) -> Response:
    found = requests.list_requests(session, principal, overdue=en_retard)
    return page(request, "admin/transparency/requests.html", SECTION, {
        "rows": [(r.algorithm.name, requests.request_dict(r)) for r in found],
        "overdue_only": en_retard,
        "can_create": bool(_request_algorithms(session, principal)),
        "breadcrumb": [(BASE, "Algorithmes publics"), (None, "Demandes")]})


@router.get(f"{BASE}/demandes/nouvelle")
def new_request_form(request: Request, session: SessionDep, principal: LoggedInDep) -> Response:
    algorithms = _request_algorithms(session, principal)
    require(bool(algorithms), principal,
            "enregistrer une demande de communication des règles d'un algorithme")
    return _request_page(request, Form(values={"status": "received"}), algorithms, None)


@router.post(f"{BASE}/demandes/nouvelle")
def create_request(request: Request, session: SessionDep, principal: LoggedInDep,
                   posted: FormDep) -> Response:
    form, data = parse_request(posted)
    if data is not None and not form.errors:
        created = requests.create_request(session, principal, data)
        flash(request, f"Demande {created.reference} enregistrée ; réponse due le "
                       f"{requests.clock(created).deadline.strftime('%d/%m/%Y')}.")
        return RedirectResponse(f"{BASE}/demandes/{created.id}", status_code=303)
    return _request_page(request, form, _request_algorithms(session, principal), None,
                         status=422)


@router.get(f"{BASE}/demandes/{{request_id:int}}")
def edit_request_form(request_id: DbInt, request: Request, session: SessionDep,
                      principal: LoggedInDep) -> Response:
    item = requests.get_request(session, principal, request_id)
    values = requests.request_input(item).model_dump(mode="json")
    # Items not written yet are drafted from the register, for the agent to complete.
    draft = requests.draft_answer(item.algorithm)
    values.update({k: values[k] or draft[k] for k in requests.ITEMS})
    form = Form(values={k: "" if v is None else str(v) for k, v in values.items()})
    return _request_page(request, form, [item.algorithm], item)


@router.post(f"{BASE}/demandes/{{request_id:int}}")
def update_request(request_id: DbInt, request: Request, session: SessionDep,
                   principal: LoggedInDep, posted: FormDep) -> Response:
    item = requests.get_request(session, principal, request_id)
    form, data = parse_request(posted)
    if data is not None and not form.errors:
        requests.update_request(session, principal, item, data)
        flash(request, f"Demande {item.reference} mise à jour.")
        return RedirectResponse(f"{BASE}/demandes/{item.id}", status_code=303)
    return _request_page(request, form, [item.algorithm], item, status=422)


# Data of general interest

GI_TITLES = {
    "organisation_id": "Organisation", "reference": "Référence", "holder": "Détenteur",
    "holder_kind": "Nature du détenteur", "holder_siren": "SIREN du détenteur",
    "data_asked": "Données demandées", "basis": "Fondement", "basis_details": "Précisions",
    "state": "État", "asked_on": "Demandées le", "discussion_on": "Discussion engagée le",
    "decided_on": "Décision le", "delivered_on": "Livrées le",
    "agreement_url": "Accord signé (adresse)", "public_summary": "Résumé public",
    "public": "Publier le résumé", "dataset_ids": "Jeux de données reçus",
}
GI_OPTIONS = {"holder_kind": choices(HolderKind), "basis": choices(GeneralInterestBasis),
              "state": choices(GeneralInterestState)}
GI_BASE = f"{BASE}/interet-general"


def _gi_organisations(session: SessionDep, principal: Principal) -> list[Organisation]:
    return [o for o in _organisations(session, principal)
            if can_manage_general_interest(principal, o.id)]


def parse_general_interest(posted: FormData, organisation_id: int | None
                           ) -> tuple[Form, GeneralInterestInput | None]:
    values: dict[str, Any] = {name: str(posted.get(name) or "").strip() for name in posted
                              if name != "csrf_token" and name not in service.LINKS}
    for field in service.LINKS:
        values[field] = [str(v) for v in posted.getlist(field)]
    form = Form(values=values)
    if organisation_id is None:
        form.errors["organisation_id"] = "choisissez une organisation."
        return form, None
    data: dict[str, Any] = {k: values.get(k) or None for k in GeneralInterestInput.model_fields}
    for text in ("holder", "data_asked", "basis_details", "public_summary"):
        data[text] = values.get(text, "")
    data.update(organisation_id=organisation_id, public=values.get("public") == "true",
                dataset_ids=values["dataset_ids"])
    return form, validated(GeneralInterestInput, data, form)


def _gi_page(request: Request, session: SessionDep, principal: Principal, form: Form,
             organisations: list[Organisation], item: GeneralInterestRequest | None,
             organisation_id: int, status: int = 200) -> Response:
    return page(request, "admin/transparency/general_interest_form.html", SECTION, {
        "form": form, "titles": GI_TITLES, "options": GI_OPTIONS,
        "organisations": organisations,
        "item": general_interest.request_dict(item, principal) if item else None,
        "datasets": _dataset_choices(session, principal, organisation_id,
                                     form.values.get("dataset_ids", [])),
        "breadcrumb": [(BASE, "Algorithmes publics"), (GI_BASE, "Données d'intérêt général"),
                       (None, item.reference if item else "Nouvelle demande")]},
        status=status)


@router.get(GI_BASE)
def general_interest_page(request: Request, session: SessionDep, principal: LoggedInDep,
                          etat: GeneralInterestState | None = None) -> Response:
    found = general_interest.list_requests(session, principal, state=etat)
    names = {o.id: o.name for o in _organisations(session, principal)}
    return page(request, "admin/transparency/general_interest.html", SECTION, {
        "rows": [(names.get(r.organisation_id, ""), general_interest.request_dict(r, principal))
                 for r in found],
        "state": etat, "states": choices(GeneralInterestState),
        "can_create": bool(_gi_organisations(session, principal)),
        "breadcrumb": [(BASE, "Algorithmes publics"), (None, "Données d'intérêt général")]})


@router.get(f"{GI_BASE}/nouvelle")
def new_general_interest_form(request: Request, session: SessionDep, principal: LoggedInDep
                              ) -> Response:
    orgs = _gi_organisations(session, principal)
    require(bool(orgs), principal, "demander des données d'intérêt général")
    form = Form(values={"organisation": orgs[0].slug, "state": "asked", "dataset_ids": []})
    return _gi_page(request, session, principal, form, orgs, None, orgs[0].id)


@router.post(f"{GI_BASE}/nouvelle")
def create_general_interest(request: Request, session: SessionDep, principal: LoggedInDep,
                            posted: FormDep) -> Response:
    orgs = _gi_organisations(session, principal)
    slug = str(posted.get("organisation") or "")
    organisation_id = next((o.id for o in orgs if o.slug == slug), None)
    form, data = parse_general_interest(posted, organisation_id)
    if data is not None and not form.errors:
        created = general_interest.create_request(session, principal, data)
        flash(request, f"Demande {created.reference} enregistrée.")
        return RedirectResponse(f"{GI_BASE}/{created.id}", status_code=303)
    return _gi_page(request, session, principal, form, orgs, None,
                    organisation_id or (orgs[0].id if orgs else 0), status=422)


@router.get(f"{GI_BASE}/{{request_id:int}}")
def edit_general_interest_form(request_id: DbInt, request: Request, session: SessionDep,
                               principal: LoggedInDep) -> Response:
    item = general_interest.get_request(session, principal, request_id)
    org = session.get(Organisation, item.organisation_id)
    values = general_interest.request_input(item).model_dump(mode="json")
    form = Form(values={**{k: "" if v is None else v for k, v in values.items()},
                        "public": "true" if item.public else "",
                        "dataset_ids": [str(i) for i in values["dataset_ids"]],
                        "organisation": org.slug if org else ""})
    return _gi_page(request, session, principal, form, [org] if org else [], item,
                    item.organisation_id)


@router.post(f"{GI_BASE}/{{request_id:int}}")
def update_general_interest(request_id: DbInt, request: Request, session: SessionDep,
                            principal: LoggedInDep, posted: FormDep) -> Response:
    item = general_interest.get_request(session, principal, request_id)
    org = session.get(Organisation, item.organisation_id)
    form, data = parse_general_interest(posted, item.organisation_id)
    if data is not None and not form.errors:
        general_interest.update_request(session, principal, item, data)
        flash(request, f"Demande {item.reference} mise à jour.")
        return RedirectResponse(f"{GI_BASE}/{item.id}", status_code=303)
    form.values["organisation"] = org.slug if org else ""
    return _gi_page(request, session, principal, form, [org] if org else [], item,
                    item.organisation_id,
                    status=422)
