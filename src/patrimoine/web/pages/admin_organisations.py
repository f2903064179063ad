"""Back-office of organisations: the list, creation (instance administrators), details
(name, kind, parent, SIREN, site) and departments (added, renamed).

The rules are access/permissions.py's; the inventory service (inventory/service.py) checks
them and writes every change to the audit log.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from patrimoine.access.permissions import (
    can_create_organisations,
    can_manage_organisation,
    can_move_organisation,
    require,
)
from patrimoine.access.principal import Principal
from patrimoine.core.db import DbInt
from patrimoine.core.errors import Invalid, NotFound
from patrimoine.core.vocabulary import label
from patrimoine.inventory import service as inventory
from patrimoine.inventory.models import Department, Organisation, OrganisationKind
from patrimoine.web.deps import LoggedInDep, SessionDep
from patrimoine.web.pages.backoffice import FormDep, page
from patrimoine.web.templating import flash

router = APIRouter(include_in_schema=False)

FIELDS = ("name", "kind", "parent_id", "siren", "website")


def _kinds() -> list[tuple[str, str]]:
    return [(k.value, label(k)) for k in OrganisationKind]


def _managed(session: Session, principal: Principal) -> list[Organisation]:
    orgs = session.scalars(select(Organisation).order_by(Organisation.name))
    return [o for o in orgs if can_manage_organisation(principal, o.id)]


def _kind(value: Any) -> OrganisationKind:
    try:
        return OrganisationKind(str(value or ""))
    except ValueError:
        raise Invalid("Choisissez un type d'organisation.") from None


def _parent(value: Any) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() else None


def _form_page(request: Request, session: Session, principal: Principal,
               organisation: Organisation | None, form: dict[str, str],
               error: str | None = None, status: int = 200) -> Response:
    others = [o for o in session.scalars(select(Organisation).order_by(Organisation.name))
              if organisation is None or o.id != organisation.id]
    return page(request, "admin/organisations/form.html", "comptes", {
        "organisation": organisation, "form": form, "error": error, "kinds": _kinds(),
        "parents": others, "can_move": can_move_organisation(principal),
    }, status=status)


def _form_of(organisation: Organisation) -> dict[str, str]:
    return {"name": organisation.name, "kind": organisation.kind.value,
            "parent_id": str(organisation.parent_id or ""), "siren": organisation.siren or "",
            "website": organisation.website or ""}


@router.get("/admin/organisations")
def list_organisations(request: Request, session: SessionDep,
                       principal: LoggedInDep) -> Response:
    organisations = _managed(session, principal)
    require(bool(organisations) or can_create_organisations(principal), principal,
            "gérer les organisations")
    names = {o.id: o.name for o in session.scalars(select(Organisation))}
    return page(request, "admin/organisations/list.html", "comptes", {
        "organisations": organisations, "names": names, "kind_label": label,
        "can_create": can_create_organisations(principal),
    })


@router.get("/admin/organisations/nouvelle")
def new_form(request: Request, session: SessionDep, principal: LoggedInDep) -> Response:
    require(can_create_organisations(principal), principal, "créer une organisation")
    return _form_page(request, session, principal, None,
                      {"kind": OrganisationKind.COMMUNE.value})


@router.post("/admin/organisations/nouvelle")
def create(request: Request, session: SessionDep, principal: LoggedInDep,
           posted: FormDep) -> Response:
    require(can_create_organisations(principal), principal, "créer une organisation")
    form = {k: str(posted.get(k) or "") for k in FIELDS}
    try:
        org = inventory.create_organisation(session, principal, name=form["name"],
                                            kind=_kind(form["kind"]),
                                            parent_id=_parent(form["parent_id"]))
        # SIREN and site go through the same checks as an edit.
        inventory.update_organisation(session, principal, org, name=org.name, kind=org.kind,
                                      parent_id=org.parent_id, siren=form["siren"],
                                      website=form["website"])
    except Invalid as exc:
        session.rollback()
        return _form_page(request, session, principal, None, form, exc.message, 422)
    flash(request, f"Organisation « {org.name} » créée. Ajoutez-y ses directions.")
    return RedirectResponse(f"/admin/organisations/{org.slug}", status_code=303)


def _organisation(session: Session, principal: Principal, slug: str) -> Organisation:
    org = session.scalar(select(Organisation).where(Organisation.slug == slug))
    if org is None:
        raise NotFound(f"Organisation « {slug} » introuvable.")
    require(can_manage_organisation(principal, org.id), principal,
            f"modifier l'organisation « {org.name} »")
    return org


@router.get("/admin/organisations/{slug}")
def edit_form(slug: str, request: Request, session: SessionDep,
              principal: LoggedInDep) -> Response:
    org = _organisation(session, principal, slug)
    return _form_page(request, session, principal, org, _form_of(org))


@router.post("/admin/organisations/{slug}")
def update(slug: str, request: Request, session: SessionDep, principal: LoggedInDep,
           posted: FormDep) -> Response:
    org = _organisation(session, principal, slug)
    form = {k: str(posted.get(k) or "") for k in FIELDS}
    if not can_move_organisation(principal):
        form["parent_id"] = str(org.parent_id or "")
    try:
        changes = inventory.update_organisation(
            session, principal, org, name=form["name"], kind=_kind(form["kind"]),
            parent_id=_parent(form["parent_id"]), siren=form["siren"],
            website=form["website"])
    except Invalid as exc:
        session.rollback()
        org = _organisation(session, principal, slug)
        return _form_page(request, session, principal, org, form, exc.message, 422)
    flash(request, "Organisation modifiée." if changes else "Aucun changement.")
    return RedirectResponse(f"/admin/organisations/{org.slug}", status_code=303)


@router.post("/admin/organisations/{slug}/directions")
def add_department(slug: str, request: Request, session: SessionDep, principal: LoggedInDep,
                   posted: FormDep) -> Response:
    org = _organisation(session, principal, slug)
    name = str(posted.get("name") or "")
    try:
        if inventory.find_department(session, org, name) is not None:
            raise Invalid(f"La direction « {' '.join(name.split())} » existe déjà.")
        dep = inventory.create_department(session, principal, org, name)
    except Invalid as exc:
        session.rollback()
        flash(request, exc.message, "error")
    else:
        flash(request, f"Direction « {dep.name} » ajoutée.")
    return RedirectResponse(f"/admin/organisations/{slug}#directions", status_code=303)


@router.post("/admin/organisations/{slug}/directions/{department_id}")
def rename_department(slug: str, department_id: DbInt, request: Request, session: SessionDep,
                      principal: LoggedInDep, posted: FormDep) -> Response:
    org = _organisation(session, principal, slug)
    dep = session.get(Department, department_id)
    if dep is None or dep.organisation_id != org.id:
        raise NotFound("Direction introuvable.")
    try:
        inventory.rename_department(session, principal, dep, str(posted.get("name") or ""))
    except Invalid as exc:
        session.rollback()
        flash(request, exc.message, "error")
    else:
        flash(request, f"Direction renommée : « {dep.name} ».")
    return RedirectResponse(f"/admin/organisations/{slug}#directions", status_code=303)
