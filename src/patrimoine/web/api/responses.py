"""What the routes answer besides their success, declared once for the OpenAPI document.

`ERRORS` goes on every router of the API (`APIRouter(responses=ERRORS)`): each error has the
body of web/errors.py (`ErrorOut`), and a 405 names the methods the address takes in `Allow`.
The DCAT documents live outside /api, where a browser asking gets the French error page:
`ERRORS_OR_PAGE` says so. `files(...)` declares a success whose body is a file (an export, a
spreadsheet, an RDF document) in the media types it really has, instead of JSON.
`declare_token(app)` adds the API token, which every operation takes and none requires.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from patrimoine.web.errors import ErrorOut

Responses = dict[int | str, dict[str, Any]]

_MEANINGS = {
    401: "Authentification requise : un jeton d'API (en-tête Authorization: Bearer) ou une "
         "session.",
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
_PAGE = {"content": {"text/html": {"schema": {"type": "string"}}}}


def _errors(page: bool) -> Responses:
    return {code: {"model": ErrorOut, "description": meaning, **(_PAGE if page else {}),
                   **({"headers": _ALLOW} if code == 405 else {})}
            for code, meaning in _MEANINGS.items()}


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


def declare_token(app: FastAPI) -> None:
    """Every route takes a personal API token (`Authorization: Bearer …`) and, without one,
    answers as to an anonymous visitor: the document says so once, for all operations."""
    build = app.openapi

    def document() -> dict[str, Any]:
        first = app.openapi_schema is None
        schema = build()  # built once, then kept by FastAPI
        if first:
            schema.setdefault("components", {})["securitySchemes"] = {"jeton": {
                "type": "http", "scheme": "bearer",
                "description": "Jeton d'API personnel (POST /api/v1/tokens, ou la page du "
                               "compte)."}}
            schema["security"] = [{}, {"jeton": []}]  # {}: without a token too
        return schema

    app.openapi = document  # type: ignore[method-assign]
