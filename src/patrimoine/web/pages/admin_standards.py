"""Back-office page of a dataset's data schema: declare a shipped or uploaded Table Schema,
see the latest version's validation (every error with row, column and constraint), the
conformity badge and the quality score with its reasons."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from patrimoine.access.permissions import can_edit_dataset, require
from patrimoine.charter import quality
from patrimoine.core.errors import Forbidden, Invalid, NotFound
from patrimoine.datastore import versions
from patrimoine.inventory import service as inventory
from patrimoine.reading.service import Purpose, open_for_reader
from patrimoine.standards import schemas, validation
from patrimoine.web.deps import LoggedInDep, SessionDep, services
from patrimoine.web.pages.backoffice import FormDep, page
from patrimoine.web.templating import flash

router = APIRouter(include_in_schema=False)

SHOWN_ERRORS = 500
MAX_SCHEMA_BYTES = 2_000_000


def _context(request: Request, session: SessionDep, principal: LoggedInDep, slug: str,
             error: str | None = None, validate: bool = False) -> dict[str, object]:
    dataset = inventory.get_dataset(session, principal, slug)
    settings = services(request).settings
    declared = validation.declared_schema(session, dataset)
    latest = versions.latest_version(session, dataset)
    report = None
    report_error = None
    if declared is not None and latest is not None:
        try:
            # The report quotes cells: read as the version's rows are (gate, grants, audit),
            # and only by those whose grants show the whole version, as in the API.
            readable = open_for_reader(session, settings, principal, dataset, latest.number,
                                       Purpose("standards.validation_read", request.url.path,
                                               str(request.url.query)))
            readable.require_whole("le rapport de validation")
            report = validation.kept_report(session, latest)
            if report is None and (validate or
                                   latest.row_count <= validation.AUTO_VALIDATE_ROWS):
                report = validation.validate_version(session, settings, latest)
        except (Invalid, NotFound, Forbidden) as exc:
            report_error = exc.message
    return {
        "dataset": dataset,
        "declared": declared,
        "latest": latest,
        "report": report,
        "report_error": report_error,
        "shown_errors": SHOWN_ERRORS,
        "conformity": validation.conformity(session, dataset),
        "score": quality.quality_score(session, dataset, settings),
        "schemas": schemas.table_schemas(),
        "can_edit": can_edit_dataset(principal, dataset),
        "error": error,
        "breadcrumb": [("/admin/inventaire", "Inventaire"),
                       (f"/admin/inventaire/{dataset.slug}", dataset.title),
                       (None, "Schéma et qualité")],
    }


@router.get("/admin/inventaire/{slug}/schema")
def schema_page(slug: str, request: Request, session: SessionDep,
                principal: LoggedInDep) -> Response:
    return page(request, "admin/dataset_schema.html", "inventaire",
                _context(request, session, principal, slug))


@router.post("/admin/inventaire/{slug}/schema")
def declare(slug: str, request: Request, session: SessionDep, principal: LoggedInDep,
                  posted: FormDep) -> Response:
    dataset = inventory.get_dataset(session, principal, slug)
    require(can_edit_dataset(principal, dataset), principal, "déclarer le schéma de ce jeu")
    action = str(posted.get("action", "declare"))
    try:
        if action == "validate":
            return page(request, "admin/dataset_schema.html", "inventaire",
                        _context(request, session, principal, slug, validate=True))
        if action == "remove":
            validation.remove_declaration(session, principal, dataset)
            flash(request, "Schéma retiré.")
            return RedirectResponse(f"/admin/inventaire/{slug}/schema", status_code=303)
        upload = posted.get("upload")
        name = str(posted.get("schema", "")).strip()
        if isinstance(upload, UploadFile) and upload.filename:
            data = upload.file.read(MAX_SCHEMA_BYTES + 1)
            if len(data) > MAX_SCHEMA_BYTES:
                raise Invalid("Le schéma déposé est trop volumineux (2 Mo au plus).")
            descriptor = schemas.parse_uploaded(data, upload.filename)
            validation.declare_schema(session, principal, dataset, descriptor=descriptor)
        elif name:
            validation.declare_schema(session, principal, dataset, name=name)
        else:
            raise Invalid("Choisissez un schéma dans la liste ou déposez un fichier JSON.")
    except (Invalid, NotFound) as exc:
        session.rollback()
        return page(request, "admin/dataset_schema.html", "inventaire",
                    _context(request, session, principal, slug, error=exc.message), status=422)
    flash(request, "Schéma déclaré ; la dernière version a été validée.")
    return RedirectResponse(f"/admin/inventaire/{slug}/schema", status_code=303)
