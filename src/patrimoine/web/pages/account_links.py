"""Public pages of the one-time links: asking for a password reset, and setting a password
through an invitation or reset link (access/links.py).

Asking answers the same whether the address has an account or not, and is limited like
logins (access/throttle.py). A link page is never cached and sends no referrer, so that
its secret stays in the address bar only.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from patrimoine.access import links, throttle
from patrimoine.access.models import Account, LinkPurpose
from patrimoine.core import mail
from patrimoine.core.errors import Invalid
from patrimoine.web.deps import CsrfDep, SessionDep, csrf_token, services
from patrimoine.web.templating import flash, render

router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)

SENT = "Si cette adresse existe, un message a été envoyé. Il contient un lien à usage unique."


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@router.get("/mot-de-passe-oublie")
def forgotten_form(request: Request) -> Response:
    csrf_token(request)
    return render(request, "account/forgotten.html", {
        "mail": mail.configured(services(request).settings), "sent": None, "error": None,
        "email": ""})


@router.post("/mot-de-passe-oublie", dependencies=[CsrfDep])
def forgotten(request: Request, session: SessionDep,
              email: Annotated[str, Form()] = "") -> Response:
    settings = services(request).settings
    context = {"mail": mail.configured(settings), "sent": None, "error": None, "email": email}
    email = email.strip()
    if not context["mail"]:  # nothing can be sent: the page says whom to ask instead
        return render(request, "account/forgotten.html", context, status=503)
    if not email:
        return render(request, "account/forgotten.html",
                      {**context, "error": "Indiquez votre adresse électronique."}, status=422)
    limits = throttle.Limits.of(settings)
    address = request.client.host if request.client else None
    if throttle.reset_blocked(session, limits, email, address):
        response = render(request, "account/forgotten.html",
                          {**context, "error": throttle.reset_message(limits)}, status=429)
        response.headers["Retry-After"] = str(limits.window_seconds)
        return response
    throttle.record_reset(session, limits, email, address)
    try:
        links.send_reset(session, settings, email)
    except Invalid as exc:
        # Said to no one: telling the visitor would tell that the account exists.
        log.warning("password reset e-mail not sent: %s", exc.message)
        session.rollback()
        throttle.record_reset(session, limits, email, address)
    return render(request, "account/forgotten.html", {**context, "sent": SENT, "email": ""})


@router.get("/compte/lien/{secret}")
def link_form(secret: str, request: Request, session: SessionDep) -> Response:
    csrf_token(request)
    link = links.find(session, secret)
    if link is None:
        return _private(render(request, "account/link.html",
                               {"expired": links.EXPIRED, "secret": secret}, status=410))
    account = session.get(Account, link.account_id)
    return _private(render(request, "account/link.html", {
        "expired": None, "secret": secret, "account": account, "error": None,
        "invitation": link.purpose == LinkPurpose.INVITATION}))


@router.post("/compte/lien/{secret}", dependencies=[CsrfDep])
def link_set_password(secret: str, request: Request, session: SessionDep,
                      password: Annotated[str, Form()] = "",
                      password_again: Annotated[str, Form()] = "") -> Response:
    link = links.find(session, secret)
    if link is None:
        return _private(render(request, "account/link.html",
                               {"expired": links.EXPIRED, "secret": secret}, status=410))
    account = session.get(Account, link.account_id)
    context = {"expired": None, "secret": secret, "account": account,
               "invitation": link.purpose == LinkPurpose.INVITATION}
    error = None
    if password != password_again:
        error = "Les deux saisies du mot de passe sont différentes."
    else:
        try:
            links.redeem(session, secret, password)
        except Invalid as exc:
            error = exc.message
    if error is not None:
        session.rollback()
        return _private(render(request, "account/link.html", {**context, "error": error},
                               status=422))
    flash(request, "Mot de passe enregistré : connectez-vous avec votre adresse électronique "
                   "et ce mot de passe.")
    return RedirectResponse("/connexion", status_code=303)
