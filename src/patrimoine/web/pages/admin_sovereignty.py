"""Back-office pages of sovereignty: the application map (search, facets, the placements
that break the hosting strategy), an application's sheet with its links and history, its
form with errors beside each field, and the contracts with their clauses, reversibility
tests and the reversibility watch.

The pages call the same service functions as the JSON API and the command line; the
permissions are theirs (access/permissions.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from patrimoine.access.permissions import (
    can_edit_sovereignty,
    can_read_sovereignty,
    require,
    sovereignty_organisations,
)
from patrimoine.access.principal import Principal
from patrimoine.core.db import DbInt
from patrimoine.core.errors import Invalid
from patrimoine.core.vocabulary import choices, label
from patrimoine.inventory.models import Organisation
from patrimoine.inventory.service import get_organisation_by_slug
from patrimoine.sovereignty import applications as apps
from patrimoine.sovereignty import contracts as ctr
from patrimoine.sovereignty import strategy
from patrimoine.sovereignty.applications import ApplicationInput
from patrimoine.sovereignty.models import (
    Application,
    ApplicationStatus,
    Certification,
    ClauseStatus,
    Contract,
    ContractKind,
    DataLocation,
    HostingMode,
    TestResult,
    TransferTool,
)
from patrimoine.transparency.service import algorithms_citing
from patrimoine.web.deps import LoggedInDep, SessionDep
from patrimoine.web.errors import validation_message
from patrimoine.web.pages.backoffice import FormDep, page, query_string
from patrimoine.web.pages.protection_forms import Form
from patrimoine.web.templating import flash

router = APIRouter(include_in_schema=False)
BASE = "/admin/souverainete"
SECTION = "souverainete"

TITLES = {
    "reference": "Référence", "name": "Nom de l'application", "vendor": "Éditeur",
    "purpose": "Objet", "department": "Direction", "business_owner": "Responsable métier",
    "technical_owner": "Responsable technique", "status": "Statut",
    "hosting_mode": "Mode d'hébergement", "host": "Hébergeur", "location":
    "Localisation des données", "country": "Pays", "adequacy_decision":
    "Décision d'adéquation", "transfer_tool": "Outil de transfert",
    "non_eu_law_exposure": "Prestataire soumis à une loi extra-européenne",
    "certifications": "Certifications", "sensitivity": "Sensibilité des données",
    "datasets": "Jeux de données de l'inventaire (un identifiant par ligne)",
    "activities": "Traitements du registre (une référence par ligne)",
}
FACET_TITLES = {"status": "Statut", "hosting_mode": "Hébergement",
                "location": "Localisation", "sensitivity": "Sensibilité"}
_LINES = ("datasets", "activities")


def sovereignty_orgs(session: Session, principal: Principal, *, edit: bool = False
                   ) -> list[Organisation]:
    scope = sovereignty_organisations(principal)
    orgs = session.scalars(select(Organisation).order_by(Organisation.name))
    return [o for o in orgs if (scope is None or o.id in scope)
            and (not edit or can_edit_sovereignty(principal, o.id))]


@router.get(BASE)
def applications_page(request: Request, session: SessionDep, principal: LoggedInDep
                      ) -> Response:
    q = request.query_params.get("q", "").strip()
    filters = {f: request.query_params[f] for f in apps.FACETS
               if request.query_params.get(f)}
    try:
        found = apps.list_applications(session, principal, q=q or None, filters=filters)
    except Invalid:
        found, filters = [], {}
    everything = apps.list_applications(session, principal, q=q or None)
    facets: dict[str, list[tuple[str, str, int, str]]] = {}
    for f in apps.FACETS:
        counts: dict[str, int] = {}
        for a in everything:
            value = getattr(a, f)
            if value is not None:
                counts[str(value)] = counts.get(str(value), 0) + 1
        others = [(k, v) for k, v in ([("q", q)] if q else []) + list(filters.items())
                  if k != f]
        facets[f] = [(value, _facet_label(f, value), n, query_string([*others, (f, value)]))
                     for value, n in sorted(counts.items(), key=lambda i: -i[1])]
    breaches = strategy.breaches(session, principal)
    return page(request, "admin/sovereignty/applications.html", SECTION, {
        "applications": found, "q": q, "filters": filters, "facets": facets,
        "facet_titles": FACET_TITLES, "breaches": breaches, "label": label,
        "can_create": bool(sovereignty_orgs(session, principal, edit=True)),
        "stats": apps.stats(session, principal, "hosting"),
        "organisations": sovereignty_orgs(session, principal),
    })


def _facet_label(field: str, value: str) -> str:
    enums = {"status": ApplicationStatus, "hosting_mode": HostingMode,
             "location": DataLocation}
    return label(enums[field](value)) if field in enums else value


def _form_page(request: Request, session: Session, principal: Principal, form: Form,
               application: Application | None, status: int = 200) -> Response:
    orgs = sovereignty_orgs(session, principal, edit=True)
    org_id = application.organisation_id if application else (
        next((o.id for o in orgs if o.slug == form.values.get("organisation")), None)
        or (orgs[0].id if orgs else None))
    levels = strategy.levels(session, org_id) if org_id else []
    return page(request, "admin/sovereignty/application_form.html", SECTION, {
        "breadcrumb": [(BASE, "Souveraineté"), (None, application.name if application
                                                else "Nouvelle application")],
        "form": form, "titles": TITLES, "application": application,
        "organisations": orgs,
        "options": {"status": choices(ApplicationStatus), "hosting_mode": choices(HostingMode),
                    "location": choices(DataLocation), "transfer_tool": choices(TransferTool),
                    "sensitivity": [(lv.code, lv.label) for lv in levels]},
        "certifications": choices(Certification),
    }, status=status)


def _posted(form: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in form:
        if name == "csrf_token":
            continue
        values[name] = [str(v) for v in form.getlist(name)] if name == "certifications" \
            else str(form.get(name) or "").strip()
    return values


def _input(session: Session, values: dict[str, Any], organisation_id: int | None,
           form: Form) -> ApplicationInput | None:
    data: dict[str, Any] = {k: (v or None) for k, v in values.items()
                            if k in TITLES and k not in _LINES}
    data["purpose"] = values.get("purpose", "")
    data["status"] = values.get("status") or ApplicationStatus.IN_SERVICE.value
    data["non_eu_law_exposure"] = values.get("non_eu_law_exposure") == "on"
    data["certifications"] = values.get("certifications", [])
    for name in _LINES:
        data[name] = [line.strip() for line in str(values.get(name, "")).splitlines()
                      if line.strip()]
    if organisation_id is None:
        form.errors["organisation"] = "Choisissez une organisation dans la liste."
        return None
    try:
        parsed = ApplicationInput.model_validate({**data, "organisation_id": organisation_id})
    except ValidationError as exc:
        for e in exc.errors():
            name = str(e["loc"][0]) if e["loc"] else ""
            form.errors.setdefault(name, validation_message(e))
        return None
    for name, message in apps.placement_errors(parsed):
        form.errors.setdefault(name, message)
    return None if form.errors else parsed


def _save(session: Session, principal: Principal, data: ApplicationInput, form: Form,
          application: Application | None) -> Application | None:
    try:
        with session.begin_nested():
            if application is None:
                return apps.create_application(session, principal, data)
            apps.update_application(session, principal, application, data)
            return application
    except Invalid as exc:
        if "sensibilité" in exc.message:
            form.errors["sensitivity"] = exc.message
        elif "Jeux de données" in exc.message:
            form.errors["datasets"] = exc.message
        elif "Traitements" in exc.message:
            form.errors["activities"] = exc.message
        else:
            form.general += [exc.message, *exc.errors]
        return None


@router.get(BASE + "/applications/nouvelle")
def new_application_page(request: Request, session: SessionDep, principal: LoggedInDep
                         ) -> Response:
    orgs = sovereignty_orgs(session, principal, edit=True)
    require(bool(orgs), principal, "modifier une cartographie applicative")
    form = Form(values={"organisation": orgs[0].slug, "status": "in_service",
                        "hosting_mode": "own", "location": "france"})
    return _form_page(request, session, principal, form, None)


@router.post(BASE + "/applications/nouvelle")
def create_application_page(request: Request, session: SessionDep, principal: LoggedInDep,
                            posted: FormDep) -> Response:
    orgs = {o.slug: o for o in sovereignty_orgs(session, principal, edit=True)}
    require(bool(orgs), principal, "modifier une cartographie applicative")
    form = Form(values=_posted(posted))
    org = orgs.get(str(form.values.get("organisation", "")))
    data = _input(session, form.values, org.id if org else None, form)
    saved = _save(session, principal, data, form, None) if data else None
    if saved is None:
        return _form_page(request, session, principal, form, None, 422)
    flash(request, f"Application « {saved.name} » enregistrée ({saved.reference}).")
    return RedirectResponse(f"{BASE}/applications/{saved.id}", status_code=303)


def _values(application: Application) -> dict[str, Any]:
    values = apps.values_of(application)
    out: dict[str, Any] = {k: ("" if v is None else v) for k, v in values.items()}
    out["non_eu_law_exposure"] = "on" if application.non_eu_law_exposure else ""
    for name in _LINES:
        out[name] = "\n".join(values[name])
    return out


@router.get(BASE + "/applications/{application_id:int}/modifier")
def edit_application_page(application_id: DbInt, request: Request, session: SessionDep,
                          principal: LoggedInDep) -> Response:
    application = apps.get_application(session, principal, application_id)
    require(can_edit_sovereignty(principal, application.organisation_id), principal,
            "modifier la cartographie applicative de cette organisation")
    return _form_page(request, session, principal, Form(values=_values(application)),
                      application)


@router.post(BASE + "/applications/{application_id:int}/modifier")
def update_application_page(application_id: DbInt, request: Request, session: SessionDep,
                            principal: LoggedInDep, posted: FormDep) -> Response:
    application = apps.get_application(session, principal, application_id)
    require(can_edit_sovereignty(principal, application.organisation_id), principal,
            "modifier la cartographie applicative de cette organisation")
    form = Form(values=_posted(posted))
    data = _input(session, form.values, application.organisation_id, form)
    if data is None or _save(session, principal, data, form, application) is None:
        return _form_page(request, session, principal, form, application, 422)
    flash(request, f"Application « {application.name} » modifiée.")
    return RedirectResponse(f"{BASE}/applications/{application.id}", status_code=303)


@router.get(BASE + "/applications/{application_id:int}")
def application_page(application_id: DbInt, request: Request, session: SessionDep,
                     principal: LoggedInDep) -> Response:
    application = apps.get_application(session, principal, application_id)
    level = strategy.level_codes(session, application.organisation_id).get(
        application.sensitivity or "")
    hidden = apps.hidden_slugs(session, principal, application.organisation_id)
    return page(request, "admin/sovereignty/application.html", SECTION, {
        "breadcrumb": [(BASE, "Souveraineté"), (None, application.name)],
        "application": application, "level": level, "label": label,
        "datasets": [d for d in application.datasets if d.slug not in hidden],
        "algorithms": algorithms_citing(session, principal, application_id=application.id),
        "reasons": strategy.reasons(application, level) if level else [],
        "history": apps.history(session, principal, application),
        "certification_labels": dict(choices(Certification)),
        "can_edit": can_edit_sovereignty(principal, application.organisation_id),
    })


# Contracts


@router.get(BASE + "/contrats")
def contracts_page(request: Request, session: SessionDep, principal: LoggedInDep
                   ) -> Response:
    try:
        months = max(0, min(int(request.query_params.get("mois", "12")), 120))
    except ValueError:
        months = 12
    found = ctr.list_contracts(session, principal)
    return page(request, "admin/sovereignty/contracts.html", SECTION, {
        "breadcrumb": [(BASE, "Souveraineté"), (None, "Contrats")],
        "contracts": found, "label": label, "months": months,
        "can_create": bool(sovereignty_orgs(session, principal, edit=True)),
        "organisations": sovereignty_orgs(session, principal),
        "watch": ctr.reversibility_watch(session, principal, months=months),
        "missing": {c.id: len(ctr.missing_clauses(session, c)) for c in found},
    })


CONTRACT_TITLES = {
    "reference": "Référence", "title": "Intitulé", "kind": "Type de contrat",
    "supplier_name": "Titulaire", "supplier_siret": "SIRET du titulaire",
    "start_date": "Début", "end_date": "Fin", "notice_months": "Préavis (mois)",
    "processor": "Le titulaire est sous-traitant (article 28 du RGPD)",
    "applications": "Applications couvertes (une référence par ligne)",
    "activities": "Traitements couverts (une référence par ligne)",
}
_CONTRACT_LINES = ("applications", "activities")


def _contract_form_page(request: Request, session: Session, principal: Principal, form: Form,
                        contract: Contract | None, status: int = 200) -> Response:
    return page(request, "admin/sovereignty/contract_form.html", SECTION, {
        "breadcrumb": [(BASE, "Souveraineté"), (BASE + "/contrats", "Contrats"),
                       (None, contract.title if contract else "Nouveau contrat")],
        "form": form, "titles": CONTRACT_TITLES, "contract": contract,
        "organisations": sovereignty_orgs(session, principal, edit=True),
        "kinds": choices(ContractKind),
    }, status=status)


def _contract_input(values: dict[str, Any], organisation_id: int | None, form: Form
                    ) -> ctr.ContractInput | None:
    if organisation_id is None:
        form.errors["organisation"] = "Choisissez une organisation dans la liste."
        return None
    data: dict[str, Any] = {k: (values.get(k) or None) for k in CONTRACT_TITLES
                            if k not in ("processor", *_CONTRACT_LINES)}
    data["processor"] = values.get("processor") == "on"
    for name in _CONTRACT_LINES:
        data[name] = [line.strip() for line in str(values.get(name, "")).splitlines()
                      if line.strip()]
    try:
        parsed = ctr.ContractInput.model_validate({**data, "organisation_id": organisation_id})
    except ValidationError as exc:
        for e in exc.errors():
            form.errors.setdefault(str(e["loc"][0]) if e["loc"] else "",
                                   validation_message(e))
        return None
    for name, message in ctr.contract_errors(parsed):
        form.errors.setdefault(name, message)
    return None if form.errors else parsed


def _save_contract(session: Session, principal: Principal, data: ctr.ContractInput,
                   form: Form, contract: Contract | None) -> Contract | None:
    try:
        with session.begin_nested():
            if contract is None:
                return ctr.create_contract(session, principal, data)
            ctr.update_contract(session, principal, contract, data)
            return contract
    except Invalid as exc:
        if exc.message.startswith("Applications inconnues"):
            form.errors["applications"] = exc.message
        elif exc.message.startswith("Traitements inconnus"):
            form.errors["activities"] = exc.message
        elif "référence" in exc.message:
            form.errors["reference"] = exc.message
        else:
            form.general += [exc.message, *exc.errors]
        return None


@router.get(BASE + "/contrats/nouveau")
def new_contract_page(request: Request, session: SessionDep, principal: LoggedInDep
                      ) -> Response:
    orgs = sovereignty_orgs(session, principal, edit=True)
    require(bool(orgs), principal, "modifier les contrats")
    return _contract_form_page(request, session, principal, Form(values={
        "organisation": orgs[0].slug, "kind": ContractKind.PUBLIC_CONTRACT.value}), None)


@router.post(BASE + "/contrats/nouveau")
def create_contract_page(request: Request, session: SessionDep, principal: LoggedInDep,
                         posted: FormDep) -> Response:
    orgs = {o.slug: o for o in sovereignty_orgs(session, principal, edit=True)}
    require(bool(orgs), principal, "modifier les contrats")
    form = Form(values=_posted(posted))
    org = orgs.get(str(form.values.get("organisation", "")))
    data = _contract_input(form.values, org.id if org else None, form)
    saved = _save_contract(session, principal, data, form, None) if data else None
    if saved is None:
        return _contract_form_page(request, session, principal, form, None, 422)
    flash(request, f"Contrat « {saved.title} » enregistré ({saved.reference}).")
    return RedirectResponse(f"{BASE}/contrats/{saved.id}", status_code=303)


def _contract_values(contract: Contract) -> dict[str, Any]:
    values = ctr.values_of(contract)
    out: dict[str, Any] = {k: ("" if v is None else v) for k, v in values.items()}
    out["processor"] = "on" if contract.processor else ""
    for name in _CONTRACT_LINES:
        out[name] = "\n".join(values[name])
    return out


@router.get(BASE + "/contrats/{contract_id:int}/modifier")
def edit_contract_page(contract_id: DbInt, request: Request, session: SessionDep,
                       principal: LoggedInDep) -> Response:
    contract = ctr.get_contract(session, principal, contract_id)
    require(can_edit_sovereignty(principal, contract.organisation_id), principal,
            "modifier les contrats de cette organisation")
    return _contract_form_page(request, session, principal,
                               Form(values=_contract_values(contract)), contract)


@router.post(BASE + "/contrats/{contract_id:int}/modifier")
def update_contract_page(contract_id: DbInt, request: Request, session: SessionDep,
                         principal: LoggedInDep, posted: FormDep) -> Response:
    contract = ctr.get_contract(session, principal, contract_id)
    require(can_edit_sovereignty(principal, contract.organisation_id), principal,
            "modifier les contrats de cette organisation")
    form = Form(values=_posted(posted))
    data = _contract_input(form.values, contract.organisation_id, form)
    if data is None or _save_contract(session, principal, data, form, contract) is None:
        return _contract_form_page(request, session, principal, form, contract, 422)
    flash(request, f"Contrat « {contract.title} » modifié.")
    return RedirectResponse(f"{BASE}/contrats/{contract.id}", status_code=303)


def _contract_page(request: Request, session: Session, principal: Principal,
                   contract: Contract, errors: list[str] | None = None, status: int = 200
                   ) -> Response:
    return page(request, "admin/sovereignty/contract.html", SECTION, {
        "breadcrumb": [(BASE, "Souveraineté"), (BASE + "/contrats", "Contrats"),
                       (None, contract.title)],
        "contract": contract, "label": label, "clauses": ctr.clause_table(session, contract),
        "algorithms": algorithms_citing(session, principal, contract_id=contract.id),
        "history": ctr.history(session, principal, contract), "errors": errors or [],
        "statuses": choices(ClauseStatus), "results": choices(TestResult),
        "can_edit": can_edit_sovereignty(principal, contract.organisation_id),
    }, status=status)


@router.get(BASE + "/contrats/{contract_id:int}")
def contract_page(contract_id: DbInt, request: Request, session: SessionDep,
                  principal: LoggedInDep) -> Response:
    return _contract_page(request, session, principal,
                          ctr.get_contract(session, principal, contract_id))


@router.post(BASE + "/contrats/{contract_id:int}/clauses/{code}")
def clause_status_page(contract_id: DbInt, code: str, request: Request, session: SessionDep,
                       principal: LoggedInDep, posted: FormDep) -> Response:
    contract = ctr.get_contract(session, principal, contract_id)
    values = {k: str(posted.get(k) or "").strip() or None
              for k in ("status", "article", "evidence")}
    try:
        data = ctr.ClauseStatusInput.model_validate(values)
        with session.begin_nested():
            ctr.set_clause_status(session, principal, contract, code, data)
    except ValidationError as exc:
        return _contract_page(request, session, principal, contract,
                              [validation_message(e) for e in exc.errors()], 422)
    except Invalid as exc:
        return _contract_page(request, session, principal, contract,
                              [exc.message, *exc.errors], 422)
    flash(request, "Statut de la clause enregistré.")
    return RedirectResponse(f"{BASE}/contrats/{contract.id}", status_code=303)


@router.post(BASE + "/contrats/{contract_id:int}/tests")
def reversibility_test_page(contract_id: DbInt, request: Request, session: SessionDep,
                            principal: LoggedInDep, posted: FormDep) -> Response:
    contract = ctr.get_contract(session, principal, contract_id)
    formats = [f.strip() for f in str(posted.get("formats") or "").split(",") if f.strip()]
    try:
        data = ctr.TestInput.model_validate({
            "tested_on": str(posted.get("tested_on") or "") or None, "formats": formats,
            "result": str(posted.get("result") or "") or None,
            "notes": str(posted.get("notes") or "")})
        with session.begin_nested():
            ctr.record_test(session, principal, contract, data)
    except ValidationError as exc:
        return _contract_page(request, session, principal, contract,
                              [f"{TEST_TITLES.get(str(e['loc'][0]), '')} : "
                               f"{validation_message(e)}" for e in exc.errors()], 422)
    except Invalid as exc:
        return _contract_page(request, session, principal, contract,
                              [exc.message, *exc.errors], 422)
    flash(request, "Test de réversibilité enregistré.")
    return RedirectResponse(f"{BASE}/contrats/{contract.id}", status_code=303)


TEST_TITLES = {"tested_on": "Date du test", "result": "Résultat", "formats": "Formats reçus",
               "notes": "Observations"}


# The hosting strategy


@router.get(BASE + "/strategie/{slug}")
def strategy_page(slug: str, request: Request, session: SessionDep, principal: LoggedInDep
                  ) -> Response:
    return _strategy_page(request, session, principal, slug, [])


def _strategy_page(request: Request, session: Session, principal: Principal, slug: str,
                   errors: list[str], status: int = 200) -> Response:
    org = get_organisation_by_slug(session, slug)
    require(can_read_sovereignty(principal, org.id), principal,
            "consulter la stratégie d'hébergement de cette organisation")
    return page(request, "admin/sovereignty/strategy.html", SECTION, {
        "breadcrumb": [(BASE, "Souveraineté"), (None, f"Stratégie d'hébergement — {org.name}")],
        "organisation": org, "levels": strategy.levels(session, org.id), "errors": errors,
        "modes": choices(HostingMode), "locations": choices(DataLocation),
        "certifications": choices(Certification),
        "can_edit": can_edit_sovereignty(principal, org.id),
    }, status=status)


@router.post(BASE + "/strategie/{slug}")
def save_level_page(slug: str, request: Request, session: SessionDep, principal: LoggedInDep,
                    posted: FormDep) -> Response:
    org = get_organisation_by_slug(session, slug)
    require(can_edit_sovereignty(principal, org.id), principal,
            "modifier la stratégie d'hébergement de cette organisation")
    try:
        data = strategy.LevelInput.model_validate({
            "code": str(posted.get("code") or "").strip(),
            "label": str(posted.get("label") or "").strip(),
            "rank": str(posted.get("rank") or "0").strip() or "0",
            "allowed_modes": [str(v) for v in posted.getlist("allowed_modes")],
            "allowed_locations": [str(v) for v in posted.getlist("allowed_locations")],
            "required_certifications": [str(v) for v in
                                        posted.getlist("required_certifications")]})
        with session.begin_nested():
            strategy.set_level(session, principal, org.id, data)
    except ValidationError as exc:
        return _strategy_page(request, session, principal, slug, [
            f"{LEVEL_TITLES.get(str(e['loc'][0]), '')} : {validation_message(e)}"
            for e in exc.errors()], 422)
    flash(request, "Niveau de sensibilité enregistré.")
    return RedirectResponse(f"{BASE}/strategie/{org.slug}", status_code=303)


LEVEL_TITLES = {"code": "Code", "label": "Libellé", "rank": "Rang",
                "allowed_modes": "Modes d'hébergement admis",
                "allowed_locations": "Localisations admises",
                "required_certifications": "Certifications exigées"}
