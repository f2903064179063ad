"""The back-office: dashboard and account pages; the inventory pages are included here so
that one router, registered once, keeps fixed paths ahead of /admin/inventaire/{slug}."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select

from patrimoine.access import audit
from patrimoine.access import service as accounts
from patrimoine.access.models import ROLE_LABELS
from patrimoine.access.permissions import can_import_inventory
from patrimoine.access.principal import Principal
from patrimoine.core.db import DbInt
from patrimoine.core.errors import NotFound
from patrimoine.inventory import queries
from patrimoine.inventory.models import Department, Organisation
from patrimoine.publication import service as publication
from patrimoine.web.deps import CsrfDep, LoggedInDep, SessionDep
from patrimoine.web.pages import admin_import, admin_inventory, dataset_form
from patrimoine.web.pages.backoffice import FormDep, page
from patrimoine.web.templating import flash

router = APIRouter(include_in_schema=False)


@router.get("/admin")
def dashboard(request: Request, session: SessionDep, principal: LoggedInDep) -> Response:
    everything = queries.DatasetFilters()
    found = queries.facets(session, principal, everything,
                           ["access_level", "lifecycle_stage", "organisation"])
    personal = queries.list_datasets(
        session, principal, queries.DatasetFilters(contains_personal_data=True), per_page=1
    ).total
    return page(request, "admin/dashboard.html", "tableau", {
        "total": queries.count_datasets(session, principal),
        "by_access": found["access_level"],
        "by_stage": found["lifecycle_stage"],
        "by_organisation": found["organisation"],
        "personal": personal,
        "organisations": session.scalar(select(func.count()).select_from(Organisation)) or 0,
        "recent": queries.recent_changes(session, principal, limit=10),
        "can_import": can_import_inventory(principal),
        "action_labels": dataset_form.ACTION_LABELS,
        "publication_requests": len(publication.pending_requests(session, principal)),
    })


def _account_context(session: SessionDep, principal: Principal) -> dict[str, object]:
    assert principal.account_id is not None
    account = accounts.get_account(session, principal.account_id)
    org_names = {o.id: o.name for o in session.scalars(select(Organisation))}
    dep_ids = [m.department_id for m in account.memberships if m.department_id is not None]
    dep_names = {d.id: d.name for d in session.scalars(
        select(Department).where(Department.id.in_(dep_ids)))} if dep_ids else {}
    roles = sorted(
        ((org_names.get(m.organisation_id, "?"), ROLE_LABELS[m.role],
          dep_names.get(m.department_id) if m.department_id else None)
         for m in account.memberships),
        key=lambda r: (r[0], r[1], r[2] or ""),
    )
    return {
        "account": account,
        "roles": roles,
        "tokens": accounts.list_api_tokens(session, account),
        "new_secret": None,
        "token_error": None,
        "token_name": "",
    }


@router.get("/admin/compte")
def account_page(request: Request, session: SessionDep, principal: LoggedInDep) -> Response:
    return page(request, "admin/account.html", "compte", _account_context(session, principal))


@router.post("/admin/compte/jetons")
def create_token(request: Request, session: SessionDep, principal: LoggedInDep,
                 posted: FormDep) -> Response:
    assert principal.account_id is not None
    name = str(posted.get("name", "") or "").strip()
    if not name or len(name) > 200:
        context = _account_context(session, principal)
        context["token_error"] = ("Donnez un nom au jeton (200 caractères au plus), "
                                  "par exemple « Script de publication ».")
        context["token_name"] = name
        return page(request, "admin/account.html", "compte", context, status=422)
    account = accounts.get_account(session, principal.account_id)
    token, secret = accounts.create_api_token(session, account, name)
    audit.record(session, principal, "token.create", f"api_token:{token.id}", {"name": name})
    context = _account_context(session, principal)
    # The secret is shown in this response only; it is never stored nor put in a cookie.
    context["new_secret"] = secret
    context["new_token_name"] = token.name
    response = page(request, "admin/account.html", "compte", context)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/admin/compte/jetons/{token_id}/revoquer", dependencies=[CsrfDep])
def revoke_token(token_id: DbInt, request: Request, session: SessionDep,
                 principal: LoggedInDep) -> Response:
    assert principal.account_id is not None
    account = accounts.get_account(session, principal.account_id)
    try:
        accounts.revoke_api_token(session, account, token_id)
    except NotFound:
        flash(request, "Ce jeton n'existe pas ou ne vous appartient pas.", "error")
        return RedirectResponse("/admin/compte", status_code=303)
    audit.record(session, principal, "token.revoke", f"api_token:{token_id}")
    flash(request, "Le jeton a été révoqué : il ne permet plus d'accéder à l'API.")
    return RedirectResponse("/admin/compte", status_code=303)


# Fixed paths (import, nouveau, statistiques) before /admin/inventaire/{slug}.
router.include_router(admin_import.router)
router.include_router(admin_inventory.router)
