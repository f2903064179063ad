"""Back-office of closed-data access: a restricted dataset's grants, and the audit log."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from patrimoine.access import audit
from patrimoine.access.permissions import (
    audit_organisations,
    can_grant,
    can_read_audit,
    can_view_grants,
    require,
)
from patrimoine.access.principal import Principal
from patrimoine.core.clock import PARIS, now
from patrimoine.core.db import DbInt
from patrimoine.core.errors import Invalid
from patrimoine.datastore import versions
from patrimoine.grants import service as grants
from patrimoine.grants.models import GRANTEE_LABELS, STATE_LABELS, GranteeKind
from patrimoine.inventory import service as inventory
from patrimoine.inventory.models import AccessLevel, Dataset
from patrimoine.web.deps import LoggedInDep, SessionDep, services
from patrimoine.web.pages.backoffice import FormDep, page, query_string
from patrimoine.web.templating import flash

router = APIRouter(include_in_schema=False)

PER_PAGE = 50


def _access_url(dataset: Dataset) -> str:
    return f"/admin/inventaire/{dataset.slug}/acces"


def _grants_page(request: Request, session: Session, principal: Principal, dataset: Dataset,
                 form: dict[str, Any] | None = None, error: Invalid | None = None) -> Response:
    latest = versions.latest_version(session, dataset)
    return page(request, "admin/grants.html", "inventaire", {
        "dataset": dataset,
        "grants": grants.list_grants(session, principal, dataset),
        "restricted": dataset.access_level == AccessLevel.RESTRICTED,
        "can_grant": can_grant(principal, dataset),
        "columns": [c["name"] for c in latest.columns] if latest else [],
        "kinds": GRANTEE_LABELS, "states": STATE_LABELS, "at": now(),
        "form": form or {"grantee_kind": "account", "hidden_columns": []},
        "error": error,
        "breadcrumb": [("/admin/inventaire", "Inventaire"),
                       (f"/admin/inventaire/{dataset.slug}", dataset.title),
                       (None, "Accès aux données")],
    }, status=422 if error else 200)


@router.get("/admin/inventaire/{slug}/acces")
def grants_page(slug: str, request: Request, session: SessionDep,
                principal: LoggedInDep) -> Response:
    dataset = inventory.get_dataset(session, principal, slug)
    require(can_view_grants(principal, dataset), principal, "voir les accès à ce jeu de données")
    return _grants_page(request, session, principal, dataset)


def _moment(text: str, what: str, end: bool) -> datetime | None:
    """A date (jj/mm/aaaa or aaaa-mm-jj) or an ISO date and time, in Paris time. A date
    alone as an end means the end of that day."""
    text = text.strip()
    if not text:
        return None
    try:
        if len(text) == 10:
            day = date(int(text[6:]), int(text[3:5]), int(text[:2])) if text[2] == "/" \
                else date.fromisoformat(text)
            if end:
                day += timedelta(days=1)
            return datetime.combine(day, time.min, tzinfo=PARIS).astimezone(UTC)
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise Invalid(f"Date de {what} « {text} » invalide : jj/mm/aaaa attendu.") from exc
    return (value if value.tzinfo else value.replace(tzinfo=PARIS)).astimezone(UTC)


@router.post("/admin/inventaire/{slug}/acces")
def create_grant(slug: str, request: Request, session: SessionDep, principal: LoggedInDep,
                 posted: FormDep) -> Response:
    dataset = inventory.get_dataset(session, principal, slug)
    require(can_grant(principal, dataset), principal, "donner des accès à ce jeu de données")
    form = {k: str(posted.get(k) or "") for k in (
        "grantee_kind", "grantee", "purpose", "valid_from", "valid_until", "row_filter")}
    hidden_columns = [str(v) for v in posted.getlist("hidden_columns")]
    try:
        until = _moment(form["valid_until"], "fin", end=True)
        if until is None:
            raise Invalid("Indiquez la date de fin de l'accès.")
        kind = form["grantee_kind"] if form["grantee_kind"] in set(GranteeKind) else ""
        grant = grants.create_grant(session, principal, dataset, grants.GrantInput(
            grantee_kind=kind or form["grantee_kind"], grantee=form["grantee"],
            purpose=form["purpose"], valid_from=_moment(form["valid_from"], "début", end=False),
            valid_until=until, row_filter=form["row_filter"] or None,
            hidden_columns=hidden_columns))
    except Invalid as exc:
        session.rollback()
        return _grants_page(request, session, principal, dataset,
                            form | {"hidden_columns": hidden_columns}, exc)
    flash(request, f"Accès donné à {grant.grantee_label}.")
    return RedirectResponse(_access_url(dataset), status_code=303)


@router.post("/admin/inventaire/{slug}/acces/{grant_id}/revoquer")
def revoke_grant(slug: str, grant_id: DbInt, request: Request, session: SessionDep,
                 principal: LoggedInDep, posted: FormDep) -> Response:
    dataset = inventory.get_dataset(session, principal, slug)
    try:
        grant = grants.revoke_grant(session, principal, dataset, grant_id,
                                    str(posted.get("reason") or ""))
    except Invalid as exc:
        session.rollback()
        flash(request, exc.message, "error")
    else:
        flash(request, f"Accès de {grant.grantee_label} révoqué.")
    return RedirectResponse(_access_url(dataset), status_code=303)


# ------------------------------------------------------------------------- journal


@router.get("/admin/journal")
def journal(request: Request, session: SessionDep, principal: LoggedInDep) -> Response:
    require(can_read_audit(principal), principal, "consulter le journal d'audit")
    params = request.query_params
    values = {k: params.get(k, "").strip() for k in ("cible", "action", "auteur", "du", "au")}
    try:
        number = max(1, int(params.get("page", "1") or 1))
    except ValueError:
        number = 1
    error = None
    try:
        filters = audit.EventFilters(
            target=values["cible"] or None, action=values["action"] or None,
            actor=values["auteur"] or None,
            since=_moment(values["du"], "début", end=False),
            until=_moment(values["au"], "fin", end=True))
    except Invalid as exc:
        error, filters = exc, audit.EventFilters()
    scope = audit_organisations(principal)
    events, total = audit.list_events(session, filters, limit=PER_PAGE,
                                      offset=(number - 1) * PER_PAGE, organisations=scope)
    kept = [(k, v) for k, v in values.items() if v]
    pages = max(1, -(-total // PER_PAGE))
    return page(request, "admin/journal.html", "journal", {
        "events": events, "total": total, "values": values, "error": error,
        "page": number, "pages": pages,
        "page_url": lambda n: query_string([*kept, ("page", str(n))]),
        "scoped": scope is not None,
        # The anchor describes the whole chain (its last entry): instance administrators only.
        "anchor": audit.read_anchor(services(request).settings.data_dir) if scope is None
        else None,
    }, status=422 if error else 200)


@router.post("/admin/journal/verifier")
def verify(request: Request, session: SessionDep, principal: LoggedInDep,
           posted: FormDep) -> Response:
    require(can_read_audit(principal), principal, "vérifier le journal d'audit")
    report = audit.scoped(session,
                          audit.verify_with_anchor(session, services(request).settings.data_dir),
                          audit_organisations(principal))
    if report.ok:
        flash(request, f"Journal intact : {report.checked} entrée(s) vérifiée(s).")
    elif report.broken_elsewhere:
        flash(request, f"Journal altéré : {report.reason}.", "error")
    else:
        flash(request, f"Journal altéré : entrée n° {report.broken_at} — {report.reason}.",
              "error")
    return RedirectResponse("/admin/journal", status_code=303)
