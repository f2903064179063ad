"""Errors mapped once: JSON for the API, a French error page for browsers."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from patrimoine.core.errors import PatrimoineError, Unauthenticated
from patrimoine.web.templating import render

log = logging.getLogger("patrimoine")

HTTP_MESSAGES = {
    404: "Cette page n'existe pas.",
    405: "Cette action n'est pas permise ici.",
    413: "Le fichier envoyé est trop volumineux.",
    500: "Une erreur interne est survenue. Elle a été consignée ; réessayez plus tard.",
}


# Pydantic's validation errors said in French (by error type; `{…}` from its context); a type
# not listed keeps pydantic's own words.
VALIDATION_MESSAGES = {
    "missing": "obligatoire, absent",
    "extra_forbidden": "champ inconnu",
    "int_type": "nombre entier attendu",
    "int_parsing": "nombre entier attendu",
    "int_from_float": "nombre entier attendu, sans décimales",
    "float_type": "nombre attendu",
    "float_parsing": "nombre attendu",
    "finite_number": "nombre fini attendu",
    "bool_type": "booléen attendu (true ou false)",
    "bool_parsing": "booléen attendu (true ou false)",
    "string_type": "texte attendu",
    "list_type": "liste attendue",
    "dict_type": "objet JSON attendu",
    "model_type": "objet JSON attendu",
    "model_attributes_type": "objet JSON attendu",
    "json_invalid": "JSON mal formé",
    "json_type": "JSON attendu",
    "date_parsing": "date attendue (AAAA-MM-JJ)",
    "date_type": "date attendue (AAAA-MM-JJ)",
    "date_from_datetime_parsing": "date attendue (AAAA-MM-JJ)",
    "datetime_parsing": "date et heure attendues (ISO 8601)",
    "datetime_type": "date et heure attendues (ISO 8601)",
    "datetime_from_date_parsing": "date et heure attendues (ISO 8601)",
    "greater_than": "doit être supérieur à {gt}",
    "greater_than_equal": "doit être supérieur ou égal à {ge}",
    "less_than": "doit être inférieur à {lt}",
    "less_than_equal": "doit être inférieur ou égal à {le}",
    "string_too_short": "au moins {min_length} caractère(s)",
    "string_too_long": "au plus {max_length} caractères",
    "too_short": "au moins {min_length} élément(s)",
    "too_long": "au plus {max_length} éléments",
    "string_pattern_mismatch": "forme attendue : {pattern}",
    "enum": "valeur attendue parmi : {expected}",
    "literal_error": "valeur attendue parmi : {expected}",
    "uuid_parsing": "UUID attendu",
    "uuid_type": "UUID attendu",
    "url_parsing": "adresse web attendue",
    "value_error": "{error}",
}


def validation_message(error: Mapping[str, object]) -> str:
    """One validation error of pydantic, in French where its type is known."""
    template = VALIDATION_MESSAGES.get(str(error.get("type")))
    context = error.get("ctx")
    values = dict(context) if isinstance(context, dict) else {}
    if "expected" in values:  # "'a', 'b' or 'c'"
        values["expected"] = str(values["expected"]).replace(" or ", " ou ")
    if template is not None:
        try:
            return template.format(**values)
        except (KeyError, IndexError):
            pass
    return str(error.get("msg"))


class ErrorOut(BaseModel):
    """The body of every error the JSON API answers."""

    ok: bool = Field(False, description="Toujours faux.")
    status: int = Field(description="Le code HTTP de la réponse.")
    error: str = Field(description="Ce qui ne va pas, en une phrase.")
    errors: list[str] = Field(description="Le détail, point par point (peut être vide).")


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get(
        "accept", ""
    )


def error_response(request: Request, status: int, message: str, errors: list[str],
                   headers: Mapping[str, str] | None = None) -> Response:
    if wants_json(request):
        body = ErrorOut(status=status, error=message, errors=errors).model_dump()
        return JSONResponse(body, status_code=status, headers=headers)
    page = render(request, "error.html", {"status": status, "message": message, "errors": errors},
                  status=status)
    page.headers.update(headers or {})
    return page


METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> str:
    """The methods some route takes at this address, for the `Allow` header of a 405:
    Starlette names only those of the first route whose path matched, and an address often
    has one route per method. HEAD goes wherever GET does (web/head.py)."""
    probe = {"type": "http", "path": request.scope["path"],
             "root_path": request.scope.get("root_path", ""), "headers": []}
    allowed = [m for m in METHODS
               if any(r.matches({**probe, "method": m})[0] == Match.FULL
                      for r in request.app.router.routes)]
    return ", ".join(allowed + (["HEAD"] if "GET" in allowed else []))


def install(app: FastAPI) -> None:
    @app.exception_handler(PatrimoineError)
    async def _domain(request: Request, exc: PatrimoineError) -> Response:
        if isinstance(exc, Unauthenticated) and not wants_json(request):
            return RedirectResponse(f"/connexion?suivant={request.url.path}", status_code=303)
        return error_response(request, exc.status, exc.message, exc.errors)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            errors.append(f"{where} : {validation_message(err)}")
        return error_response(request, 422, "Requête invalide.", errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        message = HTTP_MESSAGES.get(exc.status_code, str(exc.detail))
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = allowed_methods(request)
        return error_response(request, exc.status_code, message, [], headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path)
        return error_response(request, 500, HTTP_MESSAGES[500], [])
