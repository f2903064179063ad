"""CKAN-compatible read API: `/api/3/action/<name>` (and `/api/action/<name>`, which the
`ckanapi` client uses), GET parameters or a POST JSON body; `/api/util/status` for udata's
harvester. The actions live in interop/ckan.py.

Anonymous callers see the public catalogue. A caller sending one of its API tokens the way
CKAN clients do (`Authorization: <token>`, `Authorization: Bearer <token>` or
`X-CKAN-API-Key: <token>`) sees what its account may read; an unknown or revoked token is
an Authorization Error (403), never a silent anonymous answer."""

from __future__ import annotations

import json
import logging
import math
from datetime import date, datetime
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from patrimoine.access import service as accounts
from patrimoine.access.principal import Principal
from patrimoine.core.settings import Settings
from patrimoine.interop import ckan
from patrimoine.web import errors
from patrimoine.web.deps import SessionDep, services

router = APIRouter(include_in_schema=False)
HEADERS = {"Access-Control-Allow-Origin": "*", "Cache-Control": "no-cache"}
log = logging.getLogger("patrimoine")


def _default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return str(value)


def _json(body: Any, status: int = 200) -> Response:
    text = json.dumps(body, default=_default, ensure_ascii=False)
    return Response(text, status_code=status, media_type="application/json;charset=utf-8",
                    headers=HEADERS)


def _params(query: list[tuple[str, str]], content_type: str, raw: bytes) -> dict[str, Any]:
    """GET parameters (repeated ones as lists), merged with a POST JSON or form body."""
    params: dict[str, Any] = {}
    for name, value in query:
        if name in params:
            previous = params[name]
            params[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            params[name] = value
    if content_type.startswith("multipart/"):
        raise ckan.bad_request("Requête invalide - envoyez les paramètres en JSON ou en "
                               "formulaire (application/x-www-form-urlencoded).")
    if "form" in content_type:
        try:
            params.update(parse_qsl(raw.decode(), keep_blank_values=True))
        except UnicodeDecodeError as exc:
            raise ckan.bad_request("Requête invalide - le formulaire n'est pas en UTF-8.") \
                from exc
    elif raw.strip():
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError) as exc:  # JSON errors, bad UTF-8, deep nesting
            raise ckan.bad_request("Requête invalide - le corps n'est pas du JSON valide.") \
                from exc
        if not isinstance(body, dict):
            raise ckan.bad_request("Requête invalide - le corps JSON doit être un objet.")
        params.update(body)
    return params


def _principal(session: Session, token: str) -> Principal:
    if not token:
        return Principal.anonymous()
    account = accounts.account_for_token(session, token)
    if account is None:
        raise ckan.CkanError(403, "Authorization Error", "Jeton d'API invalide ou révoqué.")
    return Principal.of(account)


def _token(request: Request) -> str:
    auth = request.headers.get("authorization", "").strip()
    if auth.lower().startswith("bearer "):
        auth = auth[7:].strip()
    return auth or request.headers.get("x-ckan-api-key", "").strip()


def _answer(session: Session, settings: Settings, name: str, query: list[tuple[str, str]],
            content_type: str, raw: bytes, token: str, path: str) -> Response:
    base = settings.public_url.rstrip("/")
    try:
        principal = _principal(session, token)
        params = _params(query, content_type, raw)
        result = ckan.call(ckan.Context(session, settings, principal, path), name, params)
    except ckan.CkanError as exc:
        return _json(ckan.error_envelope(base, name, exc), exc.status)
    return _json(ckan.envelope(base, name, result))


async def _action(request: Request, name: str, session: SessionDep) -> Response:
    settings = services(request).settings
    # The body is bounded (web/body_limit.py); parsing it, the database and DuckDB work and
    # writing the answer happen off the event loop.
    multipart = request.headers.get("content-type", "").startswith("multipart/")
    raw = await request.body() if request.method == "POST" and not multipart else b""
    try:
        return await run_in_threadpool(
            _answer, session, settings, name, request.query_params.multi_items(),
            request.headers.get("content-type", ""), raw, _token(request), request.url.path)
    except Exception:
        # CKAN clients read errors in CKAN's shape, even this one.
        log.exception("CKAN action %s failed", name)
        error = ckan.CkanError(500, "Internal Server Error", errors.HTTP_MESSAGES[500])
        return _json(ckan.error_envelope(settings.public_url.rstrip("/"), name, error), 500)


@router.api_route("/api/3/action/{name}", methods=["GET", "POST"])
async def action_v3(request: Request, name: str, session: SessionDep) -> Response:
    return await _action(request, name, session)


@router.api_route("/api/action/{name}", methods=["GET", "POST"])
async def action(request: Request, name: str, session: SessionDep) -> Response:
    return await _action(request, name, session)


@router.options("/api/3/action/{name}")
@router.options("/api/action/{name}")
def preflight(name: str) -> Response:
    """Browsers ask before POSTing JSON from another site: the read API is open to all."""
    return Response(status_code=204, headers={
        "Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET, POST",
        "Access-Control-Allow-Headers": "Content-Type, Authorization, X-CKAN-API-Key",
        "Access-Control-Max-Age": "86400"})


@router.get("/api/3")
def api_version() -> Response:
    return _json({"version": 3})


@router.get("/api/util/status")
def util_status(request: Request, session: SessionDep) -> Response:
    svc = services(request)
    return _json(ckan.status_show(ckan.Context(session, svc.settings), {}))
