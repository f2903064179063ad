"""The annual reports on the portal: the published editions by year, an edition as it was
published (its stored HTML: the figures do not move when the data does) and its PDF."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from patrimoine.core.db import DbInt
from patrimoine.core.errors import NotFound
from patrimoine.report import render, service
from patrimoine.report.models import AnnualReport
from patrimoine.web.deps import SessionDep
from patrimoine.web.templating import render as render_page

router = APIRouter(include_in_schema=False)


def _scopes(reports: list[AnnualReport]) -> dict[int, str]:
    return {r.id: (r.snapshot or {}).get("scope", "") for r in reports}


@router.get("/rapports")
def reports(request: Request, session: SessionDep) -> Response:
    found = service.published_reports(session)
    years = sorted({r.year for r in found}, reverse=True)
    return render_page(request, "portal/reports.html", {
        "section": "reports", "reports": found, "years": years, "year": None,
        "scopes": _scopes(found)})


@router.get("/rapports/{year:int}")
def reports_of_year(year: DbInt, request: Request, session: SessionDep) -> Response:
    found = service.published_reports(session, year)
    if not found:
        raise NotFound(f"Aucun rapport annuel n'est publié pour {year}.")
    return render_page(request, "portal/reports.html", {
        "section": "reports", "reports": found, "years": [year], "year": year,
        "scopes": _scopes(found)})


@router.get("/rapports/{year:int}/{report_id:int}")
def report(year: DbInt, report_id: DbInt, request: Request, session: SessionDep) -> Response:
    found = service.published_report(session, report_id)
    if found.year != year:
        raise NotFound("Rapport introuvable.")
    return render_page(request, "portal/report.html", {
        "section": "reports", "report": found, "css": render.CSS,
        "scope": (found.snapshot or {}).get("scope", "")})


@router.get("/rapports/{year:int}/{report_id:int}.pdf")
def report_pdf(year: DbInt, report_id: DbInt, session: SessionDep) -> Response:
    found = service.published_report(session, report_id)
    if found.year != year:
        raise NotFound("Rapport introuvable.")
    view = service.frozen_view(found)
    data = render.pdf(view)
    return Response(data, media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="rapport-annuel-{year}-{report_id}.pdf"'})
