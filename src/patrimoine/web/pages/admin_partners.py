"""Back-office pages of the charter's partners: the signatories of each organisation's
charter, one page per partner to correct its entry and record the actions it reports each
year, with its history."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from patrimoine.access.permissions import can_edit_sovereignty, require
from patrimoine.access.principal import Principal
from patrimoine.core.db import DbInt
from patrimoine.core.errors import Invalid
from patrimoine.core.vocabulary import choices, label
from patrimoine.inventory.models import Organisation
from patrimoine.sovereignty import partners
from patrimoine.sovereignty.models import CharterPartner, PartnerKind
from patrimoine.web.deps import LoggedInDep, SessionDep
from patrimoine.web.errors import validation_message
from patrimoine.web.pages.admin_sovereignty import BASE, SECTION, sovereignty_orgs
from patrimoine.web.pages.backoffice import FormDep, page
from patrimoine.web.pages.protection_forms import Form
from patrimoine.web.templating import flash

router = APIRouter(include_in_schema=False)

PARTNERS = f"{BASE}/partenaires"
TITLES = {"name": "Raison sociale", "siren": "SIREN", "kind": "Nature",
          "signed_on": "Date de signature", "document": "Charte signée (pièce, lien)",
          "commitments": "Engagements", "renewal_on": "Renouvellement",
          "public": "Afficher dans la liste publique des signataires"}
ACTION_TITLES = {"year": "Année", "description": "Action déclarée"}


def _values(posted: FormData) -> dict[str, str]:
    return {k: str(v).strip() for k, v in posted.items() if k != "csrf_token"}


def _parsed(values: dict[str, str], organisation_id: int, form: Form
            ) -> partners.PartnerInput | None:
    data = {k: (values.get(k) or None) for k in TITLES if k != "public"}
    try:
        return partners.PartnerInput.model_validate({
            **data, "commitments": values.get("commitments", ""),
            "public": values.get("public") == "on", "organisation_id": organisation_id})
    except ValidationError as exc:
        for e in exc.errors():
            form.errors.setdefault(str(e["loc"][0]) if e["loc"] else "", validation_message(e))
        return None


def _saved(session: Session, form: Form, save: Callable[[], CharterPartner]
           ) -> CharterPartner | None:
    """Runs `save` in a savepoint; a refusal becomes the form's messages."""
    try:
        with session.begin_nested():
            return save()
    except Invalid as exc:
        form.general += [exc.message, *exc.errors]
        return None


def _list_page(request: Request, session: Session, principal: Principal, form: Form,
               status: int = 200) -> Response:
    listed = [(o, partners.list_partners(session, principal, o.id))
              for o in sovereignty_orgs(session, principal)]
    return page(request, "admin/sovereignty/partners.html", SECTION, {
        "breadcrumb": [(BASE, "Souveraineté"), (None, "Partenaires de la charte")],
        "listed": [(o, found) for o, found in listed if found], "label": label,
        "form": form, "titles": TITLES, "kinds": choices(PartnerKind),
        "organisations": sovereignty_orgs(session, principal, edit=True),
    }, status=status)


@router.get(PARTNERS)
def partners_page(request: Request, session: SessionDep, principal: LoggedInDep) -> Response:
    orgs = sovereignty_orgs(session, principal, edit=True)
    return _list_page(request, session, principal, Form(values={
        "organisation": orgs[0].slug if orgs else "", "kind": "company", "public": "on"}))


@router.post(PARTNERS)
def create_partner_page(request: Request, session: SessionDep, principal: LoggedInDep,
                        posted: FormDep) -> Response:
    orgs = {o.slug: o for o in sovereignty_orgs(session, principal, edit=True)}
    require(bool(orgs), principal, "modifier les partenaires de la charte")
    form = Form(values=_values(posted))
    org = orgs.get(str(form.values.get("organisation", "")))
    if org is None:
        form.errors["organisation"] = "Choisissez une organisation dans la liste."
        return _list_page(request, session, principal, form, 422)
    data = _parsed(form.values, org.id, form)
    partner = _saved(session, form, lambda: partners.create_partner(session, principal, data)
                     ) if data else None
    if partner is None:
        return _list_page(request, session, principal, form, 422)
    flash(request, f"Signataire « {partner.name} » enregistré.")
    return RedirectResponse(f"{PARTNERS}/{partner.id}", status_code=303)


def _partner_page(request: Request, session: Session, principal: Principal,
                  partner: CharterPartner, form: Form, action_form: Form, status: int = 200
                  ) -> Response:
    organisation = session.get(Organisation, partner.organisation_id)
    return page(request, "admin/sovereignty/partner.html", SECTION, {
        "breadcrumb": [(BASE, "Souveraineté"), (PARTNERS, "Partenaires de la charte"),
                       (None, partner.name)],
        "partner": partner, "organisation": organisation, "label": label,
        "form": form, "titles": TITLES, "kinds": choices(PartnerKind),
        "action_form": action_form, "action_titles": ACTION_TITLES,
        "actions": sorted(partner.actions, key=lambda a: (-a.year, -a.id)),
        "history": partners.history(session, partner),
        "can_edit": can_edit_sovereignty(principal, partner.organisation_id),
    }, status=status)


def _form_of(partner: CharterPartner) -> Form:
    values = partners.partner_input(partner).model_dump(mode="json")
    out = {k: "" if v is None else str(v) for k, v in values.items()}
    out["public"] = "on" if partner.public else ""
    return Form(values=out)


def _action_form() -> Form:
    return Form(values={"year": str(date.today().year)})


@router.get(PARTNERS + "/{partner_id:int}")
def partner_page(partner_id: DbInt, request: Request, session: SessionDep,
                 principal: LoggedInDep) -> Response:
    partner = partners.get_partner(session, principal, partner_id)
    return _partner_page(request, session, principal, partner, _form_of(partner),
                         _action_form())


@router.post(PARTNERS + "/{partner_id:int}")
def update_partner_page(partner_id: DbInt, request: Request, session: SessionDep,
                        principal: LoggedInDep, posted: FormDep) -> Response:
    partner = partners.get_partner(session, principal, partner_id)
    require(can_edit_sovereignty(principal, partner.organisation_id), principal,
            partners.EDITING)
    form = Form(values=_values(posted))
    data = _parsed(form.values, partner.organisation_id, form)
    changed = None
    if data is not None:
        try:
            with session.begin_nested():
                changed = partners.update_partner(session, principal, partner, data)
        except Invalid as exc:
            form.general += [exc.message, *exc.errors]
    if changed is None:
        session.refresh(partner)
        return _partner_page(request, session, principal, partner, form, _action_form(), 422)
    flash(request, f"Signataire « {partner.name} » : " + (
        f"{len(changed)} champ(s) modifié(s)." if changed else "aucun changement."))
    return RedirectResponse(f"{PARTNERS}/{partner.id}", status_code=303)


@router.post(PARTNERS + "/{partner_id:int}/actions")
def record_action_page(partner_id: DbInt, request: Request, session: SessionDep,
                       principal: LoggedInDep, posted: FormDep) -> Response:
    partner = partners.get_partner(session, principal, partner_id)
    require(can_edit_sovereignty(principal, partner.organisation_id), principal,
            partners.EDITING)
    action_form = Form(values=_values(posted))
    try:
        data = partners.ActionInput.model_validate({
            "year": action_form.values.get("year") or None,
            "description": action_form.values.get("description", "")})
        with session.begin_nested():
            partners.record_action(session, principal, partner, data)
    except ValidationError as exc:
        for e in exc.errors():
            action_form.errors.setdefault(str(e["loc"][0]) if e["loc"] else "",
                                          validation_message(e))
    except Invalid as exc:
        action_form.general += [exc.message, *exc.errors]
    if action_form.errors or action_form.general:
        session.refresh(partner)
        return _partner_page(request, session, principal, partner, _form_of(partner),
                             action_form, 422)
    flash(request, f"Action {data.year} de « {partner.name} » enregistrée.")
    return RedirectResponse(f"{PARTNERS}/{partner.id}#actions", status_code=303)
