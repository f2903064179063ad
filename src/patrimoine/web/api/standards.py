"""JSON API of standards: shipped Table Schemas, schema declarations and validation reports,
quality scores, and the inventory in the data-catalogue schema (catalogue-donnees)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from patrimoine.charter import quality
from patrimoine.core.db import DbInt
from patrimoine.core.errors import Invalid
from patrimoine.datastore import versions
from patrimoine.interop import scdl_catalogue
from patrimoine.inventory import service as inventory
from patrimoine.reading.service import Purpose, open_for_reader
from patrimoine.standards import schemas, tableschema, validation
from patrimoine.web.api.guards import api_write
from patrimoine.web.api.responses import ERRORS, files
from patrimoine.web.deps import PrincipalDep, SessionDep, services
from patrimoine.web.uploads import FileDep

router = APIRouter(prefix="/api/v1", tags=["standards"], responses=ERRORS)

_TRUE = {"1", "true", "oui", "yes", "on", "vrai"}


class SchemaDeclarationIn(BaseModel):
    name: str | None = Field(None, description="Nom d'un schéma disponible (GET /api/v1/schemas),"
                                               " par exemple « scdl-subventions ».")
    descriptor: dict[str, Any] | None = Field(None, description="Ou un Table Schema complet.")
    version: DbInt | None = Field(None, description="Numéro de version : le schéma ne vaut que "
                                                  "pour elle (sinon pour tout le jeu).")


@router.get("/schemas", summary="Schémas de données disponibles (SCDL et autres)")
def list_schemas() -> list[dict[str, Any]]:
    return [s.summary() for s in schemas.shipped_schemas()]


@router.get("/schemas/{name:path}", summary="Un schéma disponible, tel que publié")
def get_schema(name: str) -> dict[str, Any]:
    shipped = schemas.get_schema(name)
    return {**shipped.summary(), "descriptor": shipped.descriptor()}


@router.post(
    "/schemas/{name:path}/validate",
    summary="Valider un fichier (CSV, XLSX…) contre un schéma disponible",
    description="Formulaire multipart : `file`. Rien n'est enregistré ; la réponse donne chaque "
                "erreur avec sa ligne, sa colonne et la contrainte non respectée.",
    openapi_extra={"requestBody": {"required": True, "content": {"multipart/form-data": {
        "schema": {"type": "object", "required": ["file"], "properties": {
            "file": {"type": "string", "format": "binary"}}}}}}},
)
async def validate_upload(name: str, upload: FileDep) -> dict[str, Any]:
    shipped = schemas.get_schema(name)
    filename = upload.filename

    def run() -> tableschema.ValidationReport:  # parsing and checking: off the event loop
        if not shipped.is_table_schema:
            try:
                document = json.loads(upload.file.read_bytes().decode("utf-8-sig"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                raise Invalid(f"« {filename} » n'est pas un document JSON lisible.") from None
            return tableschema.validate_json_document(shipped.descriptor(), document)
        path = upload.file
        if "." not in filename:  # read as CSV
            path = path.rename(path.with_name(f"{filename}.csv"))
        return tableschema.validate_file(path, shipped.descriptor())

    report = await run_in_threadpool(run)
    return {**report.as_dict(), "schema": shipped.name, "schema_title": report.schema_title,
            "file": filename}


def _schema_state(session: Any, dataset: Any) -> dict[str, Any]:
    declared = validation.declared_schema(session, dataset)
    return {
        "dataset": dataset.slug,
        "declaration": declared.as_dict() if declared else None,
        "conformity": validation.conformity(session, dataset).as_dict(),
    }


@router.get("/datasets/{slug}/schema", summary="Schéma déclaré et conformité")
def dataset_schema(slug: str, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    dataset = inventory.get_dataset(session, principal, slug)
    return _schema_state(session, dataset)


@router.put("/datasets/{slug}/schema", dependencies=[Depends(api_write)],
            summary="Déclarer le schéma d'un jeu de données (ou d'une version)",
            description="Corps JSON : `name` (un schéma disponible) ou `descriptor` (un Table "
                        "Schema), et `version` facultatif. La dernière version est validée "
                        "aussitôt (jusqu'à 200 000 lignes ; au-delà, par l'appel de "
                        "validation) ; la réponse donne la conformité.")
def declare_schema(slug: str, body: SchemaDeclarationIn, request: Request, session: SessionDep,
                   principal: PrincipalDep) -> dict[str, Any]:
    dataset = inventory.get_dataset(session, principal, slug)
    version = versions.get_version(session, dataset, body.version) if body.version else None
    validation.declare_schema(session, principal, dataset, name=body.name,
                              descriptor=body.descriptor, version=version)
    latest = versions.latest_version(session, dataset)
    if latest is not None and latest.row_count <= validation.AUTO_VALIDATE_ROWS:
        validation.validate_version(session, services(request).settings, latest)
    return _schema_state(session, dataset)


@router.delete("/datasets/{slug}/schema", dependencies=[Depends(api_write)],
               summary="Retirer le schéma déclaré")
def remove_schema(slug: str, session: SessionDep, principal: PrincipalDep,
                  version: DbInt | None = None) -> dict[str, Any]:
    dataset = inventory.get_dataset(session, principal, slug)
    target = versions.get_version(session, dataset, version) if version else None
    removed = validation.remove_declaration(session, principal, dataset, target)
    return {**_schema_state(session, dataset), "removed": removed}


@router.get("/datasets/{slug}/versions/{number:int}/validation",
            summary="Validation d'une version contre son schéma",
            description="Chaque erreur donne sa ligne (`row` : la ligne d'en-tête est la 1 ; "
                        "`record` : le numéro de l'enregistrement), la colonne, la contrainte "
                        "non respectée et un message en français. `refresh=true` revalide.")
def version_validation(slug: str, number: DbInt, request: Request, session: SessionDep,
                       principal: PrincipalDep, refresh: bool = False) -> dict[str, Any]:
    # The report quotes cells: it is read as the version's rows are (gate, grants, audit),
    # and only by those whose grants show the whole version.
    readable = open_for_reader(session, services(request).settings, principal, slug, number,
                               Purpose("standards.validation_read", request.url.path,
                                       str(request.url.query)))
    readable.require_whole("le rapport de validation")
    report = validation.validate_version(session, services(request).settings,
                                         readable.version, refresh=refresh)
    return {"dataset": readable.dataset.slug, "version": number, **report.as_dict()}


@router.get("/datasets/{slug}/quality", summary="Score de qualité et ses raisons")
def dataset_quality(slug: str, request: Request, session: SessionDep,
                    principal: PrincipalDep) -> dict[str, Any]:
    dataset = inventory.get_dataset(session, principal, slug)
    score = quality.quality_score(session, dataset, services(request).settings)
    return {"dataset": dataset.slug, **score.as_dict()}


@router.get("/inventory/quality", summary="Qualité du catalogue : moyenne, tranches, critères")
def catalog_quality(session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    return quality.catalog_quality(session, principal).as_dict()


@router.get("/inventory/export-scdl", summary="Inventaire au schéma catalogue-donnees (CSV)",
            description="Le fichier suit le schéma catalogue-donnees d'Etalab sans modification ;"
                        " les jeux auxquels manque une colonne obligatoire sont écartés et "
                        "listés dans l'en-tête X-Patrimoine-Ecartes (nombre), ou tous écrits "
                        "avec `incomplets=true`.",
            response_class=Response, responses=files("text/csv", description="Le catalogue."))
def export_scdl(request: Request, session: SessionDep, principal: PrincipalDep,
                incomplets: bool = False) -> Response:
    settings = services(request).settings
    export = scdl_catalogue.export_catalogue(session, principal, public_url=settings.public_url,
                                             include_incomplete=incomplets, settings=settings)
    return Response(export.csv_bytes(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="catalogue-donnees.csv"',
        "X-Patrimoine-Ecartes": str(len(export.skipped)),
    })


@router.get("/inventory/export-scdl/report", summary="Ce que l'export écarterait, et pourquoi")
def export_scdl_report(request: Request, session: SessionDep,
                       principal: PrincipalDep) -> dict[str, Any]:
    settings = services(request).settings
    export = scdl_catalogue.export_catalogue(session, principal, public_url=settings.public_url,
                                             settings=settings)
    return export.summary()


@router.post(
    "/inventory/import-scdl", dependencies=[Depends(api_write)],
    summary="Importer un catalogue au schéma catalogue-donnees (ou SCDL catalogue)",
    description="Formulaire multipart : `file` et `dry_run`. Même moteur que l'import du "
                "tableur d'audit : tout ou rien, historique et journal conservés.",
    openapi_extra={"requestBody": {"required": True, "content": {"multipart/form-data": {
        "schema": {"type": "object", "required": ["file"], "properties": {
            "file": {"type": "string", "format": "binary"},
            "dry_run": {"type": "boolean"}}}}}}},
)
async def import_scdl(
    session: SessionDep, principal: PrincipalDep, upload: FileDep,
    dry_run: Annotated[bool | None, Query(description="Simuler sans rien écrire.")] = None,
) -> dict[str, Any]:
    if dry_run is None:
        dry_run = str(upload.form.get("dry_run", "")).strip().lower() in _TRUE
    data = await run_in_threadpool(upload.file.read_bytes)
    result = await run_in_threadpool(scdl_catalogue.import_catalogue, session, principal, data,
                                     upload.filename, dry_run=dry_run)
    return result.as_dict()
