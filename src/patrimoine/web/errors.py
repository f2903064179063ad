"""Errors mapped once: JSON for the API, a French error page for browsers."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from patrimoine.core.errors import PatrimoineError, Unauthenticated
from patrimoine.web.templating import render

log = logging.getLogger("patrimoine")

HTTP_MESSAGES = {
    404: "Cette page n'existe pas.",
    405: "Cette action n'est pas permise ici.",
    413: "Le fichier envoyé est trop volumineux.",
    500: "Une erreur interne est survenue. Elle a été consignée ; réessayez plus tard.",
}


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get(
        "accept", ""
    )


def error_response(request: Request, status: int, message: str, errors: list[str]) -> Response:
    if wants_json(request):
        return JSONResponse(
            {"ok": False, "status": status, "error": message, "errors": errors}, status_code=status
        )
    return render(request, "error.html", {"status": status, "message": message, "errors": errors},
                  status=status)


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
            errors.append(f"{where} : {err.get('msg')}")
        return error_response(request, 422, "Requête invalide.", errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        message = HTTP_MESSAGES.get(exc.status_code, str(exc.detail))
        return error_response(request, exc.status_code, message, [])

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path)
        return error_response(request, 500, HTTP_MESSAGES[500], [])
