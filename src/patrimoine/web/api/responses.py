"""What the routes answer besides their success, declared once for the OpenAPI document.

`ERRORS` goes on every router of the API (`APIRouter(responses=ERRORS)`): each error has the
body of web/errors.py (`ErrorOut`, with an example of the real answer: a 422 lists what is
wrong, one French line per parameter), and a 405 names the methods the address takes in
`Allow`. The DCAT documents live outside /api, where a browser asking gets the French error
page: `ERRORS_OR_PAGE` says so. `files(...)` declares a success whose body is a file (an
export, a spreadsheet, an RDF document) in the media types it really has, instead of JSON.

`declare_security(app)` declares the two ways to authenticate (web/deps.py): a personal API
token (`Authorization: Bearer …`) and the browser session's cookie, which writes through the
API accept only with the session's `X-CSRF-Token` header (web/api/guards.py). Each operation's
`security` is read from its dependencies: required where it depends on `logged_in` or
`api_write`, optional (`{}`: anonymous visitors get the public view) where it only reads the
principal, none where it takes no principal at all (then it answers no 401 or 403 either).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from patrimoine.web.api.guards import api_write
from patrimoine.web.deps import current_principal, logged_in
from patrimoine.web.errors import HTTP_MESSAGES, ErrorOut

Responses = dict[int | str, dict[str, Any]]

_MEANINGS = {
    401: "Authentification requise : un jeton d'API (en-tête Authorization: Bearer) ou une "
         "session ; ou jeton invalide ou révoqué.",
    403: "Ce compte n'a pas ce droit, ou l'en-tête X-CSRF-Token manque (session de "
         "navigateur).",
    404: "Introuvable, ou invisible pour ce compte.",
    405: "Méthode non permise à cette adresse (l'en-tête Allow donne celles qui le sont).",
    409: "Conflit avec l'état présent (déjà fait, ou fait entre-temps).",
    413: "Corps de la requête trop volumineux.",
    422: "Requête invalide : paramètre, corps ou texte mal formé, ou refusé par une règle.",
}
_ALLOW = {"Allow": {"description": "Les méthodes que l'adresse accepte.",
                    "schema": {"type": "string"}}}
_EXAMPLES = {
    401: "Jeton d'API invalide ou révoqué.",
    403: "Votre compte n'a pas le droit de modifier ce jeu de données.",
    404: "Jeu de données « budget-2024 » introuvable.",
    405: HTTP_MESSAGES[405],
    409: "Ce jeu de données est déjà publié.",
    413: HTTP_MESSAGES[413],
    422: "Requête invalide.",
}
_DETAILS = {422: ["query.per_page : doit être supérieur ou égal à 1"]}


def _errors(page: bool) -> Responses:
    responses: Responses = {}
    for code, meaning in _MEANINGS.items():
        example = ErrorOut(status=code, error=_EXAMPLES[code], errors=_DETAILS.get(code, []))
        content: dict[str, Any] = {"application/json": {"example": example.model_dump()}}
        if page:  # a browser gets the French error page
            content["text/html"] = {"schema": {"type": "string"}}
        responses[code] = {"model": ErrorOut, "description": meaning, "content": content,
                           **({"headers": _ALLOW} if code == 405 else {})}
    return responses


ERRORS = _errors(page=False)
ERRORS_OR_PAGE = _errors(page=True)
NOT_MODIFIED: Responses = {304: {"description": "Inchangé depuis la copie du client "
                                                "(If-None-Match ou If-Modified-Since) : "
                                                "pas de corps."}}


def files(*media_types: str, description: str = "Le fichier.") -> Responses:
    """A success (200) whose body is a file in one of `media_types` (parameters such as
    `; charset=utf-8` are dropped: a client matches the type itself). JSON documents (JSON,
    GeoJSON, JSON-LD) are any JSON value; the others (NDJSON too) are bytes."""
    types = dict.fromkeys(m.split(";")[0].strip() for m in media_types)
    return {200: {"description": description,
                  "content": {m: {"schema": {} if m == "application/json" or m.endswith("+json")
                                  else {"type": "string", "format": "binary"}}
                              for m in types}}}


SCHEMES = {
    "jeton": {"type": "http", "scheme": "bearer",
              "description": "Jeton d'API personnel (POST /api/v1/tokens, ou la page du "
                             "compte). Un jeton invalide ou révoqué est refusé (401)."},
    "session": {"type": "apiKey", "in": "cookie", "name": "patrimoine_session",
                "description": "La session du navigateur, ouverte par la page /connexion."},
    "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token",
             "description": "Le jeton anti-CSRF de la session : exigé, avec le cookie, pour "
                            "les écritures (inutile avec un jeton d'API)."},
}
Security = list[dict[str, list[str]]]
REQUIRED: Security = [{"jeton": []}, {"session": []}]
REQUIRED_WRITE: Security = [{"jeton": []}, {"session": [], "csrf": []}]
OPTIONAL: Security = [{}, {"jeton": []}, {"session": []}]


def _calls(dependant: Dependant) -> set[Any]:
    found = set()
    for sub in dependant.dependencies:
        found.add(sub.call)
        found |= _calls(sub)
    return found


def security_of(route: APIRoute) -> Security:
    """How an operation may be authenticated, from the dependencies it runs."""
    calls = _calls(route.dependant)
    if api_write in calls:
        return REQUIRED_WRITE
    if logged_in in calls:
        return REQUIRED
    if current_principal in calls:
        return OPTIONAL
    return []


def declare_security(app: FastAPI) -> None:
    """Add the authentication schemes and each operation's `security` to the document."""
    build = app.openapi

    def document() -> dict[str, Any]:
        first = app.openapi_schema is None
        schema = build()  # built once, then kept by FastAPI
        if first:
            schema.setdefault("components", {})["securitySchemes"] = SCHEMES
            for route in app.routes:
                if not isinstance(route, APIRoute) or not route.include_in_schema:
                    continue
                security = security_of(route)
                for method in route.methods or ():
                    operation = schema["paths"].get(route.path_format, {}).get(method.lower())
                    if operation is None:
                        continue
                    operation["security"] = security
                    if not security:  # no principal: nobody to refuse
                        for code in ("401", "403"):
                            operation["responses"].pop(code, None)
        return schema

    app.openapi = document  # type: ignore[method-assign]
