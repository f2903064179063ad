"""JSON API of the datastore: versions, records, facets, aggregates and exports, each read
through the reading service (reading/service.py: who may read which version, grants, audit)."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import FileResponse, Response, StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from patrimoine.access.permissions import is_public
from patrimoine.access.principal import Principal
from patrimoine.core.db import DbBigInt, DbInt
from patrimoine.datastore.ingest.service import ORIGINAL_MEDIA_TYPES
from patrimoine.datastore.versions import published_at
from patrimoine.reading import language
from patrimoine.reading.service import (
    Purpose,
    ReadableVersion,
    open_for_reader,
    versions_for_reader,
)
from patrimoine.web.api.responses import ERRORS, NOT_MODIFIED, files
from patrimoine.web.deps import PrincipalDep, SessionDep, services

router = APIRouter(prefix="/api/v1", tags=["entrepôt de données"],
                   responses={**ERRORS, **NOT_MODIFIED})

FILTER_HELP = (
    "Filtres : `where=colonne:op:valeur` (répétable, toutes les conditions doivent être "
    "vraies), `or=colonne:op:valeur` (répétable, au moins une doit être vraie), ou `filter=` "
    "un arbre JSON : `{\"or\": [{\"column\": \"commune\", \"op\": \"eq\", \"value\": \"Lyon\"}, "
    "{\"and\": [...]}]}`. Opérateurs : eq (égal), ne (différent), lt, lte, gt, gte "
    "(comparaisons), in (valeurs séparées par des virgules), contains et startswith (sans "
    "tenir compte des accents ni de la casse), null, notnull."
)


# ---------------------------------------------------------------- documented shapes


class ColumnOut(BaseModel):
    name: str
    type: str
    source_name: str | None = None


class VersionOut(BaseModel):
    number: int = Field(description="Numéro de la version (1, 2, 3…).")
    created_at: datetime
    row_count: int | None = Field(description="Nombre de lignes (absent quand votre "
                                  "autorisation ne donne accès qu'à une partie des lignes).")
    size_bytes: int
    content_hash: str = Field(description="Empreinte SHA-256 du fichier Parquet.")
    columns: list[ColumnOut]
    positions: dict[str, str] | None = Field(
        None, description="Colonnes de latitude et longitude quand la version a des positions.")
    source_filename: str
    source_format: str


class RecordsOut(BaseModel):
    dataset: str
    version: int
    columns: list[str]
    total: int | None = Field(description="Nombre de lignes qui répondent aux filtres.")
    limit: int
    offset: int | None
    next_cursor: str | None = Field(
        description="Curseur opaque de la page suivante (paramètre cursor), absent en fin.")
    rows: list[dict[str, Any]]


class FacetValueOut(BaseModel):
    value: Any
    count: int


class FacetOut(BaseModel):
    column: str
    values: list[FacetValueOut]
    truncated: bool = Field(description="Vrai quand d'autres valeurs existent au-delà de size.")


class FacetsOut(BaseModel):
    dataset: str
    version: int
    total: int
    facets: list[FacetOut]


class AggregateOut(BaseModel):
    dataset: str
    version: int
    columns: list[str]
    rows: list[dict[str, Any]]


# ------------------------------------------------------------------ parameters


async def query_params(
    where: Annotated[list[str], Query(description=FILTER_HELP)] = [],  # noqa: B006
    or_: Annotated[list[str], Query(alias="or", description="Conditions dont au moins une "
                                    "doit être vraie (colonne:op:valeur).")] = [],  # noqa: B006
    filter: Annotated[str | None, Query(description="Arbre de filtres JSON (voir where).")] = None,
    q: Annotated[str, Query(description="Recherche plein texte dans les colonnes de texte, sans "
                            "tenir compte des accents ni de la casse ; tous les mots doivent "
                            "figurer.")] = "",
    bbox: Annotated[str | None, Query(description="Rectangle lon_min,lat_min,lon_max,lat_max "
                                      "(versions avec positions).")] = None,
    near: Annotated[str | None, Query(description="latitude,longitude,rayon_en_mètres : lignes "
                                      "à moins de ce rayon (distance orthodromique).")] = None,
) -> language.Query:
    return language.Query(
        filter=language.build_filter(where, or_, filter), search=q,
        bbox=language.parse_bbox(bbox), near=language.parse_near(near),
    )


QueryDep = Annotated[language.Query, Depends(query_params)]
SlugPath = Annotated[str, Path(description="Identifiant (slug) du jeu de données.")]
NumberPath = Annotated[DbInt, Path(ge=1, description="Numéro de version.")]
ColumnsParam = Annotated[str | None, Query(
    description="Colonnes à renvoyer, séparées par des virgules (toutes par défaut).")]
SortParam = Annotated[str | None, Query(
    description="Tri : colonnes séparées par des virgules, `-` devant pour l'ordre "
                "décroissant (ex. `commune,-montant`). Les valeurs vides viennent en dernier.")]


def _columns(text: str | None) -> tuple[str, ...]:
    return tuple(c.strip() for c in (text or "").split(",") if c.strip())


# --------------------------------------------------------------------- helpers


def _open(
    request: Request, session: Session, principal: Principal, slug: str, number: int | None,
    action: str,
) -> ReadableVersion:
    return open_for_reader(
        session, services(request).settings, principal, slug, number,
        Purpose(action, request.url.path, str(request.url.query)))


def _not_modified(request: Request, etag: str, last_modified: datetime) -> bool:
    inm = request.headers.get("if-none-match")
    if inm is not None:
        tags = [t.strip().removeprefix("W/") for t in inm.split(",")]
        return "*" in tags or etag in tags
    ims = request.headers.get("if-modified-since")
    if ims:
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return last_modified <= since
    return False


def _validators(etag: str, readable: ReadableVersion) -> dict[str, str]:
    version = readable.version
    private = not is_public(readable.dataset)
    return {
        "ETag": etag,
        "Last-Modified": format_datetime(published_at(version), usegmt=True),
        "Cache-Control": "private, no-cache" if private else "public, no-cache",
        "Vary": "Authorization, Cookie",
    }


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return str(value)


def _json(body: dict[str, Any], headers: dict[str, str]) -> Response:
    text = json.dumps(body, default=_json_default, ensure_ascii=False, separators=(",", ":"))
    return Response(text, media_type="application/json", headers=headers)


def _conditional(request: Request, readable: ReadableVersion, query: language.Query,
                 extra: Any) -> tuple[dict[str, str], Response | None]:
    etag = readable.etag(query, extra)
    headers = _validators(etag, readable)
    if _not_modified(request, etag, published_at(readable.version)):
        return headers, Response(status_code=304, headers=headers)
    return headers, None


# --------------------------------------------------------------------- versions


@router.get("/datasets/{slug}/versions", response_model=list[VersionOut],
            summary="Versions publiées d'un jeu de données",
            description="Toutes les versions des données du jeu, de la plus récente à la plus "
                        "ancienne. Chaque version est immuable.")
def list_versions(request: Request, slug: SlugPath, session: SessionDep,
                  principal: PrincipalDep) -> list[VersionOut]:
    return [
        VersionOut(
            number=seen.version.number, created_at=seen.version.created_at,
            row_count=seen.row_count, size_bytes=seen.version.size_bytes,
            content_hash=seen.version.content_hash,
            columns=[ColumnOut(**c) for c in seen.columns], positions=seen.positions,
            source_filename=seen.version.source_filename,
            source_format=seen.version.source_format,
        )
        for seen in versions_for_reader(session, services(request).settings, principal, slug)
    ]


# ---------------------------------------------------------------------- records


def _records(request: Request, session: Session, principal: Principal, slug: str,
             number: int | None, query: language.Query, columns: str | None, sort: str | None,
             limit: int, offset: int, cursor: str | None, count: bool) -> Response:
    readable = _open(request, session, principal, slug, number, "datastore.read")
    page = language.Page(columns=_columns(columns), sort=language.parse_sort(sort), limit=limit,
                        offset=offset, cursor=cursor, count=count)
    headers, not_modified = _conditional(request, readable, query, ["records", page])
    if not_modified:
        return not_modified
    result = readable.records(query, page, as_json=True)
    body = {
        "dataset": readable.dataset.slug, "version": readable.version.number,
        "columns": result.columns,
        "total": result.total, "limit": result.limit, "offset": result.offset,
        "next_cursor": result.next_cursor, "rows": result.rows,
    }
    if result.rows_json is None:
        return _json(body, headers)
    # Rows already written as JSON by the row store: spliced in as they are.
    head = json.dumps({k: v for k, v in body.items() if k != "rows"}, ensure_ascii=False,
                      separators=(",", ":"))
    return Response(head[:-1].encode() + b',"rows":' + result.rows_json + b"}",
                    media_type="application/json", headers=headers)


RECORDS_DOC = (
    "Lignes des données, filtrées, triées et paginées. Pagination par `offset` (pages "
    "numérotées) ou par `cursor` (curseur opaque `next_cursor` de la page précédente, "
    "recommandé pour parcourir loin). " + FILTER_HELP
)
# The maxima are settings (max_page_size, max_aggregate_rows): the engine checks them.
LimitParam = Annotated[DbBigInt, Query(ge=1, description="Lignes par page (1 000 au plus, sauf "
                                  "réglage contraire du serveur).")]
OffsetParam = Annotated[DbBigInt, Query(ge=0, description="Nombre de lignes à sauter.")]
CursorParam = Annotated[str | None, Query(description="Curseur next_cursor d'une page "
                                          "précédente (remplace offset).")]
CountParam = Annotated[bool, Query(description="Compter les lignes qui répondent (total).")]


@router.get("/datasets/{slug}/records", response_model=RecordsOut,
            summary="Lignes de la dernière version", description=RECORDS_DOC)
def latest_records(
    request: Request, slug: SlugPath, session: SessionDep, principal: PrincipalDep,
    query: QueryDep, columns: ColumnsParam = None, sort: SortParam = None,
    limit: LimitParam = 100, offset: OffsetParam = 0, cursor: CursorParam = None,
    count: CountParam = True,
) -> Response:
    return _records(request, session, principal, slug, None, query, columns, sort, limit,
                    offset, cursor, count)


@router.get("/datasets/{slug}/versions/{number:int}/records", response_model=RecordsOut,
            summary="Lignes d'une version", description=RECORDS_DOC)
def version_records(
    request: Request, slug: SlugPath, number: NumberPath, session: SessionDep,
    principal: PrincipalDep, query: QueryDep, columns: ColumnsParam = None,
    sort: SortParam = None, limit: LimitParam = 100, offset: OffsetParam = 0,
    cursor: CursorParam = None, count: CountParam = True,
) -> Response:
    return _records(request, session, principal, slug, number, query, columns, sort, limit,
                    offset, cursor, count)


# ----------------------------------------------------------------------- facets


def _facets(request: Request, session: Session, principal: Principal, slug: str,
            number: int | None, query: language.Query, facet: list[str], size: int) -> Response:
    readable = _open(request, session, principal, slug, number, "datastore.read")
    headers, not_modified = _conditional(request, readable, query, ["facets", facet, size])
    if not_modified:
        return not_modified
    result = readable.facets(query, facet, size)
    return _json({
        "dataset": readable.dataset.slug, "version": readable.version.number,
        "total": readable.count(query),
        "facets": [{"column": f.column, "truncated": f.truncated,
                    "values": [{"value": v.value, "count": v.count} for v in f.values]}
                   for f in result],
    }, headers)


FACETS_DOC = ("Valeurs les plus fréquentes de chaque colonne demandée (`facet`, répétable), "
              "avec leur nombre de lignes, parmi les lignes filtrées. " + FILTER_HELP)
FacetParam = Annotated[list[str], Query(description="Colonne dont compter les valeurs "
                                        "(répétable).")]
SizeParam = Annotated[int, Query(ge=1, le=1000, description="Valeurs par facette.")]


@router.get("/datasets/{slug}/facets", response_model=FacetsOut,
            summary="Facettes de la dernière version", description=FACETS_DOC)
def latest_facets(request: Request, slug: SlugPath, session: SessionDep,
                  principal: PrincipalDep, query: QueryDep, facet: FacetParam,
                  size: SizeParam = 30) -> Response:
    return _facets(request, session, principal, slug, None, query, facet, size)


@router.get("/datasets/{slug}/versions/{number:int}/facets", response_model=FacetsOut,
            summary="Facettes d'une version", description=FACETS_DOC)
def version_facets(request: Request, slug: SlugPath, number: NumberPath, session: SessionDep,
                   principal: PrincipalDep, query: QueryDep, facet: FacetParam,
                   size: SizeParam = 30) -> Response:
    return _facets(request, session, principal, slug, number, query, facet, size)


# -------------------------------------------------------------------- aggregate


def _aggregate(request: Request, session: Session, principal: Principal, slug: str,
               number: int | None, query: language.Query, group_by: list[str],
               metric: list[str], sort: str | None, limit: int | None) -> Response:
    readable = _open(request, session, principal, slug, number, "datastore.read")
    groups = [language.parse_group(g) for g in group_by]
    metrics = [language.parse_metric(m) for m in metric]
    headers, not_modified = _conditional(request, readable, query,
                                         ["aggregate", groups, metrics, sort, limit])
    if not_modified:
        return not_modified
    result = readable.aggregate(query, groups, metrics, language.parse_sort(sort), limit)
    return _json({"dataset": readable.dataset.slug, "version": readable.version.number,
                  "columns": result.columns, "rows": result.rows}, headers)


AGGREGATE_DOC = (
    "Calculs regroupés : `group_by=colonne` (répétable ; `colonne:day`, `:month` ou `:year` "
    "regroupe une date par jour, mois ou année), `metric=count` ou `metric=fonction:colonne` "
    "avec sum, avg, min, max, count, count_distinct (répétable). Chaque calcul est nommé "
    "`fonction_colonne` (ex. sum_montant) ; `sort=-sum_montant` trie sur un calcul. "
    + FILTER_HELP
)
GroupParam = Annotated[list[str], Query(description="Colonne de regroupement (répétable).")]
MetricParam = Annotated[list[str], Query(description="Calcul (répétable), count par défaut.")]
AggLimitParam = Annotated[DbBigInt | None, Query(ge=1, description="Garder les N premiers "
                                            "groupes (10 000 au plus, sauf réglage "
                                            "contraire du serveur).")]


@router.get("/datasets/{slug}/aggregate", response_model=AggregateOut,
            summary="Agrégats de la dernière version", description=AGGREGATE_DOC)
def latest_aggregate(request: Request, slug: SlugPath, session: SessionDep,
                     principal: PrincipalDep, query: QueryDep,
                     group_by: GroupParam = [],  # noqa: B006
                     metric: MetricParam = [],  # noqa: B006
                     sort: SortParam = None, limit: AggLimitParam = None) -> Response:
    return _aggregate(request, session, principal, slug, None, query, group_by, metric, sort,
                      limit)


@router.get("/datasets/{slug}/versions/{number:int}/aggregate", response_model=AggregateOut,
            summary="Agrégats d'une version", description=AGGREGATE_DOC)
def version_aggregate(request: Request, slug: SlugPath, number: NumberPath,
                      session: SessionDep, principal: PrincipalDep, query: QueryDep,
                      group_by: GroupParam = [], metric: MetricParam = [],  # noqa: B006
                      sort: SortParam = None, limit: AggLimitParam = None) -> Response:
    return _aggregate(request, session, principal, slug, number, query, group_by, metric, sort,
                      limit)


# ----------------------------------------------------------------------- export


def _export(request: Request, session: Session, principal: Principal, slug: str,
            number: int | None, query: language.Query, fmt: str, columns: str | None,
            sort: str | None, sep: str, names: str, excel: bool) -> Response:
    readable = _open(request, session, principal, slug, number, "datastore.export")
    export_request = language.ExportRequest(format=fmt.lower(), columns=_columns(columns),
                                           sort=language.parse_sort(sort), delimiter=sep,
                                           names=names, excel=excel,
                                           published=published_at(readable.version))
    etag = readable.export_etag(query, export_request)
    headers = _validators(etag, readable)
    if _not_modified(request, etag, published_at(readable.version)):
        return Response(status_code=304, headers=headers)
    result = readable.export(query, export_request)
    headers["Content-Disposition"] = f'attachment; filename="{result.filename}"'
    if result.path is not None:
        return _KeptFile(result.path, media_type=result.media_type, headers=headers)
    return StreamingResponse(result.chunks, media_type=result.media_type, headers=headers)


class _KeptFile(FileResponse):
    """A kept export file, sent in large reads (our ETag and Last-Modified headers win)."""

    chunk_size = 1 << 20


EXPORT_DOC = (
    "Export de toute la version ou des lignes filtrées, envoyé en flux, sous les noms de "
    "colonnes du fichier chargé (`names=technical` : ceux de l'API) ; un jeu qui déclare un "
    "schéma écrit ses valeurs comme le schéma le demande (booléens, dates, décimales) : "
    "csv (UTF-8, séparateur `sep` `,` ou `;`, cellules commençant par = + - @ neutralisées par une "
    "apostrophe), json, ndjson, geojson (versions avec géométrie ou positions), parquet, xlsx. "
    "Réponses avec ETag et Last-Modified ; If-None-Match / If-Modified-Since donnent 304. "
    + FILTER_HELP
)
FormatPath = Annotated[str, Path(description="Format : " + ", ".join(language.FORMATS) + ".")]
FormatParam = Annotated[str, Query(alias="format", description="Format : "
                                   + ", ".join(language.FORMATS) + ".")]
SepParam = Annotated[str, Query(description="Séparateur CSV : `,` ou `;`.")]
ExcelParam = Annotated[bool, Query(description="CSV pour tableur français (Excel, "
                                   "LibreOffice) : séparateur `;`, marque UTF-8 (BOM) en tête, "
                                   "virgule décimale.")]
NamesParam = Annotated[str, Query(description="Noms des colonnes : `source` (les en-têtes du "
                                  "fichier chargé, par défaut) ou `technical` (les noms de "
                                  "l'API).")]
EXPORTED = files(*language.MEDIA_TYPES.values(), description="Le fichier, au format demandé.")


@router.get("/datasets/{slug}/export.{fmt}", summary="Exporter la dernière version",
            description=EXPORT_DOC, response_class=StreamingResponse,
            responses=EXPORTED)
def latest_export(request: Request, slug: SlugPath, fmt: FormatPath, session: SessionDep,
                  principal: PrincipalDep, query: QueryDep, columns: ColumnsParam = None,
                  sort: SortParam = None, sep: SepParam = ",",
                  names: NamesParam = "source", excel: ExcelParam = False) -> Response:
    return _export(request, session, principal, slug, None, query, fmt, columns, sort, sep,
                   names, excel)


@router.get("/datasets/{slug}/export", summary="Exporter la dernière version (format en "
            "paramètre)", description=EXPORT_DOC, response_class=StreamingResponse,
            responses=EXPORTED)
def latest_export_param(request: Request, slug: SlugPath, session: SessionDep,
                        principal: PrincipalDep, query: QueryDep, fmt: FormatParam = "csv",
                        columns: ColumnsParam = None, sort: SortParam = None,
                        sep: SepParam = ",", names: NamesParam = "source",
                        excel: ExcelParam = False) -> Response:
    return _export(request, session, principal, slug, None, query, fmt, columns, sort, sep,
                   names, excel)


@router.get("/datasets/{slug}/versions/{number:int}/export.{fmt}",
            summary="Exporter une version", description=EXPORT_DOC,
            response_class=StreamingResponse, responses=EXPORTED)
def version_export(request: Request, slug: SlugPath, number: NumberPath, fmt: FormatPath,
                   session: SessionDep, principal: PrincipalDep, query: QueryDep,
                   columns: ColumnsParam = None, sort: SortParam = None,
                   sep: SepParam = ",", names: NamesParam = "source",
                   excel: ExcelParam = False) -> Response:
    return _export(request, session, principal, slug, number, query, fmt, columns, sort, sep,
                   names, excel)


@router.get("/datasets/{slug}/versions/{number:int}/export",
            summary="Exporter une version (format en paramètre)", description=EXPORT_DOC,
            response_class=StreamingResponse, responses=EXPORTED)
def version_export_param(request: Request, slug: SlugPath, number: NumberPath,
                         session: SessionDep, principal: PrincipalDep, query: QueryDep,
                         fmt: FormatParam = "csv", columns: ColumnsParam = None,
                         sort: SortParam = None, sep: SepParam = ",",
                         names: NamesParam = "source", excel: ExcelParam = False) -> Response:
    return _export(request, session, principal, slug, number, query, fmt, columns, sort, sep,
                   names, excel)


@router.get("/datasets/{slug}/versions/{number:int}/original",
            summary="Télécharger le fichier d'origine d'une version",
            description="Le fichier tel qu'il a été chargé, octet pour octet, sous son nom et "
                        "son type de média. Absent (404) pour une version dérivée d'une autre "
                        "(anonymisée, purgée) ; refusé (403) à une autorisation qui ne montre "
                        "qu'une partie de la version.",
            response_class=FileResponse, responses=files(
                *ORIGINAL_MEDIA_TYPES.values(), "application/octet-stream",
                description="Le fichier d'origine, sous le type de média de son format."))
def version_original(request: Request, slug: SlugPath, number: NumberPath, session: SessionDep,
                     principal: PrincipalDep) -> Response:
    readable = _open(request, session, principal, slug, number, "datastore.original")
    path, filename, media_type = readable.original()
    etag = f'"{path.name[:40]}"'  # kept under the sha256 of its bytes
    headers = _validators(etag, readable)
    if _not_modified(request, etag, published_at(readable.version)):
        return Response(status_code=304, headers=headers)
    return _KeptFile(path, media_type=media_type, filename=filename, headers=headers)
