"""Back-office pages of the publication workflow: load data into a dataset (upload, preview
with corrections, new version), ask for publication, publish, refuse, unpublish; and the
queue of requests waiting for the chief data officer."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from patrimoine.access.permissions import can_edit_dataset, can_publish, require
from patrimoine.access.principal import Principal
from patrimoine.charter import quality
from patrimoine.core.errors import Invalid
from patrimoine.datastore import queries as datastore_queries
from patrimoine.datastore import versions
from patrimoine.datastore.ingest import IngestPlan, Overrides, RejectsRefused
from patrimoine.datastore.ingest.plan import TYPE_LABELS, load_report, report_lines
from patrimoine.datastore.ingest.sources import EXTENSIONS
from patrimoine.datastore.models import COLUMN_TYPES
from patrimoine.inventory import service as inventory
from patrimoine.inventory.models import Dataset
from patrimoine.protection.findings import service as findings
from patrimoine.protection.findings.service import STATUS_LABELS
from patrimoine.protection.scanner import KIND_LABELS
from patrimoine.publication import service as publication
from patrimoine.reading import language
from patrimoine.reading import service as reading
from patrimoine.standards.suggest import suggest_schemas
from patrimoine.web.deps import LoggedInDep, SessionDep, prepare_layout, services
from patrimoine.web.pages.backoffice import FormDep, page
from patrimoine.web.pages.uploads import UploadKeeper
from patrimoine.web.templating import flash, french_number
from patrimoine.web.uploads import ReceiveUpload, Upload

router = APIRouter(include_in_schema=False)

ACCEPTED = tuple(sorted({ext.lstrip(".") for ext in EXTENSIONS}))
KEEPER = UploadKeeper("publication_upload", "publication", ACCEPTED)
SentFile = Annotated[Upload, Depends(ReceiveUpload("fichier", page=True))]
ENCODINGS = (("", "Détecté automatiquement"), ("utf-8", "UTF-8"),
             ("cp1252", "Windows-1252 (Excel français)"), ("latin-1", "ISO-8859-1 (Latin-1)"),
             ("utf-16", "UTF-16"))
DELIMITERS = (("", "Détecté automatiquement"), (";", "Point-virgule ( ; )"),
              (",", "Virgule ( , )"), ("tab", "Tabulation"), ("|", "Barre verticale ( | )"))
DELIMITER_NAMES = {";": "point-virgule", ",": "virgule", "\t": "tabulation", "|": "barre "
                   "verticale"}
TYPE_CHOICES = [(t, TYPE_LABELS[t]) for t in COLUMN_TYPES]
BASE = "/admin/inventaire/{slug}"


def _dataset(session: Session, principal: Principal, slug: str) -> Dataset:
    return inventory.get_dataset(session, principal, slug)


def _require_prepare(principal: Principal, dataset: Dataset) -> None:
    require(can_edit_dataset(principal, dataset), principal,
            f"charger des données dans « {dataset.title} »")


def _url(dataset: Dataset, tail: str = "") -> str:
    return BASE.format(slug=dataset.slug) + tail


# ------------------------------------------------------------------ publication page


@router.get("/admin/inventaire/{slug}/publication")
def publication_page(slug: str, request: Request, session: SessionDep,
                     principal: LoggedInDep) -> Response:
    dataset = _dataset(session, principal, slug)
    state = publication.status(session, principal, dataset, services(request).settings)
    return page(request, "admin/publication/status.html", "inventaire", {
        "dataset": dataset,
        "state": state,
        "layouts": datastore_queries.layout_states(services(request).settings,
                                                   state.versions),
        "report": report_lines(load_report(state.latest.ingest_settings))
        if state.latest else [],
        "licences": publication.OPEN_LICENCES,
        "type_labels": TYPE_LABELS,
        "breadcrumb": [("/admin/inventaire", "Inventaire"), (_url(dataset), dataset.title),
                       (None, "Données et publication")],
    })


REVIEW_ROWS = 20


@router.get("/admin/inventaire/{slug}/publication/revue")
def review_page(slug: str, request: Request, session: SessionDep,
                principal: LoggedInDep) -> Response:
    """What the approver checks before publishing: the version asked for, its first rows,
    columns and types, what changed since the published version, the scanner's findings,
    the quality score and the referent's message; then publish or refuse with a reason."""
    dataset = _dataset(session, principal, slug)
    require(can_publish(principal, dataset), principal,
            f"examiner la publication de « {dataset.title} »")
    settings = services(request).settings
    state = publication.status(session, principal, dataset, settings)
    number = state.request.version if state.request and state.request.version else None
    version = (versions.get_version(session, dataset, number) if number is not None
               else state.latest)
    context: dict[str, Any] = {
        "dataset": dataset, "state": state, "version": version, "rows": [], "columns": [],
        "base": None, "changes": None, "findings": [], "score": None,
        "kind_labels": KIND_LABELS, "status_labels": STATUS_LABELS,
        "type_labels": TYPE_LABELS, "findings_link": publication.findings_link(dataset),
        "breadcrumb": [("/admin/publications", "Publications"), (_url(dataset), dataset.title),
                       (None, "Examen avant publication")],
    }
    if version is not None:
        readable = reading.open_for_reader(
            session, settings, principal, dataset, version.number,
            reading.Purpose("publication.review", request.url.path, str(request.url.query)))
        first = readable.records(language.Query(),
                                 language.Page(limit=REVIEW_ROWS, count=False))
        base, changes = publication.changes_since(session, settings, dataset, version)
        context.update(
            columns=readable.columns, rows=first.rows, base=base, changes=changes,
            findings=findings.views(session, version),
            score=quality.quality_score(session, dataset, settings, {dataset.id: version}))
    return page(request, "admin/publication/review.html", "publications", context)


def _back(dataset: Dataset) -> RedirectResponse:
    return RedirectResponse(_url(dataset, "/publication"), status_code=303)


def _refused(request: Request, dataset: Dataset, exc: Invalid) -> RedirectResponse:
    details = " ".join(exc.errors)
    flash(request, f"{exc.message} {details}".strip(), "error")
    return _back(dataset)


@router.post("/admin/inventaire/{slug}/publication/demander")
def ask(slug: str, request: Request, session: SessionDep, principal: LoggedInDep,
        posted: FormDep) -> Response:
    dataset = _dataset(session, principal, slug)
    try:
        publication.request_publication(session, principal, dataset,
                                        str(posted.get("note", "") or ""),
                                        services(request).settings)
    except Invalid as exc:
        session.rollback()
        return _refused(request, dataset, exc)
    flash(request, "Demande de publication envoyée : l'administrateur général des données "
                   "ou un administrateur décidera de la publication.")
    return _back(dataset)


@router.post("/admin/inventaire/{slug}/publication/retirer")
def withdraw(slug: str, request: Request, session: SessionDep, principal: LoggedInDep,
             posted: FormDep) -> Response:
    dataset = _dataset(session, principal, slug)
    try:
        publication.withdraw_request(session, principal, dataset)
    except Invalid as exc:
        session.rollback()
        return _refused(request, dataset, exc)
    flash(request, "Demande de publication retirée.", "warning")
    return _back(dataset)


@router.post("/admin/inventaire/{slug}/publication/refuser")
def reject(slug: str, request: Request, session: SessionDep, principal: LoggedInDep,
           posted: FormDep) -> Response:
    dataset = _dataset(session, principal, slug)
    try:
        publication.reject_request(session, principal, dataset,
                                   str(posted.get("motif", "") or ""))
    except Invalid as exc:
        session.rollback()
        return _refused(request, dataset, exc)
    flash(request, "Demande de publication refusée ; le motif figure dans l'historique.",
          "warning")
    return _back(dataset)


@router.post("/admin/inventaire/{slug}/publication/publier")
def publish(slug: str, request: Request, session: SessionDep, principal: LoggedInDep,
            posted: FormDep) -> Response:
    dataset = _dataset(session, principal, slug)
    try:
        publication.publish(session, principal, dataset, services(request).settings)
    except Invalid as exc:
        session.rollback()
        return _refused(request, dataset, exc)
    flash(request, f"« {dataset.title} » est publié en données ouvertes sur le portail.")
    return _back(dataset)


@router.post("/admin/inventaire/{slug}/publication/depublier")
def unpublish(slug: str, request: Request, session: SessionDep, principal: LoggedInDep,
              posted: FormDep) -> Response:
    dataset = _dataset(session, principal, slug)
    try:
        publication.unpublish(session, principal, dataset)
    except Invalid as exc:
        session.rollback()
        return _refused(request, dataset, exc)
    flash(request, f"« {dataset.title} » n'est plus publié : il redevient interne ; ses "
                   "versions sont conservées.", "warning")
    return _back(dataset)


@router.get("/admin/publications")
def queue(request: Request, session: SessionDep, principal: LoggedInDep) -> Response:
    return page(request, "admin/publication/queue.html", "publications", {
        "pending": publication.pending_requests(session, principal),
    })


# ------------------------------------------------------------------ upload and preview


def _upload_page(request: Request, dataset: Dataset, error: str | None = None,
                 status: int = 200) -> Any:
    return page(request, "admin/publication/upload.html", "inventaire", {
        "dataset": dataset,
        "error": error,
        "accepted": ACCEPTED,
        "max_mb": services(request).settings.max_upload_bytes // (1024 * 1024),
        "breadcrumb": [("/admin/inventaire", "Inventaire"), (_url(dataset), dataset.title),
                       (_url(dataset, "/publication"), "Données et publication"),
                       (None, "Charger des données")],
    }, status=status)


def _overrides(posted: FormData) -> dict[str, Any]:
    """The corrections posted with the preview form ("" means: as detected)."""
    header = str(posted.get("ligne_entete", "") or "").strip()
    values: dict[str, Any] = {
        "encoding": str(posted.get("encodage", "") or "") or None,
        "delimiter": str(posted.get("separateur", "") or "") or None,
        "sheet": str(posted.get("feuille", "") or "").strip() or None,
        "crs": str(posted.get("systeme_coordonnees", "") or "").strip() or None,
        "header_row": None,
        "types": {},
    }
    if header:
        if not header.isdigit():
            raise Invalid("La ligne d'en-tête est un numéro de ligne (0 : pas d'en-tête).")
        values["header_row"] = int(header)
    for name, value in posted.multi_items():
        if name.startswith("type:") and isinstance(value, str) and value:
            values["types"][name[5:]] = value
    return values


def _form_values(options: Overrides) -> dict[str, str]:
    delimiter = options.delimiter or ""
    return {
        "encodage": options.encoding or "",
        "separateur": "tab" if delimiter == "\t" else delimiter,
        "ligne_entete": "" if options.header_row is None else str(options.header_row),
        "feuille": options.sheet or "",
        "systeme_coordonnees": options.crs or "",
    }


def _preview(request: Request, dataset: Dataset, plan: IngestPlan | None, options: Overrides,
             filename: str, *, error: str | None = None, errors: list[str] | None = None,
             status: int = 200, rejects: bool = False) -> Any:
    return page(request, "admin/publication/preview.html", "inventaire", {
        "dataset": dataset,
        "plan": plan,
        "filename": filename,
        "values": _form_values(options),
        "overridden": set(options.types),
        "error": error,
        "errors": errors or [],
        "rejects": rejects,
        "encodings": ENCODINGS,
        "delimiters": DELIMITERS,
        "delimiter_name": DELIMITER_NAMES.get(plan.delimiter or "", plan.delimiter)
        if plan else None,
        "type_choices": TYPE_CHOICES,
        "type_labels": TYPE_LABELS,
        "schema_suggestions": suggest_schemas(
            [c.source_name for c in plan.columns] + [c.name for c in plan.columns])
        if plan else [],
        "breadcrumb": [("/admin/inventaire", "Inventaire"), (_url(dataset), dataset.title),
                       (_url(dataset, "/publication"), "Données et publication"),
                       (None, "Aperçu")],
    }, status=status)


def _held(request: Request, dataset: Dataset) -> tuple[Path, str, str] | None:
    """The file this session sent for this dataset: path, original name, token."""
    held = KEEPER.pending(request)
    if held is None or held.details.get("dataset") != dataset.uid:
        return None
    return held.path, held.filename, held.token


@router.get("/admin/inventaire/{slug}/donnees")
def upload_form(slug: str, request: Request, session: SessionDep,
                principal: LoggedInDep) -> Response:
    dataset = _dataset(session, principal, slug)
    _require_prepare(principal, dataset)
    return _upload_page(request, dataset)


@router.post("/admin/inventaire/{slug}/donnees")
def upload(slug: str, request: Request, session: SessionDep, principal: LoggedInDep,
           sent: SentFile) -> Response:
    dataset = _dataset(session, principal, slug)
    _require_prepare(principal, dataset)
    if sent.refused:
        return _upload_page(request, dataset, sent.refused, status=413)
    KEEPER.forget(request)
    if sent.path is None:
        return _upload_page(request, dataset, "Choisissez un fichier à charger.", status=422)
    filename = sent.filename
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if ext not in ACCEPTED:
        return _upload_page(request, dataset, f"Le fichier « {filename} » n'est pas d'un format "
                            "accepté : CSV, XLSX, ODS, JSON, GeoJSON ou Parquet.", status=422)
    held = KEEPER.keep(request, sent.path, filename, ext, dataset=dataset.uid)
    options = Overrides()
    try:
        plan, options = publication.plan_upload(held.path)
    except Invalid as exc:
        KEEPER.forget(request)
        return _upload_page(request, dataset, " ".join([exc.message, *exc.errors]), status=422)
    publication.record_preview(session, principal, dataset, plan, filename)
    return _preview(request, dataset, plan, options, filename)


@router.post("/admin/inventaire/{slug}/donnees/apercu")
def repreview(slug: str, request: Request, session: SessionDep, principal: LoggedInDep,
              posted: FormDep) -> Response:
    dataset = _dataset(session, principal, slug)
    _require_prepare(principal, dataset)
    held = _held(request, dataset)
    if held is None:
        return _expired(request, dataset)
    path, filename, _token = held
    try:
        options = Overrides.model_validate(_overrides(posted))
        plan, options = publication.plan_upload(path, options)
    except Invalid as exc:
        return _preview(request, dataset, None, Overrides(), filename, error=exc.message,
                        errors=exc.errors, status=422)
    except ValueError as exc:
        return _preview(request, dataset, None, Overrides(), filename,
                        error="Réglages de lecture invalides.", errors=[str(exc)], status=422)
    return _preview(request, dataset, plan, options, filename)


def _expired(request: Request, dataset: Dataset) -> RedirectResponse:
    flash(request, "Ce fichier n'est plus disponible (déjà chargé, annulé ou expiré). "
                   "Envoyez-le à nouveau.", "warning")
    return RedirectResponse(_url(dataset, "/donnees"), status_code=303)


@router.post("/admin/inventaire/{slug}/donnees/charger")
def load(slug: str, request: Request, session: SessionDep, principal: LoggedInDep,
         posted: FormDep) -> Response:
    dataset = _dataset(session, principal, slug)
    _require_prepare(principal, dataset)
    held = _held(request, dataset)
    if held is None or posted.get("jeton") != held[2]:
        return _expired(request, dataset)
    path, filename, _token = held
    options = Overrides()
    try:
        options = Overrides.model_validate(_overrides(posted))
        version = publication.add_version(
            session, services(request).settings, principal, dataset, path, options,
            filename=filename, accept_rejects=posted.get("accepter_rejets") == "1")
    except Invalid as exc:
        session.rollback()
        plan = None
        try:
            plan, options = publication.plan_upload(path, options)
        except Invalid:
            pass
        return _preview(request, dataset, plan, options, filename, error=exc.message,
                        errors=exc.errors, status=422,
                        rejects=isinstance(exc, RejectsRefused))
    KEEPER.forget(request)
    prepare_layout(request, session, version)
    if version.unchanged:
        flash(request, f"Ce fichier est identique à la version {version.number} : aucune "
                       "nouvelle version n'a été créée.", "warning")
    else:
        done = version.ingest_settings or {}
        rejected = len(done.get("rejected_records") or []) + len(done.get("rejected_cells") or [])
        flash(request, f"Version {version.number} chargée : {french_number(version.row_count)} "
                       f"lignes, {len(version.columns)} colonnes"
              + (f" ; {french_number(rejected)} rejet(s) enregistré(s) avec la version."
                 if rejected else "."))
    return _back(dataset)


@router.post("/admin/inventaire/{slug}/donnees/annuler")
def cancel(slug: str, request: Request, session: SessionDep, principal: LoggedInDep,
           posted: FormDep) -> Response:
    dataset = _dataset(session, principal, slug)
    KEEPER.forget(request)
    flash(request, "Chargement annulé : aucune version n'a été créée.", "warning")
    return _back(dataset)
