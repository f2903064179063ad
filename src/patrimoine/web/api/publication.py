"""JSON API of the publication workflow: load a version (with a dry-run preview), ask for
publication, publish, unpublish. Writes need a bearer token (or the browser session with its
X-CSRF-Token header); permissions are the service's."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from patrimoine.access.permissions import require
from patrimoine.core.errors import Invalid
from patrimoine.datastore.ingest import IngestPlan
from patrimoine.datastore.ingest.plan import load_report
from patrimoine.inventory import service as inventory
from patrimoine.publication import service as publication
from patrimoine.standards.suggest import suggest_schemas
from patrimoine.web.api.guards import api_write
from patrimoine.web.api.responses import ERRORS
from patrimoine.web.deps import PrincipalDep, SessionDep, prepare_layout, services
from patrimoine.web.uploads import FileDep

router = APIRouter(prefix="/api/v1", tags=["publication"], responses=ERRORS)

SlugPath = Annotated[str, PathParam(description="Identifiant (slug) du jeu de données.")]
_TRUE = {"1", "true", "oui", "yes", "on", "vrai"}


class RequestOut(BaseModel):
    by: str
    at: str
    version: int | None
    note: str


class PublicationOut(BaseModel):
    dataset: str
    public: bool = Field(description="Vrai quand le jeu est ouvert et publié sur le portail.")
    access_level: str
    lifecycle_stage: str
    licence: str | None = Field(description="Licence ouverte reconnue : etalab-2.0 ou ODbL-1.0.")
    latest_version: int | None
    versions: int
    ready: bool = Field(description="Vrai quand rien ne manque ni ne bloque la publication.")
    missing: list[str] = Field(description="Ce qui manque à la fiche (en français).")
    blockers: list[str] = Field(
        description="Ce qui bloque la publication : contrôle des données personnelles, "
                    "fiche indiquant des données personnelles ou confidentielles.")
    request: RequestOut | None
    can_prepare: bool
    can_publish: bool


class NoteIn(BaseModel):
    note: str = Field("", max_length=publication.NOTE_MAX,
                      description="Message pour l'administrateur général des données.")


class ReasonIn(BaseModel):
    reason: str = Field(min_length=1, max_length=publication.NOTE_MAX,
                        description="Motif du refus, conservé dans l'historique.")


def _out(state: publication.PublicationStatus) -> PublicationOut:
    data = state.as_dict()
    request = data.pop("request")
    return PublicationOut(**data, request=RequestOut(
        by=request["by"].split(" <")[0], at=request["at"], version=request["version"],
        note=request["note"]) if request else None)


def _plan_json(plan: IngestPlan) -> dict[str, Any]:
    data = plan.as_dict()
    data.pop("path", None)
    return data


def _version_json(version: Any) -> dict[str, Any]:
    return {
        "number": version.number, "created_at": version.created_at.isoformat(),
        "row_count": version.row_count, "size_bytes": version.size_bytes,
        "content_hash": version.content_hash, "columns": version.columns,
        "positions": version.positions, "source_filename": version.source_filename,
        "source_format": version.source_format, "unchanged": bool(version.unchanged),
        "meanings": (version.ingest_settings or {}).get("meanings", {}),
        "crs": (version.ingest_settings or {}).get("crs"),
        # What was read, loaded and rejected, with the dialect and encoding used.
        "ingest": version.ingest_settings,
        "report": load_report(version.ingest_settings),
    }


@router.get("/datasets/{slug}/publication", response_model=PublicationOut,
            summary="État de publication d'un jeu de données")
def publication_status(request: Request, slug: SlugPath, session: SessionDep,
                       principal: PrincipalDep) -> PublicationOut:
    # Staff only: the state names the agents who asked and decided.
    require(not principal.is_anonymous, principal, "consulter l'état de publication")
    dataset = inventory.get_dataset(session, principal, slug)
    return _out(publication.status(session, principal, dataset, services(request).settings))


@router.post(
    "/datasets/{slug}/versions", dependencies=[Depends(api_write)], status_code=201,
    responses={200: {"description": "La prévisualisation (dry_run) : rien n'est écrit."}},
    summary="Charger un fichier comme nouvelle version (ou le prévisualiser)",
    description=(
        "Formulaire multipart : `file` (CSV, XLSX, ODS, JSON, NDJSON, GeoJSON ou Parquet), "
        "`dry_run` (champ ou paramètre d'URL : prévisualiser sans rien écrire), "
        "`accept_rejects` (charger même si des enregistrements ou des valeurs sont rejetés ; "
        "sinon le chargement est refusé avec leur liste) et "
        "`overrides` (JSON facultatif : `encoding`, `delimiter`, `header_row`, `sheet`, "
        "`format`, `types` = {colonne: string|integer|number|boolean|date|datetime|geometry}, "
        "`crs` = système des coordonnées du fichier, par exemple `EPSG:2154`). "
        "En prévisualisation (200), renvoie ce que la lecture a détecté : encodage, "
        "séparateur, ligne d'en-tête, colonnes et types, premières lignes, problèmes. Sinon "
        "(201), la version créée ; `unchanged` est vrai quand le contenu est identique à la "
        "dernière version (aucune version n'est alors créée). Réservé à qui peut modifier le "
        "jeu de données (référent de sa direction, administrateur général des données, "
        "administrateur)."),
    openapi_extra={"requestBody": {"required": True, "content": {"multipart/form-data": {
        "schema": {"type": "object", "required": ["file"], "properties": {
            "file": {"type": "string", "format": "binary"},
            "dry_run": {"type": "boolean"},
            "accept_rejects": {"type": "boolean"},
            "overrides": {"type": "string", "description": "Réglages en JSON."}}}}}}},
)
async def upload_version(
    request: Request, slug: SlugPath, session: SessionDep, principal: PrincipalDep,
    upload: FileDep,
    dry_run: Annotated[bool | None, Query(description="Prévisualiser sans rien écrire.")] = None,
    accept_rejects: Annotated[bool | None, Query(
        description="Charger même si des enregistrements ou des valeurs sont rejetés.")] = None,
) -> Any:
    settings = services(request).settings
    dataset = await run_in_threadpool(inventory.get_dataset, session, principal, slug)
    if dry_run is None:
        dry_run = str(upload.form.get("dry_run", "")).strip().lower() in _TRUE
    raw = str(upload.form.get("overrides", "") or "").strip()
    try:
        overrides = json.loads(raw) if raw else {}
    except json.JSONDecodeError:
        raise Invalid("Le champ « overrides » doit être un objet JSON.") from None
    if not isinstance(overrides, dict):
        raise Invalid("Le champ « overrides » doit être un objet JSON.")
    if dry_run:
        plan, kept = await run_in_threadpool(publication.plan_upload, upload.file, overrides)
        names = [c.source_name for c in plan.columns] + [c.name for c in plan.columns]
        return JSONResponse({"dry_run": True, "plan": _plan_json(plan),
                             "overrides": kept.model_dump(exclude_none=True),
                             "schema_suggestions": [s.as_dict() for s in suggest_schemas(names)]})
    accept = bool(accept_rejects) or (
        str(upload.form.get("accept_rejects", "")).strip().lower() in _TRUE)
    version = await run_in_threadpool(
        lambda: publication.add_version(session, settings, principal, dataset, upload.file,
                                        overrides, accept_rejects=accept))
    prepare_layout(request, session, version)
    return {"dry_run": False, "version": _version_json(version)}


@router.post("/datasets/{slug}/publication-request", response_model=PublicationOut,
             dependencies=[Depends(api_write)], summary="Demander la publication",
             description="Réservé à qui peut modifier le jeu de données ; refusé (422, avec la "
                         "liste de ce qui manque) tant que la fiche n'est pas complète.")
def ask(request: Request, slug: SlugPath, body: NoteIn, session: SessionDep,
        principal: PrincipalDep) -> PublicationOut:
    settings = services(request).settings
    dataset = inventory.get_dataset(session, principal, slug)
    publication.request_publication(session, principal, dataset, body.note, settings)
    return _out(publication.status(session, principal, dataset, settings))


@router.delete("/datasets/{slug}/publication-request", response_model=PublicationOut,
               dependencies=[Depends(api_write)], summary="Retirer la demande de publication")
def withdraw(request: Request, slug: SlugPath, session: SessionDep,
             principal: PrincipalDep) -> PublicationOut:
    dataset = inventory.get_dataset(session, principal, slug)
    publication.withdraw_request(session, principal, dataset)
    return _out(publication.status(session, principal, dataset, services(request).settings))


@router.post("/datasets/{slug}/publication-request/reject", response_model=PublicationOut,
             dependencies=[Depends(api_write)], summary="Refuser la demande de publication",
             description="Réservé à l'administrateur général des données ou à un "
                         "administrateur de l'organisation.")
def reject(request: Request, slug: SlugPath, body: ReasonIn, session: SessionDep,
           principal: PrincipalDep) -> PublicationOut:
    dataset = inventory.get_dataset(session, principal, slug)
    publication.reject_request(session, principal, dataset, body.reason)
    return _out(publication.status(session, principal, dataset, services(request).settings))


@router.post("/datasets/{slug}/publish", response_model=PublicationOut,
             dependencies=[Depends(api_write)], summary="Publier en données ouvertes",
             description="Accès ouvert et cycle de vie « publié ». Réservé à l'administrateur "
                         "général des données ou à un administrateur de l'organisation ; refusé "
                         "(422, avec chaque raison) sans données, sans licence ouverte "
                         "(etalab-2.0 ou ODbL-1.0), titre, description ou organisation, ou "
                         "tant que le contrôle des données personnelles bloque.")
def publish(request: Request, slug: SlugPath, session: SessionDep,
            principal: PrincipalDep) -> PublicationOut:
    settings = services(request).settings
    dataset = inventory.get_dataset(session, principal, slug)
    publication.publish(session, principal, dataset, settings)
    return _out(publication.status(session, principal, dataset, settings))


@router.post("/datasets/{slug}/unpublish", response_model=PublicationOut,
             dependencies=[Depends(api_write)], summary="Dépublier",
             description="Le jeu redevient interne et stocké ; toutes ses versions restent.")
def unpublish(request: Request, slug: SlugPath, session: SessionDep,
              principal: PrincipalDep) -> PublicationOut:
    dataset = inventory.get_dataset(session, principal, slug)
    publication.unpublish(session, principal, dataset)
    return _out(publication.status(session, principal, dataset, services(request).settings))
