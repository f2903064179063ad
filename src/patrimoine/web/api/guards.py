"""Writes through the JSON API: a bearer token, or a browser session with its CSRF header."""

from __future__ import annotations

import hmac

from fastapi import Request

from patrimoine.core.errors import Forbidden, Unauthenticated
from patrimoine.web.deps import PrincipalDep


def api_write(request: Request, principal: PrincipalDep) -> None:
    if principal.is_anonymous:
        raise Unauthenticated("Authentifiez-vous avec un jeton d'API (en-tête Authorization).")
    if getattr(request.state, "via_token", False):
        return
    expected = request.session.get("csrf", "")
    sent = request.headers.get("x-csrf-token", "")
    if not expected or not hmac.compare_digest(sent, expected):
        raise Forbidden("En-tête X-CSRF-Token manquant ou invalide.")
