"""Back-office pages of the annual report: the editions a person writes, a draft's narrative
(title, preface, highlights, one text per chapter, in Markdown), its preview with the figures
computed now, and publication, which freezes the edition. The permissions are the service's
(report/service.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from patrimoine.access.permissions import require
from patrimoine.access.principal import Principal
from patrimoine.core.clock import now
from patrimoine.core.db import DbInt
from patrimoine.core.errors import Invalid
from patrimoine.inventory import queries as inventory
from patrimoine.report import render, service
from patrimoine.report.figures import CHAPTERS
from patrimoine.report.models import AnnualReport, EditionStatus
from patrimoine.report.service import NarrativeInput
from patrimoine.web.deps import LoggedInDep, SessionDep, services
from patrimoine.web.pages.backoffice import FormDep, page
from patrimoine.web.pages.protection_forms import Form, validated
from patrimoine.web.templating import flash

router = APIRouter(include_in_schema=False)
SECTION = "rapports"
BASE = "/admin/rapports"
TITLES = {"title": "Titre du rapport", "preface": "Préambule", "highlights": "Faits marquants",
          "year": "Année", "organisation": "Rapport de",
          **{f"chapter_{c.key}": f"Texte du chapitre « {c.title} »" for c in CHAPTERS}}


def _scopes(session: SessionDep, principal: Principal) -> list[tuple[str, str]]:
    """(value, name) of the reports the principal may write: "" is the whole instance."""
    allowed = service.writable_organisations(principal)
    orgs = inventory.organisation_facts(session, allowed)
    scopes = [(o.slug, o.name) for o in orgs]
    if allowed is None:
        scopes.insert(0, ("", service.INSTANCE_SCOPE))
    return scopes


def _names(session: SessionDep) -> dict[int | None, str]:
    names: dict[int | None, str] = {o.id: o.name for o in inventory.organisation_facts(session)}
    names[None] = service.INSTANCE_SCOPE
    return names


@router.get(BASE)
def reports_page(request: Request, session: SessionDep, principal: LoggedInDep) -> Response:
    scopes = _scopes(session, principal)
    if not scopes:
        require(False, principal, "rédiger un rapport annuel")
    form = Form(values={"year": str(now().year)})
    return page(request, "admin/report/list.html", SECTION, {
        "rows": service.drafts_and_editions(session, principal), "names": _names(session),
        "scopes": scopes, "form": form, "titles": TITLES,
        "breadcrumb": [(None, "Rapports annuels")]})


@router.post(BASE)
def start_report(request: Request, session: SessionDep, principal: LoggedInDep, posted: FormDep
                 ) -> Response:
    slug = str(posted.get("organisation") or "")
    year_text = str(posted.get("year") or "").strip()
    if not year_text.isdigit():
        raise Invalid("L'année doit être un nombre, par exemple 2026.")
    organisation_id = None
    if slug:
        found = [o.id for o in inventory.organisation_facts(session) if o.slug == slug]
        if not found:
            raise Invalid("Organisation inconnue.")
        organisation_id = found[0]
    report = service.start_draft(session, principal, int(year_text), organisation_id)
    return RedirectResponse(f"{BASE}/{report.id}", status_code=303)


def _values(report: AnnualReport) -> dict[str, Any]:
    return {"title": report.title, "preface": report.preface, "highlights": report.highlights,
            **{f"chapter_{c.key}": report.chapters.get(c.key, "") for c in CHAPTERS}}


def _edit_page(request: Request, session: SessionDep, report: AnnualReport, form: Form,
               status: int = 200) -> Response:
    name = _names(session).get(report.organisation_id, "")
    return page(request, "admin/report/edit.html", SECTION, {
        "report": report, "form": form, "titles": TITLES, "chapters": CHAPTERS,
        "scope": name, "published": report.status == EditionStatus.PUBLISHED,
        "breadcrumb": [(BASE, "Rapports annuels"),
                       (None, f"{name} — {report.year}, édition {report.edition}")]},
        status=status)


@router.get(BASE + "/{report_id:int}")
def edit_page(report_id: DbInt, request: Request, session: SessionDep, principal: LoggedInDep
              ) -> Response:
    report = service.get_draft(session, principal, report_id)
    return _edit_page(request, session, report, Form(values=_values(report)))


@router.post(BASE + "/{report_id:int}")
def save(report_id: DbInt, request: Request, session: SessionDep, principal: LoggedInDep,
         posted: FormDep) -> Response:
    report = service.get_draft(session, principal, report_id)
    values = {name: str(posted.get(name) or "") for name in TITLES if name in posted}
    form = Form(values=values)
    data = validated(NarrativeInput, {
        "title": values.get("title", ""), "preface": values.get("preface", ""),
        "highlights": values.get("highlights", ""),
        "chapters": {c.key: values.get(f"chapter_{c.key}", "") for c in CHAPTERS}}, form)
    if data is None:
        return _edit_page(request, session, report, form, status=422)
    service.write(session, principal, report, data)
    flash(request, "Le texte du rapport est enregistré.")
    return RedirectResponse(f"{BASE}/{report.id}", status_code=303)


@router.get(BASE + "/{report_id:int}/apercu")
def preview(report_id: DbInt, request: Request, session: SessionDep,
                  principal: LoggedInDep) -> Response:
    report = service.get_draft(session, principal, report_id)
    view = service.view_of(session, services(request).settings, report)
    name = _names(session).get(report.organisation_id, "")
    return page(request, "admin/report/preview.html", SECTION, {
        "report": report, "body": render.body_html(view), "css": render.CSS,
        "published": report.status == EditionStatus.PUBLISHED,
        "breadcrumb": [(BASE, "Rapports annuels"),
                       (f"{BASE}/{report.id}", f"{name} — {report.year}"),
                       (None, "Aperçu")]})


@router.post(BASE + "/{report_id:int}/publier")
def publish(report_id: DbInt, request: Request, session: SessionDep,
                  principal: LoggedInDep, posted: FormDep) -> Response:
    report = service.get_draft(session, principal, report_id)
    service.publish(session, services(request).settings, principal, report)
    flash(request, f"L'édition {report.edition} du rapport {report.year} est publiée : "
                   "ses chiffres ne changeront plus.")
    return RedirectResponse(f"/rapports/{report.year}/{report.id}", status_code=303)
