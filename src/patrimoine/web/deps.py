"""Request-scoped dependencies: the database session, who is asking, CSRF."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import AsyncIterator
from contextlib import nullcontext
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from patrimoine.access import service as accounts
from patrimoine.access.principal import Principal
from patrimoine.bootstrap import Services
from patrimoine.core.errors import Conflict, Forbidden, Unauthenticated

# The signed cookie holds the secret of the web session (access.service.open_session).
SESSION_KEY = "sid"


def services(request: Request) -> Services:
    return request.app.state.services


def _finish(session: Session, commit: bool) -> None:
    try:
        if commit:
            try:
                session.commit()
            except IntegrityError as exc:
                session.rollback()
                raise Conflict("La modification entre en conflit avec une autre, enregistrée "
                               "entre-temps : rien n'a été enregistré. Rechargez et "
                               "recommencez.") from exc
        else:
            session.rollback()
    finally:
        session.close()


async def db_session(request: Request) -> AsyncIterator[Session]:
    """One unit of work per request: committed when the handler returns normally, rolled
    back otherwise (as `Database.unit_of_work`).

    Wired with `scope="function"` (SessionDep): FastAPI then leaves this generator once the
    handler has returned, before the response is sent, so a write is saved before it is
    acknowledged and a failed commit is answered as an error (409 for a conflict, else the
    French 500) instead of a 200. Opening a session touches no database, so it is done here
    on the event loop; only the commit goes to a worker thread (a sync generator would cost
    two thread hops per request)."""
    # A turn on the database first (web/app.py): waiting for one holds no thread and no
    # connection, so the pool is never exhausted by requests waiting for a thread.
    turns = getattr(request.app.state, "db_turns", None)
    async with turns if turns is not None else nullcontext():
        session = services(request).db.session()
        # The back-office frame reads the header's counts through the same unit of work.
        request.state.db_session = session
        try:
            yield session
        except BaseException:
            await run_in_threadpool(_finish, session, False)
            raise
        await run_in_threadpool(_finish, session, True)


SessionDep = Annotated[Session, Depends(db_session, scope="function")]


def prepare_layout(request: Request, session: Session, version: Any) -> None:
    """Build a version just created (a DatasetVersion) for queries in the background, once
    `session` commits: its first reader then finds it ready."""
    warmer = getattr(request.app.state, "layout_warmer", None)
    if warmer is not None and services(request).settings.warm_layouts \
            and not getattr(version, "unchanged", False):
        warmer.prepare_after_commit(session, version)


def _principal(request: Request, session: Session) -> Principal:
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    principal = Principal.anonymous()
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        account = accounts.account_for_token(session, auth[7:].strip())
        if account is None:
            raise Unauthenticated("Jeton d'API invalide ou révoqué.")
        principal = Principal.of(account)
        request.state.via_token = True
    elif (secret := request.session.get(SESSION_KEY)) is not None:
        account = accounts.account_for_session(session, str(secret))
        if account is None:  # signed out, password changed, expired: anonymous from now on
            request.session.clear()
        else:
            principal = Principal.of(account)
    request.state.principal = principal
    return principal


async def current_principal(request: Request, session: SessionDep) -> Principal:
    # Without a token or a login there is nothing to look up: no thread hop.
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    if not request.headers.get("authorization", "").lower().startswith("bearer ") \
            and request.session.get(SESSION_KEY) is None:
        principal = Principal.anonymous()
        request.state.principal = principal
        return principal
    return await run_in_threadpool(_principal, request, session)


PrincipalDep = Annotated[Principal, Depends(current_principal)]


async def logged_in(principal: PrincipalDep) -> Principal:
    if principal.is_anonymous:
        raise Unauthenticated("Connectez-vous pour accéder à cette page.")
    return principal


LoggedInDep = Annotated[Principal, Depends(logged_in)]


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


async def check_csrf(request: Request) -> None:
    """Form posts from a browser session must carry the session's CSRF token."""
    verify_csrf(request, await request.form())


def verify_csrf(request: Request, form: FormData) -> None:
    """check_csrf() on a form already read (an upload's: see web/uploads.py)."""
    if getattr(request.state, "via_token", False):
        return
    expected = request.session.get("csrf")
    sent = form.get("csrf_token") or request.headers.get("x-csrf-token") or ""
    if not expected or not hmac.compare_digest(str(sent), str(expected)):
        raise Forbidden(
            "Le formulaire a expiré ou ne vient pas de Patrimoine. Rechargez la page et "
            "recommencez."
        )


CsrfDep = Depends(check_csrf)
