"""Back-office pages of the GDPR register: the DPO's dashboard, each organisation's register
(with its export and import), an activity's sheet with its DPIAs and history, rights
requests with their deadlines and breaches with their 72-hour clock.

The pages call the same service functions as the JSON API and the command line; the
permissions are theirs (access/permissions.py).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from patrimoine.access.permissions import (
    can_edit_register,
    can_handle_protection_cases,
    register_organisations,
    require,
)
from patrimoine.core.db import DbInt
from patrimoine.core.errors import Invalid
from patrimoine.core.vocabulary import label
from patrimoine.inventory.models import Organisation
from patrimoine.inventory.service import get_organisation_by_slug
from patrimoine.protection import breaches, dashboard, dpia, rights_requests
from patrimoine.protection.register import service as register
from patrimoine.protection.register import spreadsheet
from patrimoine.protection.register.models import ProcessingActivity
from patrimoine.protection.register.service import describe_retention
from patrimoine.protection.register.vocabulary import (
    ActivityStatus,
    Art9Condition,
    DataCategory,
    DataSource,
    DpiaCriterion,
    DpiaDecision,
    RecipientKind,
    RiskKind,
    SecurityMeasure,
    SpecialCategory,
    TransferSafeguard,
)
from patrimoine.web.deps import LoggedInDep, SessionDep
from patrimoine.web.pages import protection_forms as forms
from patrimoine.web.pages import register_public
from patrimoine.web.pages.backoffice import FormDep, page
from patrimoine.web.templating import flash
from patrimoine.web.uploads import ReceiveUpload, Upload, UploadTooLarge

router = APIRouter(include_in_schema=False)
router.include_router(register_public.router)
SECTION = "protection"
SentFile = Annotated[Upload, Depends(ReceiveUpload("file", page=True))]


def _organisations(session: SessionDep, principal: Any, *, cases: bool = False
                   ) -> list[Organisation]:
    scope = register_organisations(principal, cases=cases)
    orgs = session.scalars(select(Organisation).order_by(Organisation.name))
    return [o for o in orgs if scope is None or o.id in scope]


@router.get("/admin/protection")
def protection_dashboard(request: Request, session: SessionDep, principal: LoggedInDep
                         ) -> Response:
    board = dashboard.dashboard(session, principal)
    names = {o["organisation_id"]: o["organisation"] for o in board["organisations"]}
    overdue = [(names.get(r.organisation_id, ""), rights_requests.request_dict(r))
               for r in rights_requests.list_requests(session, principal, overdue=True)]
    running = [(names.get(b.organisation_id, ""), breaches.breach_dict(b))
               for b in breaches.breaches_to_notify(session, principal)]
    missing = [(names.get(a.organisation_id, ""), a) for a in dpia.missing_dpias(session,
                                                                                 principal)]
    unregistered = [(o["organisation"], d) for o in board["organisations"]
                    for d in register.unregistered_personal_datasets(
                        session, principal, o["organisation_id"])]
    return page(request, "admin/protection/dashboard.html", SECTION, {
        "board": board, "overdue": overdue, "running": running, "missing": missing,
        "unregistered": unregistered[:30], "unregistered_total": len(unregistered),
        "breadcrumb": [("/admin", "Tableau de bord"), (None, "Protection des données")],
    })


@router.get("/admin/protection/registre")
def register_page(request: Request, session: SessionDep, principal: LoggedInDep,
                  organisation: str | None = None) -> Response:
    orgs = _organisations(session, principal)
    current = get_organisation_by_slug(session, organisation) if organisation else (
        orgs[0] if len(orgs) == 1 else None)
    activities = register.list_activities(
        session, principal, organisation_id=current.id if current else None)
    names = {o.id: o.name for o in orgs}
    rows = [{"activity": a, "organisation": names.get(a.organisation_id, ""),
             "basis": label(a.legal_basis) if a.legal_basis else "—",
             "status": label(a.status), "dpia": dpia.assess(a), "gaps": register.gaps(a)}
            for a in activities]
    return page(request, "admin/protection/register.html", SECTION, {
        "organisations": orgs, "current": current, "rows": rows,
        "has_public": any(a.public and a.status == ActivityStatus.ACTIVE for a in activities),
        "can_edit": bool(current and can_edit_register(principal, current.id)),
        "can_import": any(can_edit_register(principal, o.id) for o in orgs),
        "breadcrumb": [("/admin/protection", "Protection des données"),
                       (None, "Registre des traitements")],
    })


@router.post("/admin/protection/registre/import")
def register_import(request: Request, session: SessionDep, principal: LoggedInDep,
                          sent: SentFile) -> Response:
    if sent.refused:
        raise UploadTooLarge(sent.refused)  # this form's errors show on the error page
    if sent.path is None:
        raise Invalid("Choisissez le fichier du registre (XLSX, ODS ou CSV).")
    dry_run = bool(sent.form.get("dry_run"))
    plan = spreadsheet.plan_register_import(session, principal, sent.path.read_bytes(),
                                            sent.filename)
    result = None
    if plan.ok and not dry_run:
        result = spreadsheet.apply_register_import(session, principal, plan)
    return page(request, "admin/protection/import_result.html", SECTION, {
        "plan": plan, "result": result, "dry_run": dry_run,
        "breadcrumb": [("/admin/protection", "Protection des données"),
                       ("/admin/protection/registre", "Registre des traitements"),
                       (None, "Import")],
    }, status=200 if plan.ok else 422)


def _items(activity: ProcessingActivity) -> dict[str, list[str]]:
    """The list fields of an activity as French lines, for the sheet."""
    def opt(text: str | None, prefix: str) -> str:
        return f" — {prefix}{text}" if text else ""

    return {
        "Responsables conjoints": [j["name"] + opt(j.get("contact"), "")
                                   for j in activity.joint_controllers],
        "Sous-traitants": [p["name"] + (opt(p.get("contract_reference"), "contrat ")
                                        or " — contrat non renseigné")
                           for p in activity.processors],
        "Sous-finalités": list(activity.sub_purposes),
        "Personnes concernées": list(activity.data_subjects),
        "Catégories de données": [label(DataCategory(c["category"])) + opt(c.get("details"), "")
                                  for c in activity.data_categories],
        "Données sensibles": [label(SpecialCategory(c)) for c in activity.special_categories],
        "Destinataires": [f"{r['name']} ({label(RecipientKind(r['kind'])).lower()})"
                          for r in activity.recipients],
        "Transferts hors UE": [f"{t['recipient']}, {t['country']} — "
                               f"{label(TransferSafeguard(t['safeguard']))}"
                               for t in activity.transfers],
        "Durées de conservation": [
            (label(DataCategory(r["data_category"])) if r.get("data_category")
             else "Toutes les données") + " : " + describe_retention(r)
            for r in activity.retention_rules],
        "Mesures de sécurité": [label(SecurityMeasure(m["measure"])) + opt(m.get("details"), "")
                                for m in activity.security_measures],
        "Sources des données": [label(DataSource(s)) for s in activity.data_sources],
        "Jeux de données liés": list(activity.linked_datasets),
        "Applications liées": list(activity.linked_applications),
        "Critères d'AIPD": [label(DpiaCriterion(c)) for c in activity.dpia_criteria],
    }


@router.get("/admin/protection/traitements/{activity_id:int}")
def activity_page(activity_id: DbInt, request: Request, session: SessionDep,
                  principal: LoggedInDep) -> Response:
    activity = register.get_activity(session, principal, activity_id)
    org = session.get(Organisation, activity.organisation_id)
    return page(request, "admin/protection/activity.html", SECTION, {
        "activity": activity, "organisation": org, "items": _items(activity),
        "can_edit": can_edit_register(principal, activity.organisation_id),
        "basis": label(activity.legal_basis) if activity.legal_basis else None,
        "art9": label(Art9Condition(activity.art9_condition))
        if activity.art9_condition else None,
        "status": label(activity.status), "assessment": dpia.assess(activity),
        "dpias": [dpia.dpia_dict(d) for d in activity.dpias],
        "decision_labels": {d.value: label(d) for d in DpiaDecision},
        "risk_labels": {r.value: label(r) for r in RiskKind},
        "gaps": register.gaps(activity), "history": register.history(session, principal,
                                                                        activity),
        "breadcrumb": [("/admin/protection", "Protection des données"),
                       (f"/admin/protection/registre?organisation={org.slug}" if org else
                        "/admin/protection/registre", "Registre des traitements"),
                       (None, activity.reference)],
    })


@router.get("/admin/protection/demandes")
def requests_page(request: Request, session: SessionDep, principal: LoggedInDep,
                  organisation: str | None = None, en_retard: bool = False) -> Response:
    orgs = _organisations(session, principal, cases=True)
    current = get_organisation_by_slug(session, organisation) if organisation else None
    found = rights_requests.list_requests(
        session, principal, organisation_id=current.id if current else None, overdue=en_retard)
    names = {o.id: o.name for o in orgs}
    return page(request, "admin/protection/requests.html", SECTION, {
        "organisations": orgs, "current": current, "overdue_only": en_retard,
        "rows": [(names.get(r.organisation_id, ""), rights_requests.request_dict(r))
                 for r in found],
        "counts": rights_requests.counts(found),
        "visible": bool(orgs) or principal.is_superadmin,
        "breadcrumb": [("/admin/protection", "Protection des données"),
                       (None, "Demandes d'exercice des droits")],
    })


@router.get("/admin/protection/violations")
def breaches_page(request: Request, session: SessionDep, principal: LoggedInDep,
                  organisation: str | None = None) -> Response:
    orgs = _organisations(session, principal, cases=True)
    current = get_organisation_by_slug(session, organisation) if organisation else None
    found = breaches.list_breaches(session, principal,
                                   organisation_id=current.id if current else None)
    names = {o.id: o.name for o in orgs}
    return page(request, "admin/protection/breaches.html", SECTION, {
        "organisations": orgs, "current": current,
        "rows": [(names.get(b.organisation_id, ""), breaches.breach_dict(b)) for b in found],
        "visible": bool(orgs) or principal.is_superadmin,
        "breadcrumb": [("/admin/protection", "Protection des données"),
                       (None, "Violations de données")],
    })


# Forms: a rights request, a breach


def _case_organisations(session: SessionDep, principal: Any) -> list[Organisation]:
    return [o for o in _organisations(session, principal, cases=True)
            if can_handle_protection_cases(principal, o.id)]


def _org_from_form(session: SessionDep, posted: Any, orgs: list[Organisation]) -> int | None:
    slug = str(posted.get("organisation") or "")
    return next((o.id for o in orgs if o.slug == slug), None)


def _form_page(request: Request, template: str, context: dict[str, Any], status: int = 200
               ) -> Response:
    return page(request, template, SECTION, {"options": forms.OPTIONS, **context},
                status=status)


@router.get("/admin/protection/demandes/nouvelle")
def new_request_form(request: Request, session: SessionDep, principal: LoggedInDep) -> Response:
    orgs = _case_organisations(session, principal)
    require(bool(orgs), principal, "enregistrer une demande d'exercice des droits")
    form = forms.Form(values={"status": "received", "organisation": orgs[0].slug})
    return _form_page(request, "admin/protection/request_form.html", {
        "form": form, "titles": forms.REQUEST_TITLES, "organisations": orgs, "item": None,
        "mention": rights_requests.COMPLAINT_MENTION})


@router.post("/admin/protection/demandes/nouvelle")
def create_request(request: Request, session: SessionDep, principal: LoggedInDep,
                   posted: FormDep) -> Response:
    orgs = _case_organisations(session, principal)
    form, data = forms.parse_request(posted, _org_from_form(session, posted, orgs))
    if data is not None and not form.errors:
        created = rights_requests.create_request(session, principal, data)
        flash(request, f"Demande {created.reference} enregistrée ; réponse due le "
                       f"{rights_requests.clock(created).deadline.strftime('%d/%m/%Y')}.")
        return RedirectResponse("/admin/protection/demandes", status_code=303)
    return _form_page(request, "admin/protection/request_form.html", {
        "form": form, "titles": forms.REQUEST_TITLES, "organisations": orgs, "item": None,
        "mention": rights_requests.COMPLAINT_MENTION}, status=422)


@router.get("/admin/protection/demandes/{request_id:int}")
def edit_request_form(request_id: DbInt, request: Request, session: SessionDep,
                      principal: LoggedInDep) -> Response:
    item = rights_requests.get_request(session, principal, request_id)
    org = session.get(Organisation, item.organisation_id)
    form = forms.Form(values={**forms.request_values(item), "organisation": org.slug if org
                              else ""})
    return _form_page(request, "admin/protection/request_form.html", {
        "form": form, "titles": forms.REQUEST_TITLES, "organisations": [org], "item":
        rights_requests.request_dict(item), "mention": rights_requests.COMPLAINT_MENTION})


@router.post("/admin/protection/demandes/{request_id:int}")
def update_request(request_id: DbInt, request: Request, session: SessionDep,
                   principal: LoggedInDep, posted: FormDep) -> Response:
    item = rights_requests.get_request(session, principal, request_id)
    org = session.get(Organisation, item.organisation_id)
    form, data = forms.parse_request(posted, item.organisation_id)
    if data is not None and not form.errors:
        rights_requests.update_request(session, principal, item, data)
        flash(request, f"Demande {item.reference} mise à jour.")
        return RedirectResponse("/admin/protection/demandes", status_code=303)
    form.values["organisation"] = org.slug if org else ""
    return _form_page(request, "admin/protection/request_form.html", {
        "form": form, "titles": forms.REQUEST_TITLES, "organisations": [org],
        "item": rights_requests.request_dict(item), "mention": rights_requests.COMPLAINT_MENTION},
        status=422)


@router.get("/admin/protection/violations/nouvelle")
def new_breach_form(request: Request, session: SessionDep, principal: LoggedInDep) -> Response:
    orgs = _case_organisations(session, principal)
    require(bool(orgs), principal, "consigner une violation de données")
    form = forms.Form(values={"risk": "to_assess", "organisation": orgs[0].slug,
                              "natures": [], "data_categories": []})
    return _form_page(request, "admin/protection/breach_form.html", {
        "form": form, "titles": forms.BREACH_TITLES, "organisations": orgs, "item": None})


@router.post("/admin/protection/violations/nouvelle")
def create_breach(request: Request, session: SessionDep, principal: LoggedInDep,
                  posted: FormDep) -> Response:
    orgs = _case_organisations(session, principal)
    form, data = forms.parse_breach(posted, _org_from_form(session, posted, orgs))
    if data is not None and not form.errors:
        created = breaches.create_breach(session, principal, data)
        deadline = breaches.clock(created).deadline.astimezone(forms.PARIS)
        flash(request, f"Violation {created.reference} consignée ; notification à la CNIL "
                       f"au plus tard le {deadline.strftime('%d/%m/%Y à %H:%M')}.")
        return RedirectResponse("/admin/protection/violations", status_code=303)
    return _form_page(request, "admin/protection/breach_form.html", {
        "form": form, "titles": forms.BREACH_TITLES, "organisations": orgs, "item": None},
        status=422)


@router.get("/admin/protection/violations/{breach_id:int}")
def edit_breach_form(breach_id: DbInt, request: Request, session: SessionDep,
                     principal: LoggedInDep) -> Response:
    item = breaches.get_breach(session, principal, breach_id)
    org = session.get(Organisation, item.organisation_id)
    form = forms.Form(values={**forms.breach_values(item),
                              "organisation": org.slug if org else ""})
    return _form_page(request, "admin/protection/breach_form.html", {
        "form": form, "titles": forms.BREACH_TITLES, "organisations": [org],
        "item": breaches.breach_dict(item)})


@router.post("/admin/protection/violations/{breach_id:int}")
def update_breach(breach_id: DbInt, request: Request, session: SessionDep,
                  principal: LoggedInDep, posted: FormDep) -> Response:
    item = breaches.get_breach(session, principal, breach_id)
    org = session.get(Organisation, item.organisation_id)
    form, data = forms.parse_breach(posted, item.organisation_id)
    if data is not None and not form.errors:
        breaches.update_breach(session, principal, item, data)
        flash(request, f"Violation {item.reference} mise à jour.")
        return RedirectResponse("/admin/protection/violations", status_code=303)
    form.values["organisation"] = org.slug if org else ""
    return _form_page(request, "admin/protection/breach_form.html", {
        "form": form, "titles": forms.BREACH_TITLES, "organisations": [org],
        "item": breaches.breach_dict(item)}, status=422)


def _activity_form(request: Request, form: forms.Form, orgs: list[Organisation],
                   activity: ProcessingActivity | None, status: int = 200) -> Response:
    return page(request, "admin/protection/activity_form.html", SECTION, {
        "form": form, "titles": forms.activity_titles(), "options": forms.activity_options(),
        "fields": forms.ACTIVITY_FIELDS, "organisations": orgs, "activity": activity,
        "breadcrumb": [("/admin/protection", "Protection des données"),
                       ("/admin/protection/registre", "Registre des traitements"),
                       (None, f"Modifier {activity.reference}" if activity
                        else "Nouveau traitement")],
    }, status=status)


def _editable_organisations(session: SessionDep, principal: Any) -> list[Organisation]:
    return [o for o in _organisations(session, principal) if can_edit_register(principal, o.id)]


@router.get("/admin/protection/traitements/nouveau")
def new_activity_form(request: Request, session: SessionDep, principal: LoggedInDep,
                      organisation: str | None = None) -> Response:
    orgs = _editable_organisations(session, principal)
    require(bool(orgs), principal, "inscrire un traitement au registre")
    chosen = organisation if any(o.slug == organisation for o in orgs) else orgs[0].slug
    form = forms.Form(values={"organisation": chosen, "status": "active"})
    return _activity_form(request, form, orgs, None)


@router.post("/admin/protection/traitements/nouveau")
def create_activity(request: Request, session: SessionDep, principal: LoggedInDep,
                    posted: FormDep) -> Response:
    orgs = _editable_organisations(session, principal)
    form, data = forms.parse_activity(posted, _org_from_form(session, posted, orgs))
    if data is not None and not form.errors:
        try:
            activity = register.create_activity(session, principal, data)
        except Invalid as exc:
            form.general.append(exc.message)
        else:
            flash(request, f"Traitement {activity.reference} inscrit au registre.")
            return RedirectResponse(f"/admin/protection/traitements/{activity.id}",
                                    status_code=303)
    return _activity_form(request, form, orgs, None, status=422)


@router.get("/admin/protection/traitements/{activity_id:int}/modifier")
def edit_activity_form(activity_id: DbInt, request: Request, session: SessionDep,
                       principal: LoggedInDep) -> Response:
    activity = register.get_activity(session, principal, activity_id)
    require(can_edit_register(principal, activity.organisation_id), principal,
            "modifier le registre de cette organisation")
    org = session.get(Organisation, activity.organisation_id)
    form = forms.Form(values={**forms.activity_values(activity),
                              "organisation": org.slug if org else ""})
    return _activity_form(request, form, [org] if org else [], activity)


@router.post("/admin/protection/traitements/{activity_id:int}/modifier")
def update_activity(activity_id: DbInt, request: Request, session: SessionDep,
                    principal: LoggedInDep, posted: FormDep) -> Response:
    activity = register.get_activity(session, principal, activity_id)
    org = session.get(Organisation, activity.organisation_id)
    form, data = forms.parse_activity(posted, activity.organisation_id)
    if data is not None and not form.errors:
        try:
            changes = register.update_activity(session, principal, activity, data)
        except Invalid as exc:
            form.general.append(exc.message)
        else:
            flash(request, f"Traitement {activity.reference} : {len(changes)} champ(s) "
                           "modifié(s)." if changes else "Aucune modification.")
            return RedirectResponse(f"/admin/protection/traitements/{activity.id}",
                                    status_code=303)
    form.values["organisation"] = org.slug if org else ""
    return _activity_form(request, form, [org] if org else [], activity, status=422)


def _dpia_form(request: Request, form: forms.Form, activity: ProcessingActivity,
               record: Any, status: int = 200) -> Response:
    return page(request, "admin/protection/dpia_form.html", SECTION, {
        "form": form, "titles": forms.DPIA_TITLES, "activity": activity, "record": record,
        "risk_kinds": [(k.value, label(k)) for k in RiskKind],
        "decisions": [(d.value, label(d)) for d in DpiaDecision],
        "breadcrumb": [("/admin/protection", "Protection des données"),
                       (f"/admin/protection/traitements/{activity.id}", activity.reference),
                       (None, "Analyse d'impact")],
    }, status=status)


@router.get("/admin/protection/traitements/{activity_id:int}/aipd")
def new_dpia_form(activity_id: DbInt, request: Request, session: SessionDep,
                  principal: LoggedInDep) -> Response:
    activity = register.get_activity(session, principal, activity_id)
    require(can_edit_register(principal, activity.organisation_id), principal,
            "modifier le registre de cette organisation")
    return _dpia_form(request, forms.Form(values={"decision": "pending"}), activity, None)


@router.post("/admin/protection/traitements/{activity_id:int}/aipd")
def create_dpia(activity_id: DbInt, request: Request, session: SessionDep,
                principal: LoggedInDep, posted: FormDep) -> Response:
    activity = register.get_activity(session, principal, activity_id)
    form, data = forms.parse_dpia(posted)
    if data is not None and not form.errors:
        dpia.create_dpia(session, principal, activity, data)
        flash(request, "Analyse d'impact enregistrée.")
        return RedirectResponse(f"/admin/protection/traitements/{activity.id}", status_code=303)
    return _dpia_form(request, form, activity, None, status=422)


@router.get("/admin/protection/aipd/{dpia_id:int}")
def edit_dpia_form(dpia_id: DbInt, request: Request, session: SessionDep,
                   principal: LoggedInDep) -> Response:
    record = dpia.get_dpia(session, principal, dpia_id)
    require(can_edit_register(principal, record.activity.organisation_id), principal,
            "modifier le registre de cette organisation")
    return _dpia_form(request, forms.Form(values=forms.dpia_values(record)), record.activity,
                      record)


@router.post("/admin/protection/aipd/{dpia_id:int}")
def update_dpia(dpia_id: DbInt, request: Request, session: SessionDep, principal: LoggedInDep,
                posted: FormDep) -> Response:
    record = dpia.get_dpia(session, principal, dpia_id)
    form, data = forms.parse_dpia(posted)
    if data is not None and not form.errors:
        dpia.update_dpia(session, principal, record, data)
        flash(request, "Analyse d'impact mise à jour.")
        return RedirectResponse(f"/admin/protection/traitements/{record.activity_id}",
                                status_code=303)
    return _dpia_form(request, form, record.activity, record, status=422)
