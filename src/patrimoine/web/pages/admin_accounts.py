"""Back-office of accounts: the list, invitations, roles per organisation and department,
deactivation, and one-time links (sent by e-mail, or handed over when no SMTP server is set).

Who may do what is decided in access/permissions.py; the services (inventory/staff.py,
access/links.py) write every change to the audit log.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from patrimoine.access import audit, links
from patrimoine.access.models import ROLE_LABELS, Account, LinkPurpose, Role
from patrimoine.access.permissions import (
    account_admin_organisations,
    can_administer_accounts,
    require,
)
from patrimoine.access.principal import Principal
from patrimoine.core import mail
from patrimoine.core.db import DbInt
from patrimoine.core.errors import Conflict, Invalid, NotFound
from patrimoine.inventory import staff
from patrimoine.inventory.models import Organisation
from patrimoine.web.deps import LoggedInDep, SessionDep, services
from patrimoine.web.pages.backoffice import FormDep, page
from patrimoine.web.templating import flash

router = APIRouter(include_in_schema=False)

WHAT = "gérer les comptes"


def _organisations(session: Session, principal: Principal) -> list[Organisation]:
    """The organisations whose roles the principal gives, with their departments."""
    scope = account_admin_organisations(principal)
    query = select(Organisation).order_by(Organisation.name)
    if scope is not None:
        query = query.where(Organisation.id.in_(scope))
    return list(session.scalars(query))


def _int(value: Any) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() else None


def _role(value: Any) -> Role:
    try:
        return Role(str(value or ""))
    except ValueError:
        raise Invalid("Choisissez un rôle.") from None


def _form_context(session: Session, principal: Principal) -> dict[str, Any]:
    return {"organisations": _organisations(session, principal),
            "role_labels": ROLE_LABELS, "mail": None}


def _handover(request: Request, account: Account, link: str, purpose: LinkPurpose) -> Response:
    """The page showing a one-time link to hand over; never cached."""
    response = page(request, "admin/accounts/link.html", "comptes", {
        "account": account, "link": link, "invitation": purpose == LinkPurpose.INVITATION,
        "hours": services(request).settings.account_link_hours,
    })
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _deliver(request: Request, session: Session, principal: Principal, account: Account,
             purpose: LinkPurpose) -> Response:
    """Issue a link for the account: mail it when an SMTP server is set, else show it once
    to the administrator. A failed sending raises Invalid (the caller rolls back)."""
    settings = services(request).settings
    secret = links.issue(session, account, purpose, hours=settings.account_link_hours,
                         created_by=principal.account_id)
    link = links.url(settings.public_url, secret)
    sent = mail.configured(settings)
    if sent:
        inviter = session.get(Account, principal.account_id) if principal.account_id else None
        subject, body = (links.invitation_text(account, link, settings.account_link_hours,
                                               inviter.full_name if inviter else "Un "
                                               "administrateur")
                         if purpose == LinkPurpose.INVITATION
                         else links.reset_text(account, link, settings.account_link_hours))
        mail.send(settings, [account.email], subject, body)
    audit.record(session, principal, "account.link_issued", f"account:{account.id}",
                 {"purpose": purpose.value, "by": "courriel" if sent else "remis en main"})
    if not sent:
        return _handover(request, account, link, purpose)
    what = "Invitation envoyée" if purpose == LinkPurpose.INVITATION else \
        "Lien de réinitialisation envoyé"
    flash(request, f"{what} à {account.email}.")
    return RedirectResponse(f"/admin/comptes/{account.id}", status_code=303)


@router.get("/admin/comptes")
def list_accounts(request: Request, session: SessionDep, principal: LoggedInDep) -> Response:
    require(can_administer_accounts(principal), principal, WHAT)
    organisations = {o.id: o.name for o in session.scalars(select(Organisation))}
    return page(request, "admin/accounts/list.html", "comptes", {
        "accounts": staff.visible_accounts(session, principal),
        "organisations": organisations, "role_labels": ROLE_LABELS,
    })


@router.get("/admin/comptes/inviter")
def invite_form(request: Request, session: SessionDep, principal: LoggedInDep) -> Response:
    require(can_administer_accounts(principal), principal, WHAT)
    return page(request, "admin/accounts/invite.html", "comptes", {
        **_form_context(session, principal), "form": {}, "error": None,
        "mail": mail.configured(services(request).settings)})


@router.post("/admin/comptes/inviter")
def invite(request: Request, session: SessionDep, principal: LoggedInDep,
           posted: FormDep) -> Response:
    require(can_administer_accounts(principal), principal, WHAT)
    form = {k: str(posted.get(k) or "") for k in
            ("email", "full_name", "organisation_id", "role", "department_id")}
    try:
        organisation_id = _int(form["organisation_id"])
        if organisation_id is None:
            raise Invalid("Choisissez une organisation.")
        account = staff.invite(
            session, principal, email=form["email"], full_name=form["full_name"],
            organisation_id=organisation_id, role=_role(form["role"]),
            department_id=_int(form["department_id"]))
        return _deliver(request, session, principal, account, LinkPurpose.INVITATION)
    except (Invalid, Conflict) as exc:  # an address already taken is a Conflict
        session.rollback()
        return page(request, "admin/accounts/invite.html", "comptes", {
            **_form_context(session, principal), "form": form, "error": exc.message,
            "mail": mail.configured(services(request).settings)}, status=exc.status)


def _account_page(request: Request, session: Session, principal: Principal, account: Account,
                  error: str | None = None, status: int = 200) -> Response:
    organisations = {o.id: o for o in session.scalars(select(Organisation))}
    departments = {d.id: d.name for o in organisations.values() for d in o.departments}
    roles = sorted(account.memberships, key=lambda m: (
        organisations[m.organisation_id].name, ROLE_LABELS[m.role]))
    return page(request, "admin/accounts/detail.html", "comptes", {
        "account": account, "roles": roles, "organisation_names":
            {i: o.name for i, o in organisations.items()},
        "department_names": departments, "error": error,
        "manageable": set(account_admin_organisations(principal) or organisations),
        "is_self": account.id == principal.account_id,
        **_form_context(session, principal),
        "mail": mail.configured(services(request).settings),
    }, status=status)


@router.get("/admin/comptes/{account_id}")
def account_detail(account_id: DbInt, request: Request, session: SessionDep,
                   principal: LoggedInDep) -> Response:
    require(can_administer_accounts(principal), principal, WHAT)
    account = staff.get_managed_account(session, principal, account_id)
    return _account_page(request, session, principal, account)


@router.post("/admin/comptes/{account_id}/roles")
def add_role(account_id: DbInt, request: Request, session: SessionDep, principal: LoggedInDep,
             posted: FormDep) -> Response:
    require(can_administer_accounts(principal), principal, WHAT)
    account = staff.get_managed_account(session, principal, account_id)
    try:
        organisation_id = _int(posted.get("organisation_id"))
        if organisation_id is None:
            raise Invalid("Choisissez une organisation.")
        staff.add_role(session, principal, account, organisation_id=organisation_id,
                                role=_role(posted.get("role")),
                                department_id=_int(posted.get("department_id")))
    except Invalid as exc:
        session.rollback()
        return _account_page(request, session, principal,
                             staff.get_managed_account(session, principal, account_id),
                             exc.message, 422)
    flash(request, "Rôle ajouté.")
    return RedirectResponse(f"/admin/comptes/{account.id}", status_code=303)


@router.post("/admin/comptes/{account_id}/roles/{membership_id}/retirer")
def remove_role(account_id: DbInt, membership_id: DbInt, request: Request, session: SessionDep,
                principal: LoggedInDep, posted: FormDep) -> Response:
    require(can_administer_accounts(principal), principal, WHAT)
    account = staff.get_managed_account(session, principal, account_id)
    try:
        staff.remove_role(session, principal, account, membership_id)
    except (Invalid, NotFound) as exc:
        session.rollback()
        flash(request, exc.message, "error")
    else:
        flash(request, "Rôle retiré.")
    return RedirectResponse(f"/admin/comptes/{account_id}", status_code=303)


@router.post("/admin/comptes/{account_id}/activation")
def set_active(account_id: DbInt, request: Request, session: SessionDep,
               principal: LoggedInDep, posted: FormDep) -> Response:
    require(can_administer_accounts(principal), principal, WHAT)
    account = staff.get_managed_account(session, principal, account_id)
    active = posted.get("active") == "1"
    try:
        ended = staff.set_active(session, principal, account, active)
    except Invalid as exc:
        session.rollback()
        flash(request, exc.message, "error")
    else:
        flash(request, f"Compte réactivé : {account.email} peut de nouveau se connecter."
              if active else f"Compte désactivé : {account.email} ne peut plus se connecter "
              f"({ended} session(s) fermée(s)). Son historique est conservé.")
    return RedirectResponse(f"/admin/comptes/{account_id}", status_code=303)


@router.post("/admin/comptes/{account_id}/lien")
def send_link(account_id: DbInt, request: Request, session: SessionDep,
              principal: LoggedInDep, posted: FormDep) -> Response:
    require(can_administer_accounts(principal), principal, WHAT)
    account = staff.get_managed_account(session, principal, account_id)
    if not account.is_active:
        flash(request, "Réactivez d'abord ce compte.", "error")
        return RedirectResponse(f"/admin/comptes/{account_id}", status_code=303)
    # A first login never made: the invitation again; else a password reset.
    purpose = LinkPurpose.INVITATION if account.last_login_at is None else LinkPurpose.RESET
    try:
        return _deliver(request, session, principal, account, purpose)
    except Invalid as exc:
        session.rollback()
        flash(request, exc.message, "error")
        return RedirectResponse(f"/admin/comptes/{account_id}", status_code=303)
