"""What every back-office page shares: the posted form, the page frame, query strings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Request
from starlette.datastructures import FormData

from patrimoine.access.permissions import (
    can_administer_accounts,
    can_edit_in,
    can_import_inventory,
    can_read_audit,
)
from patrimoine.access.principal import Principal
from patrimoine.web.deps import check_csrf
from patrimoine.web.templating import render


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


def page(request: Request, template: str, section: str, context: dict[str, Any],
         status: int = 200) -> Any:
    """Render a back-office page; `section` marks the current entry of the navigation."""
    principal = getattr(request.state, "principal", None) or Principal.anonymous()
    nav = {"nav_can_import": can_import_inventory(principal),
           "nav_can_audit": can_read_audit(principal),
           "nav_can_administer": can_administer_accounts(principal)}
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
