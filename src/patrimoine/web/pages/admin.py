"""The back-office: dashboard; the inventory pages are included here so
that one router, registered once, keeps fixed paths ahead of /admin/inventaire/{slug}."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import func, select

from patrimoine.access.permissions import can_import_inventory
from patrimoine.inventory import queries
from patrimoine.inventory.models import Organisation
from patrimoine.publication import service as publication
from patrimoine.web.deps import LoggedInDep, SessionDep
from patrimoine.web.pages import admin_import, admin_inventory, dataset_form
from patrimoine.web.pages.backoffice import page

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


# Fixed paths (import, nouveau, statistiques) before /admin/inventaire/{slug}.
router.include_router(admin_import.router)
router.include_router(admin_inventory.router)
