"""Login and logout in the web UI."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlparse

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from patrimoine.access import audit
from patrimoine.access import service as accounts
from patrimoine.access.principal import Principal
from patrimoine.web.deps import CsrfDep, SessionDep, csrf_token
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
    account = accounts.authenticate(session, email, password)
    if account is None:
        return render(
            request, "login.html",
            {"next": _safe_next(next), "email": email,
             "error": "Adresse électronique ou mot de passe incorrect."},
            status=401,
        )
    request.session.clear()
    request.session["account_id"] = account.id
    csrf_token(request)
    audit.record(session, Principal.of(account), "account.login", f"account:{account.id}")
    flash(request, f"Bienvenue, {account.full_name}.")
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/deconnexion", dependencies=[CsrfDep])
def logout(request: Request) -> Response:
    request.session.clear()
    flash(request, "Vous êtes déconnecté.")
    return RedirectResponse("/connexion", status_code=303)
