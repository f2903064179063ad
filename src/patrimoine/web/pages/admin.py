"""The back-office: dashboard; the inventory pages are included here so
that one router, registered once, keeps fixed paths ahead of /admin/inventaire/{slug}."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from patrimoine.access.permissions import can_import_inventory, is_staff
from patrimoine.inventory import queries
from patrimoine.web.deps import LoggedInDep, SessionDep
from patrimoine.web.pages import admin_import, admin_inventory, admin_worklist, dataset_form
from patrimoine.web.pages.backoffice import can_create_anywhere, page
from patrimoine.worklist import service as worklist

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
        # The organisations whose datasets the account reads: a commune's staff see theirs.
        "organisations": len(found["organisation"]),
        # Who changed what is staff business: a partner sees none of it.
        "recent": queries.recent_changes(session, principal, limit=10)
        if is_staff(principal) else [],
        "todo": admin_worklist.grouped(worklist.items(session, principal)),
        "can_import": can_import_inventory(principal),
        "can_create": can_create_anywhere(principal),
        "action_labels": dataset_form.ACTION_LABELS,
    })


# Fixed paths (import, nouveau, statistiques) before /admin/inventaire/{slug}.
router.include_router(admin_import.router)
router.include_router(admin_inventory.router)
