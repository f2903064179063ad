"""JSON API of the inventory: entries, their history, organisations, statistics."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool

from patrimoine.inventory import importer, queries, service
from patrimoine.inventory.service import DatasetInput
from patrimoine.web.api.guards import api_write
from patrimoine.web.api.responses import ERRORS
from patrimoine.web.api.schemas import (
    ChangeOut,
    DatasetOut,
    DatasetPageOut,
    FacetValueOut,
    OrganisationOut,
    StatRowOut,
    StatsOut,
)
from patrimoine.web.deps import PrincipalDep, SessionDep
from patrimoine.web.uploads import FileDep

router = APIRouter(prefix="/api/v1", tags=["inventaire"], responses=ERRORS)


def filters_from_query(
    q: str = "",
    organisation: Annotated[list[str], Query()] = [],  # noqa: B006
    department: Annotated[list[str], Query()] = [],  # noqa: B006
    theme: Annotated[list[str], Query()] = [],  # noqa: B006
    source: Annotated[list[str], Query()] = [],  # noqa: B006
    sharing: Annotated[list[str], Query()] = [],  # noqa: B006
    confidentiality: Annotated[list[str], Query()] = [],  # noqa: B006
    access_level: Annotated[list[str], Query()] = [],  # noqa: B006
    lifecycle_stage: Annotated[list[str], Query()] = [],  # noqa: B006
    update_frequency: Annotated[list[str], Query()] = [],  # noqa: B006
    keyword: str | None = None,
    contains_personal_data: bool | None = None,
) -> queries.DatasetFilters:
    return queries.DatasetFilters(
        q=q,
        values={
            "organisation": organisation, "department": department, "theme": theme,
            "source": source, "sharing": sharing, "confidentiality": confidentiality,
            "access_level": access_level, "lifecycle_stage": lifecycle_stage,
            "update_frequency": update_frequency,
        },
        keyword=keyword,
        contains_personal_data=contains_personal_data,
    )


FiltersDep = Annotated[queries.DatasetFilters, Depends(filters_from_query)]


@router.get("/datasets", response_model=DatasetPageOut, summary="Lister et chercher l'inventaire")
def list_datasets(
    session: SessionDep,
    principal: PrincipalDep,
    filters: FiltersDep,
    page: Annotated[int, Query(ge=1, le=queries.MAX_PAGE)] = 1,
    per_page: Annotated[int, Query(ge=1, le=queries.MAX_PER_PAGE)] = 50,
    sort: str = "title",
) -> DatasetPageOut:
    result = queries.list_datasets(session, principal, filters, page=page, per_page=per_page,
                                   sort=sort)
    facets = queries.facets(session, principal, filters)
    return DatasetPageOut(
        total=result.total, page=result.page, per_page=result.per_page,
        items=[DatasetOut.of(d) for d in result.items],
        facets={k: [FacetValueOut(**v.__dict__) for v in vs] for k, vs in facets.items()},
    )


@router.post("/datasets", response_model=DatasetOut, status_code=201,
             dependencies=[Depends(api_write)], summary="Créer une entrée d'inventaire")
def create_dataset(session: SessionDep, principal: PrincipalDep, data: DatasetInput) -> DatasetOut:
    return DatasetOut.of(service.create_dataset(session, principal, data))


@router.get("/datasets/{slug}", response_model=DatasetOut, summary="Lire une entrée")
def get_dataset(slug: str, session: SessionDep, principal: PrincipalDep) -> DatasetOut:
    return DatasetOut.of(service.get_dataset(session, principal, slug))


@router.put("/datasets/{slug}", response_model=DatasetOut, dependencies=[Depends(api_write)],
            summary="Modifier une entrée")
def update_dataset(
    slug: str, session: SessionDep, principal: PrincipalDep, data: DatasetInput
) -> DatasetOut:
    dataset = service.get_dataset(session, principal, slug)
    service.update_dataset(session, principal, dataset, data)
    return DatasetOut.of(dataset)


@router.get("/datasets/{slug}/history", response_model=list[ChangeOut],
            summary="Historique d'une entrée")
def dataset_history(slug: str, session: SessionDep, principal: PrincipalDep) -> list[ChangeOut]:
    dataset = service.get_dataset(session, principal, slug)
    return [
        ChangeOut(at=c.at, actor=c.actor_label, action=c.action, changes=c.changes)
        for c in service.history(session, principal, dataset)
    ]


@router.get("/organisations", response_model=list[OrganisationOut], summary="Organisations")
def list_organisations(session: SessionDep) -> list[OrganisationOut]:
    return [OrganisationOut.of(o) for o in queries.organisations(session)]


@router.get("/inventory/stats", response_model=StatsOut, summary="Statistiques de l'inventaire")
def inventory_stats(
    session: SessionDep, principal: PrincipalDep, filters: FiltersDep, by: str = "organisation"
) -> StatsOut:
    rows = queries.statistics(session, principal, by, filters)
    return StatsOut(by=by, total=sum(r.count for r in rows),
                    rows=[StatRowOut(**r.__dict__) for r in rows])


_TRUE = {"1", "true", "oui", "yes", "on", "vrai"}


@router.post(
    "/inventory/import", dependencies=[Depends(api_write)],
    summary="Importer un tableur d'audit (XLSX, ODS, CSV)",
    description="Formulaire multipart : `file` (le tableur) et `dry_run` (champ de formulaire "
                "ou paramètre d'URL). En simulation, renvoie le plan (lignes à créer, à modifier, "
                "inchangées, erreurs par ligne et colonne) sans rien écrire ; sinon importe tout "
                "ou rien (422 et la liste des erreurs si une seule ligne est invalide).",
    openapi_extra={"requestBody": {"required": True, "content": {"multipart/form-data": {
        "schema": {"type": "object", "required": ["file"], "properties": {
            "file": {"type": "string", "format": "binary"},
            "dry_run": {"type": "boolean"}}}}}}},
)
async def import_inventory(
    session: SessionDep,
    principal: PrincipalDep,
    upload: FileDep,
    dry_run: Annotated[bool | None, Query(description="Simuler sans rien écrire.")] = None,
) -> dict[str, Any]:
    if dry_run is None:
        dry_run = str(upload.form.get("dry_run", "")).strip().lower() in _TRUE
    data = await run_in_threadpool(upload.file.read_bytes)
    result = await run_in_threadpool(importer.import_spreadsheet, session, principal, data,
                                     upload.filename, dry_run=dry_run)
    return result.as_dict()
