"""Import of an audit spreadsheet from the back-office: upload, preview, confirm.

The uploaded file waits in the data folder under a random name that only this browser
session knows; the confirmation reads it again and plans afresh, so what is written
matches the inventory as it is at that moment. Nothing stays in memory between requests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from patrimoine.access.permissions import can_import_inventory, require
from patrimoine.core.errors import Invalid
from patrimoine.inventory import audit_sheet, importer
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


def _preview(request: Request, plan: audit_sheet.ImportPlan, status: int = 200,
             failure: str | None = None) -> Any:
    rows = {action: [r for r in plan.rows if r.action == action]
            for action in ("create", "update", "unchanged")}
    return page(request, "admin/import_preview.html", "import", {
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
    if plan.ok and (plan.counts["create"] or plan.counts["update"]):
        KEEPER.keep(request, sent.path, filename, ext)
    return _preview(request, plan, status=200 if plan.ok else 422)


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
    plan = audit_sheet.plan_import(session, principal,
                                   audit_sheet.read_spreadsheet(path.read_bytes(), filename))
    try:
        result = importer.apply_import(session, principal, plan)
    except Invalid as exc:
        session.rollback()
        return _preview(request, plan, status=422, failure=exc.message)
    _forget(request)
    counts = result.counts
    parts = [f"{counts['create']} créé{'s' if counts['create'] > 1 else ''}",
             f"{counts['update']} modifié{'s' if counts['update'] > 1 else ''}",
             f"{counts['unchanged']} inchangé{'s' if counts['unchanged'] > 1 else ''}"]
    extra = ""
    if result.new_organisations or result.new_departments:
        extra = (f" Nouvelles organisations : {len(result.new_organisations)} ; "
                 f"nouvelles directions : {len(result.new_departments)}.")
    flash(request, f"Import de « {filename} » terminé : {', '.join(parts)}.{extra}")
    return RedirectResponse("/admin/inventaire?tri=-updated", status_code=303)


@router.post("/admin/inventaire/import/annuler", dependencies=[CsrfDep])
def cancel(request: Request, principal: LoggedInDep) -> Response:
    _forget(request)
    flash(request, "Import annulé : rien n'a été enregistré.", "warning")
    return RedirectResponse("/admin/inventaire/import", status_code=303)
