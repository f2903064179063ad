"""One's own account: details and roles, password, open web sessions, API tokens."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from patrimoine.access import audit, throttle
from patrimoine.access import service as accounts
from patrimoine.access.models import ROLE_LABELS
from patrimoine.access.principal import Principal
from patrimoine.core.db import DbInt
from patrimoine.core.errors import Invalid, NotFound
from patrimoine.inventory.models import Department, Organisation
from patrimoine.web.deps import SESSION_KEY, CsrfDep, LoggedInDep, SessionDep, services
from patrimoine.web.pages.backoffice import FormDep, page
from patrimoine.web.templating import flash

router = APIRouter(include_in_schema=False)


def _account_context(request: Request, session: SessionDep, principal: Principal
                     ) -> dict[str, object]:
    assert principal.account_id is not None
    account = accounts.get_account(session, principal.account_id)
    current = request.session.get(SESSION_KEY)
    current = str(current) if current is not None else None
    org_names = {o.id: o.name for o in session.scalars(select(Organisation))}
    dep_ids = [m.department_id for m in account.memberships if m.department_id is not None]
    dep_names = {d.id: d.name for d in session.scalars(
        select(Department).where(Department.id.in_(dep_ids)))} if dep_ids else {}
    roles = sorted(
        ((org_names.get(m.organisation_id, "?"), ROLE_LABELS[m.role],
          dep_names.get(m.department_id) if m.department_id else None)
         for m in account.memberships),
        key=lambda r: (r[0], r[1], r[2] or ""),
    )
    return {
        "account": account,
        "roles": roles,
        "tokens": accounts.list_api_tokens(session, account),
        "sessions": [(row, current is not None and accounts.is_session(row, current))
                     for row in accounts.list_sessions(session, account)],
        "new_secret": None,
        "token_error": None,
        "token_name": "",
        "password_error": None,
    }


@router.get("/admin/compte")
def account_page(request: Request, session: SessionDep, principal: LoggedInDep) -> Response:
    return page(request, "admin/account.html", "compte",
                _account_context(request, session, principal))


@router.post("/admin/compte/jetons")
def create_token(request: Request, session: SessionDep, principal: LoggedInDep,
                 posted: FormDep) -> Response:
    assert principal.account_id is not None
    name = str(posted.get("name", "") or "").strip()
    if not name or len(name) > 200:
        context = _account_context(request, session, principal)
        context["token_error"] = ("Donnez un nom au jeton (200 caractères au plus), "
                                  "par exemple « Script de publication ».")
        context["token_name"] = name
        return page(request, "admin/account.html", "compte", context, status=422)
    account = accounts.get_account(session, principal.account_id)
    token, secret = accounts.create_api_token(session, account, name)
    audit.record(session, principal, "token.create", f"api_token:{token.id}", {"name": name})
    context = _account_context(request, session, principal)
    # The secret is shown in this response only; it is never stored nor put in a cookie.
    context["new_secret"] = secret
    context["new_token_name"] = token.name
    response = page(request, "admin/account.html", "compte", context)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/admin/compte/mot-de-passe")
def change_password(request: Request, session: SessionDep, principal: LoggedInDep,
                    posted: FormDep) -> Response:
    """A new password ends the account's other web sessions (this one stays); its API tokens
    stay valid, and the confirmation says so and leads to them."""
    assert principal.account_id is not None
    account = accounts.get_account(session, principal.account_id)
    current, new, again = (str(posted.get(k, "") or "") for k in
                           ("current_password", "new_password", "new_password_again"))
    limits = throttle.Limits.of(services(request).settings)
    address = request.client.host if request.client else None
    error, status, ended = None, 422, 0
    if throttle.blocked(session, limits, account.email, address):
        error, status = throttle.message(limits), 429
    elif not accounts.check_password(account, current):
        # Guessing the password through this form counts as failed logins.
        throttle.record_failure(session, limits, account.email, address)
        error = "Le mot de passe actuel est incorrect."
    elif new != again:
        error = "Les deux saisies du nouveau mot de passe sont différentes."
    elif new == current:
        error = "Le nouveau mot de passe doit être différent de l'actuel."
    else:
        try:
            ended = accounts.set_password(session, account, new,
                                          keep_session=request.session.get(SESSION_KEY))
        except Invalid as exc:
            error = exc.message
    if error is not None:
        context = _account_context(request, session, principal)
        context["password_error"] = error
        return page(request, "admin/account.html", "compte", context, status=status)
    audit.record(session, principal, "account.password_changed", f"account:{account.id}",
                 {"sessions_ended": ended})
    sessions = (f"Vos autres sessions ({ended}) sont fermées : il faudra vous y reconnecter."
                if ended else "Aucune autre session n'était ouverte.")
    tokens = accounts.active_token_count(session, account)
    if not tokens:
        flash(request, f"Mot de passe changé. {sessions}")
        return RedirectResponse("/admin/compte", status_code=303)
    flash(request, f"Mot de passe changé. {sessions} Vos jetons d'API ({tokens}) restent "
                   "valides : révoquez ci-dessous ceux qui ont pu être exposés.")
    return RedirectResponse("/admin/compte#jetons", status_code=303)


@router.post("/admin/compte/jetons/{token_id}/revoquer", dependencies=[CsrfDep])
def revoke_token(token_id: DbInt, request: Request, session: SessionDep,
                 principal: LoggedInDep) -> Response:
    assert principal.account_id is not None
    account = accounts.get_account(session, principal.account_id)
    try:
        accounts.revoke_api_token(session, account, token_id)
    except NotFound:
        flash(request, "Ce jeton n'existe pas ou ne vous appartient pas.", "error")
        return RedirectResponse("/admin/compte", status_code=303)
    audit.record(session, principal, "token.revoke", f"api_token:{token_id}")
    flash(request, "Le jeton a été révoqué : il ne permet plus d'accéder à l'API.")
    return RedirectResponse("/admin/compte", status_code=303)


@router.post("/admin/compte/sessions/{session_id}/fermer", dependencies=[CsrfDep])
def end_session(session_id: DbInt, request: Request, session: SessionDep,
                principal: LoggedInDep) -> Response:
    assert principal.account_id is not None
    account = accounts.get_account(session, principal.account_id)
    try:
        accounts.end_session(session, account, session_id)
    except NotFound as exc:
        flash(request, exc.message, "error")
        return RedirectResponse("/admin/compte#sessions", status_code=303)
    audit.record(session, principal, "account.session_ended", f"account:{account.id}",
                 {"session": session_id})
    flash(request, "La session a été fermée : ce navigateur devra se reconnecter.")
    return RedirectResponse("/admin/compte#sessions", status_code=303)
