"""What every back-office page shares: the posted form, the page frame, query strings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Request
from starlette.datastructures import FormData

from patrimoine.access.permissions import (
    algorithm_organisations,
    can_administer_accounts,
    can_edit_in,
    can_import_inventory,
    can_publish_in,
    can_read_audit,
    can_read_charter,
    is_staff,
    register_organisations,
    retention_viewable_organisations,
    sovereignty_organisations,
)
from patrimoine.access.principal import Principal
from patrimoine.notifications import service as notifications
from patrimoine.report.service import writable_organisations as report_organisations
from patrimoine.web.deps import check_csrf
from patrimoine.web.templating import render
from patrimoine.worklist import service as worklist


async def posted_form(request: Request) -> AsyncIterator[FormData]:
    """The posted form, once its CSRF token is checked; uploaded files are closed after the
    response, refused posts included."""
    form = await request.form()
    try:
        await check_csrf(request)
        yield form
    finally:
        await form.close()


# Routes taking this need no separate CsrfDep: the check is part of reading the form.
FormDep = Annotated[FormData, Depends(posted_form)]


def menu(principal: Principal) -> list[tuple[str, str, str]]:
    """The back-office menu entries (key, path, French label) the principal may use: an
    entry whose page would answer "Accès refusé" is not shown."""
    staff = is_staff(principal)
    entries = [
        ("tableau", "/admin", "Tableau de bord", True),
        ("a-faire", "/admin/a-faire", "À faire", True),
        ("inventaire", "/admin/inventaire", "Inventaire", True),
        ("statistiques", "/admin/inventaire/statistiques", "Statistiques", staff),
        ("import", "/admin/inventaire/import", "Importer", can_import_inventory(principal)),
        ("publications", "/admin/publications", "Publications",
         principal.is_superadmin or any(can_publish_in(principal, o) for o in principal.roles)),
        ("protection", "/admin/protection", "Protection des données",
         register_organisations(principal) != []),
        ("conservation", "/admin/conservation", "Conservation",
         retention_viewable_organisations(principal) != []),
        ("souverainete", "/admin/souverainete", "Souveraineté",
         sovereignty_organisations(principal) != []),
        ("algorithmes", "/admin/algorithmes", "Algorithmes",
         algorithm_organisations(principal) != []),
        ("charte", "/admin/charte", "Charte", can_read_charter(principal)),
        ("rapports", "/admin/rapports", "Rapports annuels", report_organisations(principal) != []),
        ("journal", "/admin/journal", "Journal d'audit", can_read_audit(principal)),
        ("comptes", "/admin/comptes", "Administration", can_administer_accounts(principal)),
        ("notifications", "/admin/notifications", "Notifications", True),
        ("compte", "/admin/compte", "Mon compte", True),
    ]
    return [(key, href, text) for key, href, text, shown in entries if shown]


def _counts(request: Request, principal: Principal) -> dict[str, int]:
    """The header's figures: what waits for the principal, unread notifications."""
    session = getattr(request.state, "db_session", None)
    if session is None or principal.account_id is None:
        return {}
    return {"a-faire": worklist.count(session, principal),
            "notifications": notifications.unread_count(session, principal.account_id)}


def page(request: Request, template: str, section: str, context: dict[str, Any],
         status: int = 200) -> Any:
    """Render a back-office page; `section` marks the current entry of the navigation."""
    principal = getattr(request.state, "principal", None) or Principal.anonymous()
    nav = {"nav_menu": menu(principal), "nav_counts": _counts(request, principal),
           "nav_staff": is_staff(principal)}
    return render(request, template, {"section": section, **nav, **context}, status=status)


def can_create_anywhere(principal: Principal) -> bool:
    """Whether the principal may record an entry in at least one place."""
    if principal.is_superadmin:
        return True
    for org_id in principal.roles:
        if can_edit_in(principal, org_id, None) or any(
            can_edit_in(principal, org_id, d) for d in principal.departments.get(org_id, ())
        ):
            return True
    return False


def query_string(pairs: list[tuple[str, str]]) -> str:
    return "?" + urlencode(pairs) if pairs else "?"
