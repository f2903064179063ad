"""Import of an audit spreadsheet from the back-office: upload, preview, confirm.

The uploaded file waits in the data folder under a random name that only this browser
session knows; the confirmation reads it again and plans afresh, so what is written
matches the inventory as it is at that moment. Nothing stays in memory between requests.

The preview shows which column of the file feeds which field, and lets the user choose
otherwise (kept in the session with the file). Organisations and departments the user may
not create are reported once, grouped, with a request to an administrator; an
administrator's import creates them only once the preview's checkbox says so. The
confirmation runs in the background (web/import_jobs.py) and its page follows the progress.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from patrimoine.access import audit
from patrimoine.access.models import Account, Membership, Role
from patrimoine.access.permissions import can_import_inventory, require
from patrimoine.access.principal import Principal
from patrimoine.core import mail
from patrimoine.core.errors import Invalid
from patrimoine.inventory import audit_sheet, importer
from patrimoine.inventory.models import Organisation
from patrimoine.web import import_jobs
from patrimoine.web.deps import CsrfDep, LoggedInDep, SessionDep, services
from patrimoine.web.pages import dataset_form
from patrimoine.web.pages.backoffice import FormDep, page
from patrimoine.web.pages.uploads import UploadKeeper
from patrimoine.web.templating import flash
from patrimoine.web.uploads import ReceiveUpload, Upload

router = APIRouter(include_in_schema=False)

EXTENSIONS = ("xlsx", "ods", "csv")
SESSION_KEY = "inventory_import"
KEEPER = UploadKeeper(SESSION_KEY, "import", EXTENSIONS)
SentFile = Annotated[Upload, Depends(ReceiveUpload("fichier", page=True))]
ROWS_SHOWN = 200
ERRORS_SHOWN = 300


def _pending(request: Request) -> tuple[Path, str] | None:
    """The file this session uploaded and has not confirmed yet, with its original name."""
    held = KEEPER.pending(request)
    return (held.path, held.filename) if held is not None else None


def _forget(request: Request) -> None:
    KEEPER.forget(request)


def _upload_page(request: Request, error: str | None = None, status: int = 200) -> Any:
    return page(request, "admin/import.html", "import", {
        "error": error,
        "columns": audit_sheet.COLUMNS,
        "max_mb": services(request).settings.max_upload_bytes // (1024 * 1024),
    }, status=status)


def _fields(request: Request) -> list[str | None] | None:
    """The mapping the user chose for the file held, if any."""
    chosen = (request.session.get(SESSION_KEY) or {}).get("fields")
    return [f or None for f in chosen] if isinstance(chosen, list) else None


def _plan(session: Session, principal: Principal, path: Path, filename: str,
          fields: list[str | None] | None) -> audit_sheet.ImportPlan:
    return audit_sheet.plan_import(session, principal,
                                   audit_sheet.read_spreadsheet(path.read_bytes(), filename),
                                   fields)


def _administrators(session: Session, plan: audit_sheet.ImportPlan) -> list[str]:
    """Who creates what the plan lacks: the instance's administrators, and for departments
    the administrators of their organisations."""
    asked: ColumnElement[bool] = Account.is_superadmin.is_(True)
    organisations = sorted({o for o, _ in plan.unknown_departments})
    if organisations:
        asked = or_(asked, Account.id.in_(
            select(Membership.account_id).join(
                Organisation, Organisation.id == Membership.organisation_id).where(
                Membership.role == Role.ADMINISTRATOR, Organisation.name.in_(organisations))))
    return list(session.scalars(select(Account.email).where(
        asked, Account.is_active.is_(True)).order_by(Account.email)))


def _request_text(plan: audit_sheet.ImportPlan, who: str) -> tuple[str, str]:
    lines = [f"- collectivité « {o} »" for o in plan.unknown_organisations]
    lines += [f"- direction « {d} » dans « {o} »" for o, d in plan.unknown_departments]
    return ("Patrimoine : création demandée pour un import d'inventaire",
            f"{who} importe le fichier « {plan.filename} » et demande la création de :\n\n"
            + "\n".join(lines) + "\n\nÀ créer depuis Comptes et organisations "
            "(/admin/organisations) ; l'import pourra ensuite être relancé.\n")


def _preview(request: Request, plan: audit_sheet.ImportPlan, status: int = 200,
             failure: str | None = None, session: Session | None = None) -> Any:
    rows = {action: [r for r in plan.rows if r.action == action]
            for action in ("create", "update", "unchanged")}
    ask: dict[str, Any] | None = None
    if session is not None and (plan.unknown_organisations or plan.unknown_departments):
        principal = request.state.principal
        subject, body = _request_text(plan, principal.label)
        administrators = _administrators(session, plan)
        ask = {"administrators": administrators,
               "mailto": f"mailto:{','.join(administrators)}?"
                         + urlencode({"subject": subject, "body": body}, quote_via=quote),
               "mail": mail.configured(services(request).settings)}
    return page(request, "admin/import_preview.html", "import", {
        "fields": [(c.field, c.label) for c in audit_sheet.COLUMNS],
        "ask": ask,
        "held": KEEPER.pending(request) is not None,
        "plan": plan,
        "failure": failure,
        "counts": plan.counts,
        "creates": rows["create"][:ROWS_SHOWN],
        "updates": rows["update"][:ROWS_SHOWN],
        "rows_shown": ROWS_SHOWN,
        "errors": plan.errors[:ERRORS_SHOWN],
        "errors_hidden": max(0, len(plan.errors) - ERRORS_SHOWN),
        "change_titles": dataset_form.CHANGE_TITLES,
        "shown": dataset_form.shown_value,
        "token": request.session.get(SESSION_KEY, {}).get("token", ""),
    }, status=status)


@router.get("/admin/inventaire/import")
def import_form(request: Request, principal: LoggedInDep) -> Response:
    require(can_import_inventory(principal), principal, "importer un inventaire")
    return _upload_page(request)


@router.post("/admin/inventaire/import")
def upload(request: Request, session: SessionDep, principal: LoggedInDep,
           sent: SentFile) -> Response:
    require(can_import_inventory(principal), principal, "importer un inventaire")
    if sent.refused:
        return _upload_page(request, sent.refused, status=413)
    _forget(request)
    if sent.path is None:
        return _upload_page(request, "Choisissez un fichier à importer.", status=422)
    filename = sent.filename
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if ext not in EXTENSIONS:
        return _upload_page(request, f"Le fichier « {filename} » n'est pas un tableur accepté : "
                                     "envoyez un fichier XLSX, ODS ou CSV.", status=422)
    try:
        table = audit_sheet.read_spreadsheet(sent.path.read_bytes(), filename)
    except Invalid as exc:
        return _upload_page(request, exc.message, status=422)
    plan = audit_sheet.plan_import(session, principal, table)
    # Kept even with errors: a different mapping of the columns may fix them.
    KEEPER.keep(request, sent.path, filename, ext)
    return _preview(request, plan, status=200 if plan.ok else 422, session=session)


@router.post("/admin/inventaire/import/colonnes")
def remap(request: Request, session: SessionDep, principal: LoggedInDep,
          posted: FormDep) -> Response:
    """Plan the file held again with the columns mapped as the user chose."""
    require(can_import_inventory(principal), principal, "importer un inventaire")
    pending = _pending(request)
    if pending is None:
        flash(request, "Cet import n'est plus disponible (déjà confirmé, annulé ou expiré). "
                       "Envoyez le fichier à nouveau.", "warning")
        return RedirectResponse("/admin/inventaire/import", status_code=303)
    path, filename = pending
    table = audit_sheet.read_spreadsheet(path.read_bytes(), filename)
    fields: list[str | None] = [str(posted.get(f"colonne-{i}") or "") or None
                                for i in range(len(table.headers))]
    try:
        plan = audit_sheet.plan_import(session, principal, table, fields)
    except Invalid as exc:
        plan = audit_sheet.plan_import(session, principal, table, _fields(request))
        return _preview(request, plan, status=422, failure=exc.message, session=session)
    request.session[SESSION_KEY] = {**request.session[SESSION_KEY],
                                    "fields": [f or "" for f in fields]}
    return _preview(request, plan, status=200 if plan.ok else 422, session=session)


@router.post("/admin/inventaire/import/demande")
def ask_administrator(request: Request, session: SessionDep, principal: LoggedInDep,
                      posted: FormDep) -> Response:
    """Ask the administrators to create the places the file names: recorded in the audit
    log, and mailed to them when an SMTP server is set."""
    require(can_import_inventory(principal), principal, "importer un inventaire")
    pending = _pending(request)
    if pending is None:
        return RedirectResponse("/admin/inventaire/import", status_code=303)
    plan = _plan(session, principal, *pending, _fields(request))
    if not (plan.unknown_organisations or plan.unknown_departments):
        flash(request, "Plus rien à demander : relancez l'aperçu.", "warning")
        return RedirectResponse("/admin/inventaire/import", status_code=303)
    audit.record(session, principal, "inventory.creation_requested", f"file:{plan.filename}",
                 {"organisations": plan.unknown_organisations,
                  "departments": [f"{o} / {d}" for o, d in plan.unknown_departments]})
    settings = services(request).settings
    administrators = _administrators(session, plan)
    sent = ""
    if mail.configured(settings) and administrators:
        try:
            mail.send(settings, administrators, *_request_text(plan, principal.label))
            sent = " et envoyée par courriel"
        except Invalid as exc:
            flash(request, exc.message, "warning")
    flash(request, f"Votre demande est enregistrée au journal{sent} : les administrateurs "
                   "créeront ces organisations et directions ; importez ensuite le fichier à "
                   "nouveau.")
    return RedirectResponse("/admin/inventaire/import", status_code=303)


@router.post("/admin/inventaire/import/confirmer")
def confirm(request: Request, session: SessionDep, principal: LoggedInDep,
            posted: FormDep) -> Response:
    require(can_import_inventory(principal), principal, "importer un inventaire")
    pending = _pending(request)
    held = request.session.get(SESSION_KEY) or {}
    if pending is None or posted.get("jeton") != held.get("token"):
        flash(request, "Cet import n'est plus disponible (déjà confirmé, annulé ou expiré). "
                       "Envoyez le fichier à nouveau.", "warning")
        return RedirectResponse("/admin/inventaire/import", status_code=303)
    path, filename = pending
    fields = _fields(request)
    plan = _plan(session, principal, path, filename, fields)
    create_places = posted.get("creer") == "1"
    try:
        if not plan.ok:
            raise Invalid(f"Le fichier « {filename} » contient {len(plan.errors)} erreur(s) ; "
                          "rien n'a été importé.")
        if not create_places and (plan.new_organisations or plan.new_departments):
            raise Invalid("Cochez la case qui confirme la création des nouvelles "
                          "organisations et directions, ou corrigez leurs noms dans le fichier.")
    except Invalid as exc:
        return _preview(request, plan, status=422, failure=exc.message, session=session)
    data = path.read_bytes()
    _forget(request)

    def work(db: Session, progress: Any) -> dict[str, Any]:
        again = audit_sheet.plan_import(db, principal,
                                        audit_sheet.read_spreadsheet(data, filename), fields)
        result = importer.apply_import(db, principal, again, create_places=create_places,
                                       progress=progress)
        return {"message": _summary(filename, result), "total": len(again.rows),
                "done": len(again.rows)}

    job = import_jobs.start(services(request), principal, work)
    return RedirectResponse(f"/admin/inventaire/import/suivi/{job}", status_code=303)


@router.get("/admin/inventaire/import/suivi/{job}")
def follow(job: str, request: Request, principal: LoggedInDep) -> Response:
    state = import_jobs.read(services(request), principal, job)
    if state is None:
        flash(request, "Cet import est introuvable.", "warning")
        return RedirectResponse("/admin/inventaire/import", status_code=303)
    if state["state"] == "done":
        flash(request, state["message"])
        return RedirectResponse("/admin/inventaire?tri=-updated", status_code=303)
    return page(request, "admin/import_progress.html", "import", {
        "job": job, "state": state, "failed": state["state"] == "failed"},
        status=422 if state["state"] == "failed" else 200)


@router.get("/admin/inventaire/import/suivi/{job}/etat")
def follow_state(job: str, request: Request, principal: LoggedInDep) -> Response:
    state = import_jobs.read(services(request), principal, job)
    if state is None:
        return JSONResponse({"state": "unknown"}, status_code=404)
    return JSONResponse({k: state.get(k) for k in ("state", "done", "total", "message")},
                        headers={"Cache-Control": "no-store"})


def _summary(filename: str, result: importer.ImportResult) -> str:
    counts = result.counts
    parts = [f"{counts['create']} créé{'s' if counts['create'] > 1 else ''}",
             f"{counts['update']} modifié{'s' if counts['update'] > 1 else ''}",
             f"{counts['unchanged']} inchangé{'s' if counts['unchanged'] > 1 else ''}"]
    extra = ""
    if result.new_organisations or result.new_departments:
        extra = (f" Nouvelles organisations : {len(result.new_organisations)} ; "
                 f"nouvelles directions : {len(result.new_departments)}.")
    return f"Import de « {filename} » terminé : {', '.join(parts)}.{extra}"


@router.post("/admin/inventaire/import/annuler", dependencies=[CsrfDep])
def cancel(request: Request, principal: LoggedInDep) -> Response:
    _forget(request)
    flash(request, "Import annulé : rien n'a été enregistré.", "warning")
    return RedirectResponse("/admin/inventaire/import", status_code=303)
