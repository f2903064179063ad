"""Login and logout in the web UI.

A login opens a session in the database (access.service.open_session) whose secret the signed
cookie holds; signing out deletes it, so the old cookie is worth nothing afterwards. Repeated
failures lock logins for a while, per account name and per address (access/throttle.py).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlparse

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from patrimoine.access import audit, throttle
from patrimoine.access import service as accounts
from patrimoine.access.principal import Principal
from patrimoine.web.deps import SESSION_KEY, CsrfDep, SessionDep, csrf_token, services
from patrimoine.web.templating import flash, render

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    # Only same-site paths, never another host.
    if (not target or not target.startswith("/") or target.startswith("//")
            or urlparse(target).netloc):
        return "/admin"
    return target


@router.get("/connexion")
def login_form(request: Request, suivant: str | None = None) -> Response:
    csrf_token(request)
    return render(request, "login.html", {"next": _safe_next(suivant), "error": None, "email": ""})


@router.post("/connexion", dependencies=[CsrfDep])
def login(
    request: Request,
    session: SessionDep,
    email: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/admin",
) -> Response:
    settings = services(request).settings
    limits = throttle.Limits.of(settings)
    address = request.client.host if request.client else None
    form = {"next": _safe_next(next), "email": email}
    if throttle.blocked(session, limits, email, address):
        return _locked(request, form, limits)
    account = accounts.authenticate(session, email, password)
    if account is None:
        throttle.record_failure(session, limits, email, address)
        if throttle.blocked(session, limits, email, address):
            return _locked(request, form, limits)
        return render(request, "login.html",
                      {**form, "error": "Adresse électronique ou mot de passe incorrect."},
                      status=401)
    throttle.clear(session, email)
    if (previous := request.session.get(SESSION_KEY)) is not None:
        accounts.close_session(session, str(previous))
    request.session.clear()
    request.session[SESSION_KEY] = accounts.open_session(session, account,
                                                         settings.session_max_age_seconds)
    csrf_token(request)
    audit.record(session, Principal.of(account), "account.login", f"account:{account.id}")
    flash(request, f"Bienvenue, {account.full_name}.")
    return RedirectResponse(_safe_next(next), status_code=303)


def _locked(request: Request, form: dict[str, str], limits: throttle.Limits) -> Response:
    # The same answer whether the account exists or not.
    response = render(request, "login.html", {**form, "error": throttle.message(limits)},
                      status=429)
    response.headers["Retry-After"] = str(limits.window_seconds)
    return response


@router.post("/deconnexion", dependencies=[CsrfDep])
def logout(request: Request, session: SessionDep) -> Response:
    if (secret := request.session.get(SESSION_KEY)) is not None:
        accounts.close_session(session, str(secret))
    request.session.clear()
    flash(request, "Vous êtes déconnecté.")
    return RedirectResponse("/connexion", status_code=303)
