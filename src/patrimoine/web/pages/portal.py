"""The public portal: home, catalog, dataset pages, organisations, feed, sitemap, embeds.

Server-rendered and readable without JavaScript; scripts only draw the chart and the map
over content (tables) that is already on the page. What is public is decided in
portal/catalog.py; versions are read through the reading service (reading/service.py: the
personal-data gate, the audit of reads of data that is not open).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree as ET

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from patrimoine.access.permissions import is_public
from patrimoine.access.principal import Principal
from patrimoine.charter import quality
from patrimoine.core.db import DbInt
from patrimoine.core.errors import Invalid, NotFound, PatrimoineError
from patrimoine.core.markdown import markdown
from patrimoine.core.vocabulary import label
from patrimoine.datastore.models import DatasetVersion
from patrimoine.inventory.licences import licence
from patrimoine.inventory.models import Dataset
from patrimoine.portal import catalog, data
from patrimoine.protection.register import service as register
from patrimoine.reading import language
from patrimoine.reading.service import (
    Purpose,
    ReadableVersion,
    open_for_reader,
    versions_for_reader,
)
from patrimoine.standards import queries as standards
from patrimoine.usage import service as usage
from patrimoine.web.deps import PrincipalDep, SessionDep, services
from patrimoine.web.head import is_head
from patrimoine.web.templating import render

router = APIRouter(include_in_schema=False)

ATOM = "http://www.w3.org/2005/Atom"
SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"
ANONYMOUS = Principal.anonymous()
ORGANISATION_LATEST = 20


def _page(request: Request, template: str, context: dict[str, Any], status: int = 200) -> Any:
    return render(request, template, context, status=status)


def _base_url(request: Request) -> str:
    """Base of absolute links (feed, sitemap, API calls, embeds): PATRIMOINE_PUBLIC_URL when
    it is set, else the address the request came to."""
    settings = services(request).settings
    if "public_url" in settings.model_fields_set:
        return settings.public_url.rstrip("/")
    return str(request.base_url).rstrip("/")


def _multi(request: Request) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in request.query_params.multi_items():
        out.setdefault(name, []).append(value)
    return out


# ---------------------------------------------------------------------------- home


@router.get("/")
def home(request: Request, session: SessionDep, principal: PrincipalDep) -> Response:
    summary = catalog.summary(session, principal, settings=services(request).settings)
    return _page(request, "portal/home.html", {"summary": summary})


# ------------------------------------------------------------------------- catalog


def _catalog_url(sel: catalog.Selection, **changes: Any) -> str:
    params: list[tuple[str, str]] = []
    q = changes.get("q", sel.q)
    if q:
        params.append(("q", q))
    facets = changes.get("facets", sel.facets)
    for name, values in facets.items():
        params += [(name, v) for v in values]
    sort = changes.get("tri", sel.sort)
    if sort:
        params.append(("tri", sort))
    page = changes.get("page", 1)
    if page != 1:
        params.append(("page", str(page)))
    return "/datasets" + (f"?{urlencode(params)}" if params else "")


def _toggle(sel: catalog.Selection, facet: str, value: str) -> str:
    facets = {k: list(v) for k, v in sel.facets.items()}
    chosen = facets.setdefault(facet, [])
    if value in chosen:
        chosen.remove(value)
    else:
        chosen.append(value)
    return _catalog_url(sel, facets=facets)


@router.get("/datasets")
def catalog_page(request: Request, session: SessionDep, principal: PrincipalDep) -> Response:
    sel = catalog.parse_selection(request.query_params.multi_items())
    result = catalog.search_catalog(session, principal, sel,
                                    settings=services(request).settings)
    return _page(request, "portal/catalog.html", {
        "result": result, "sel": sel, "sorts": catalog.SORTS,
        "url": lambda **c: _catalog_url(sel, **c),
        "toggle": lambda f, v: _toggle(sel, f, v),
    })


# ------------------------------------------------------------------------ dataset


def _readable(request: Request, session: Session, principal: Principal, dataset: Dataset,
              number: int | None = None) -> ReadableVersion:
    """Version `number` (the newest when None) as `principal` may read it: of an open
    dataset, only versions that passed the personal-data gate; NotFound otherwise. Reads of
    data that is not open are written to the audit log."""
    return open_for_reader(session, services(request).settings, principal, dataset, number,
                           Purpose("portal.read", request.url.path, str(request.url.query)))


EXCEL_CSV = "csv-excel"  # /telecharger?format=csv-excel: the CSV a French spreadsheet opens


def _export_formats(version: DatasetVersion) -> list[str]:
    geo = bool(version.positions) or any(c["type"] == "geometry" for c in version.columns)
    found = [f for f in language.FORMATS if f != "geojson" or geo]
    return [*found[:1], EXCEL_CSV, *found[1:]]


ORIGINAL = "origine"  # /telecharger?format=origine: the file as it was loaded
FORMAT_NAMES = {"csv": "CSV", EXCEL_CSV: "CSV pour Excel", "json": "JSON", "ndjson": "NDJSON",
                "geojson": "GeoJSON", "parquet": "Parquet", "xlsx": "Excel"}


def _dataset_context(request: Request, session: Session, principal: Principal,
                     dataset: Dataset) -> dict[str, Any]:
    params = _multi(request)
    try:
        readable: ReadableVersion | None = _readable(request, session, principal, dataset)
    except NotFound:  # no data this visitor may read (the read is logged all the same)
        readable = None
    # Of an open dataset, only the versions that passed the personal-data gate.
    all_versions = [seen.version for seen in versions_for_reader(
        session, services(request).settings, principal, dataset)]
    latest = readable.version if readable is not None else None
    base = f"/datasets/{dataset.slug}"
    ctx: dict[str, Any] = {
        "dataset": dataset, "licence": licence(dataset.licence), "versions": all_versions,
        "latest": latest, "formats": {v.number: _export_formats(v) for v in all_versions},
        "format_names": FORMAT_NAMES, "table": None, "table_error": None, "chart": None,
        "chart_error": None, "points": None, "base": base, "operators": language.OPERATORS,
        "chart_types": data.CHART_TYPES, "aggregates": data.AGGREGATES,
        "buckets": data.BUCKETS, "type_labels": data.TYPE_LABELS, "display": data.display,
        "modified": max(catalog.as_utc(dataset.updated_at),
                        catalog.as_utc(latest.created_at if latest else None)),
        "api_base": _base_url(request) + "/api/v1", "settings": services(request).settings,
        "site_url": _base_url(request),
    }
    ctx["views"], ctx["downloads"] = usage.totals(session, dataset.id, services(request).usage)
    # Quality and schema conformity of what this visitor reads (the version shown).
    shown = {dataset.id: latest} if latest is not None else {}
    ctx["quality"] = quality.quality_score(session, dataset, ctx["settings"], shown)
    ctx["conformity"] = standards.conformities(session, [dataset.id], shown)[dataset.id]
    ctx["band_labels"] = quality.BAND_LABELS
    ctx["json_ld"] = _json_ld(request, dataset, ctx["licence"], ctx["modified"], latest,
                              ctx["formats"].get(latest.number, []) if latest else [])
    if readable is None or latest is None:
        return ctx
    req = data.TableRequest()
    try:
        req = data.parse_table(params)
        ctx["table"] = data.table_page(readable, req)
    except Invalid as exc:
        ctx["table_error"] = exc
        req = data.TableRequest()
        ctx["table"] = data.table_page(readable, req)
    ctx["req"] = req
    ctx["table_query"] = urlencode({k: v for k, v in req.params().items() if k != "page"},
                                   doseq=True)
    ctx["labels"] = data.column_labels(latest)
    ctx["filter_labels"] = [(f, data.describe_filter(f, ctx["labels"])) for f in req.filters]
    ctx["x_columns"], ctx["y_columns"] = data.chart_columns(latest)
    query = req.query()
    try:
        chart_req = data.parse_chart(params, latest)
        ctx["chart"] = data.chart_data(readable, chart_req, query)
    except Invalid as exc:
        ctx["chart_error"] = exc
        if ctx["x_columns"]:  # the default chart, when the asked one is wrong
            ctx["chart"] = data.chart_data(readable, data.parse_chart({}, latest), query)
    if ctx["chart"] is not None:
        ctx["chart_query"] = urlencode(ctx["chart"].request.params()) + (
            "&" + ctx["table_query"] if ctx["table_query"] else "")
    if latest.positions:
        ctx["points"] = data.map_points(readable, query)
        ctx["geojson_url"] = _map_source(dataset, latest, req, ctx["points"].total)
        ctx["grouped"] = ctx["points"].total > data.MAP_ROWS_DRAWN
    api_params = urlencode({**({"q": req.search} if req.search else {}),
                            "where": req.filters, "limit": 20}, doseq=True)
    ctx["api_url"] = f"{ctx['api_base']}/datasets/{dataset.slug}/records?{api_params}"
    return ctx


def _json_ld(request: Request, dataset: Dataset, found: Any, modified: datetime,
             latest: DatasetVersion | None, formats: list[str]) -> Markup:
    """schema.org Dataset metadata, for search engines (Google Dataset Search...)."""
    site = _base_url(request)
    body: dict[str, Any] = {
        "@context": "https://schema.org", "@type": "Dataset", "name": dataset.title,
        "description": dataset.description or dataset.title,
        "url": f"{site}/datasets/{dataset.slug}", "identifier": dataset.uid,
        "inLanguage": "fr", "dateModified": modified.isoformat(),
        "creator": {"@type": "Organization", "name": dataset.organisation.name,
                    "url": f"{site}/organisations/{dataset.organisation.slug}"},
        "isAccessibleForFree": True,
    }
    if found is not None:
        body["license"] = found.url or found.title
    if dataset.keywords:
        body["keywords"] = dataset.keywords
    if dataset.spatial_coverage:
        body["spatialCoverage"] = dataset.spatial_coverage
    if dataset.temporal_start and dataset.temporal_end:
        body["temporalCoverage"] = (f"{dataset.temporal_start.isoformat()}/"
                                    f"{dataset.temporal_end.isoformat()}")
    if latest is not None:
        body["distribution"] = [
            {"@type": "DataDownload", "encodingFormat": language.MEDIA_TYPES[f].split(";")[0],
             "contentUrl": f"{site}/api/v1/datasets/{dataset.slug}/versions/{latest.number}"
                           f"/export.{f}"}
            for f in formats if f in language.MEDIA_TYPES]
    text = json.dumps(body, ensure_ascii=False)
    # Inside <script>: no "</script>" or "<!--" may come from the data.
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def _map_source(dataset: Dataset, version: DatasetVersion, req: data.TableRequest,
                total: int) -> str:
    """Where the map reads its points: every row from the export API, or, past
    MAP_ROWS_DRAWN rows, one point per distinct position."""
    params: dict[str, Any] = {"where": req.filters}
    if req.search:
        params["q"] = req.search
    if total > data.MAP_ROWS_DRAWN:
        table_params = {k: v for k, v in req.params().items() if k != "page"}
        query = urlencode(table_params, doseq=True)
        return f"/datasets/{dataset.slug}/points.geojson" + (f"?{query}" if query else "")
    params["columns"] = ",".join(data.map_properties(version))
    return f"/api/v1/datasets/{dataset.slug}/export.geojson?" + urlencode(params, doseq=True)


@router.get("/datasets/{slug}/points.geojson")
def grouped_points(request: Request, slug: str, session: SessionDep,
                   principal: PrincipalDep) -> Response:
    """One point per distinct position of the filtered rows (for maps of many rows)."""
    try:
        dataset = catalog.get_public_dataset(session, principal, slug)
        readable = _readable(request, session, principal, dataset)
        if not readable.version.positions:
            raise NotFound(f"Le jeu de données « {slug} » n'a pas de positions à cartographier.")
        req = data.parse_table(_multi(request))
        points = data.grouped_points(readable, req.query())
    except PatrimoineError as exc:
        return JSONResponse({"ok": False, "status": exc.status, "error": exc.message,
                             "errors": exc.errors}, status_code=exc.status)
    body = json.dumps(points.geojson(), ensure_ascii=False, default=str)
    return Response(body, media_type="application/geo+json")


@router.get("/datasets.atom")
def feed(request: Request, session: SessionDep) -> Response:
    # Always the anonymous view: feed readers cache and share what they fetch.
    base = _base_url(request)
    items = catalog.feed_entries(session, ANONYMOUS, settings=services(request).settings)
    ET.register_namespace("", ATOM)
    root = ET.Element(f"{{{ATOM}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": "fr"})
    ET.SubElement(root, f"{{{ATOM}}}title").text = "Jeux de données publiés"
    ET.SubElement(root, f"{{{ATOM}}}subtitle").text = (
        "Nouveaux jeux de données et mises à jour du portail de données ouvertes.")
    ET.SubElement(root, f"{{{ATOM}}}id").text = f"{base}/datasets.atom"
    ET.SubElement(root, f"{{{ATOM}}}link", {"rel": "self", "href": f"{base}/datasets.atom",
                                            "type": "application/atom+xml"})
    ET.SubElement(root, f"{{{ATOM}}}link", {"rel": "alternate", "href": f"{base}/datasets",
                                            "type": "text/html"})
    updated = max((e.modified for e in items), default=datetime(2020, 1, 1, tzinfo=UTC))
    ET.SubElement(root, f"{{{ATOM}}}updated").text = updated.isoformat()
    author = ET.SubElement(root, f"{{{ATOM}}}author")
    ET.SubElement(author, f"{{{ATOM}}}name").text = "Patrimoine"
    for e in items:
        entry = ET.SubElement(root, f"{{{ATOM}}}entry")
        ET.SubElement(entry, f"{{{ATOM}}}title").text = e.title
        ET.SubElement(entry, f"{{{ATOM}}}id").text = f"{base}/datasets/{e.slug}"
        ET.SubElement(entry, f"{{{ATOM}}}link", {"rel": "alternate", "type": "text/html",
                                                 "href": f"{base}/datasets/{e.slug}"})
        ET.SubElement(entry, f"{{{ATOM}}}published").text = e.created_at.isoformat()
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = e.modified.isoformat()
        who = ET.SubElement(entry, f"{{{ATOM}}}author")
        ET.SubElement(who, f"{{{ATOM}}}name").text = e.organisation
        if e.theme:
            ET.SubElement(entry, f"{{{ATOM}}}category", {"term": e.theme})
        summary = ET.SubElement(entry, f"{{{ATOM}}}summary", {"type": "html"})
        summary.text = str(markdown(e.description))
    body = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return Response(body, media_type="application/atom+xml; charset=utf-8")


def _visitor(request: Request) -> bool:
    """Whether the request counts in the usage figures: not a robot, not a HEAD (checks)."""
    return not is_head(request) and not usage.is_robot(request.headers.get("user-agent"))


@router.get("/datasets/{slug}")
def dataset_page(request: Request, slug: str, session: SessionDep,
                 principal: PrincipalDep) -> Response:
    dataset = catalog.get_public_dataset(session, principal, slug)
    # A view is the arrival on the page; filtering, sorting, paging or charting it is not.
    if not request.query_params and _visitor(request):
        services(request).usage.view(dataset.id)  # counted in memory: no write on a read
    ctx = _dataset_context(request, session, principal, dataset)
    status = 400 if ctx["table_error"] or ctx["chart_error"] else 200
    return _page(request, "portal/dataset.html", ctx, status=status)


@router.get("/datasets/{slug}/chart.vl.json")
def chart_spec(request: Request, slug: str, session: SessionDep,
               principal: PrincipalDep) -> Response:
    try:
        dataset = catalog.get_public_dataset(session, principal, slug)
        readable = _readable(request, session, principal, dataset)
        params = _multi(request)
        req = data.parse_table(params)
        chart = data.chart_data(readable, data.parse_chart(params, readable.version),
                                req.query())
    except PatrimoineError as exc:
        # A JSON endpoint answers errors in JSON, in the API's one error shape.
        return JSONResponse({"ok": False, "status": exc.status, "error": exc.message,
                             "errors": exc.errors}, status_code=exc.status)
    spec = data.vega_lite_spec(chart, dataset.title)
    return JSONResponse(spec, headers={"Cache-Control": "public, max-age=60"
                                       if is_public(dataset) else "private"})


@router.get("/datasets/{slug}/telecharger")
def download(request: Request, slug: str, session: SessionDep, principal: PrincipalDep,
             format: str = "csv", version: DbInt | None = None) -> Response:
    """Counts one download, then hands over to the export API (which streams the file)."""
    dataset = catalog.get_public_dataset(session, principal, slug)
    if format not in (*language.FORMATS, EXCEL_CSV, ORIGINAL):
        raise Invalid(f"Format « {format} » inconnu : {', '.join(language.FORMATS)}, "
                      f"{EXCEL_CSV} (CSV pour tableur), {ORIGINAL} (le fichier d'origine).")
    chosen = _readable(request, session, principal, dataset, version).version
    if _visitor(request):
        services(request).usage.download(dataset.id)
    if format == ORIGINAL:
        return RedirectResponse(f"/api/v1/datasets/{slug}/versions/{chosen.number}/original",
                                status_code=303, headers={"Cache-Control": "no-store"})
    keep = [(k, v) for k, v in request.query_params.multi_items() if k in ("where", "q", "sep")]
    if format == EXCEL_CSV:
        format, keep = "csv", [*keep, ("excel", "true")]
    target = f"/api/v1/datasets/{slug}/versions/{chosen.number}/export.{format}"
    if keep:
        target += "?" + urlencode(keep)
    return RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})


# ------------------------------------------------------------------- organisations


@router.get("/organisations")
def organisations_page(request: Request, session: SessionDep,
                       principal: PrincipalDep) -> Response:
    return _page(request, "portal/organisations.html",
                 {"organisations": catalog.organisations(session, principal)})


@router.get("/organisations/{slug}")
def organisation_page(request: Request, slug: str, session: SessionDep,
                      principal: PrincipalDep) -> Response:
    org = catalog.get_organisation(session, slug)
    entries = catalog.organisation_entries(session, principal, org,
                                           settings=services(request).settings)
    themes: dict[str, int] = {}
    for e in entries:
        if e.theme:
            themes[e.theme] = themes.get(e.theme, 0) + 1
    latest = sorted(entries, key=lambda e: (-e.modified.timestamp(), e.title.casefold()))
    return _page(request, "portal/organisation.html", {
        "org": org, "entries": latest[:ORGANISATION_LATEST], "total": len(entries),
        "publishes_register": register.publishes_register(session, org.id),
        "kind": label(org.kind),
        "themes": sorted(themes.items(), key=lambda i: (-i[1], i[0])),
    })


# ---------------------------------------------------------------- sitemap, robots


@router.get("/sitemap.xml")
def sitemap(request: Request, session: SessionDep) -> Response:
    base = _base_url(request)
    ET.register_namespace("", SITEMAP)
    root = ET.Element(f"{{{SITEMAP}}}urlset")

    def add(path: str, modified: datetime | None = None) -> None:
        url = ET.SubElement(root, f"{{{SITEMAP}}}url")
        ET.SubElement(url, f"{{{SITEMAP}}}loc").text = base + path
        if modified is not None:
            ET.SubElement(url, f"{{{SITEMAP}}}lastmod").text = modified.date().isoformat()

    add("/")
    add("/datasets")
    add("/organisations")
    entries = catalog.entries(session, ANONYMOUS, settings=services(request).settings)
    for e in sorted(entries, key=lambda e: e.slug):
        add(f"/datasets/{e.slug}", e.modified)
    for oc in catalog.organisations(session, ANONYMOUS):
        if oc.count:
            add(f"/organisations/{oc.organisation.slug}")
    body = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return Response(body, media_type="application/xml")


@router.get("/favicon.ico")
def favicon() -> Response:
    """Browsers ask for it whatever the page says: the icon every page links to."""
    return RedirectResponse("/static/img/favicon.svg", status_code=301)


@router.get("/robots.txt")
def robots(request: Request) -> Response:
    base = _base_url(request)
    text = "\n".join([
        "User-agent: *",
        "Disallow: /admin",
        "Disallow: /connexion",
        "Disallow: /api/",
        "Disallow: /embed/",
        "Disallow: /datasets/*/telecharger",
        "Allow: /",
        f"Sitemap: {base}/sitemap.xml",
        "",
    ])
    return PlainTextResponse(text)


# -------------------------------------------------------------------------- embeds


def _embed(request: Request, template: str, context: dict[str, Any]) -> Any:
    # Framed by any site: web/security.py lets /embed/ pages be.
    return render(request, template, context)


@router.get("/embed/datasets/{slug}/chart")
def embed_chart(request: Request, slug: str, session: SessionDep) -> Response:
    # Embeds show what anyone may see, whoever is signed in on the embedding browser.
    dataset = catalog.get_public_dataset(session, ANONYMOUS, slug)
    readable = _readable(request, session, ANONYMOUS, dataset)
    params = _multi(request)
    req = data.parse_table(params)
    chart = data.chart_data(readable, data.parse_chart(params, readable.version), req.query())
    query = urlencode({**chart.request.params(),
                       **{k: v for k, v in req.params().items() if k != "page"}}, doseq=True)
    return _embed(request, "portal/embed_chart.html", {
        "dataset": dataset, "chart": chart, "chart_query": query, "display": data.display,
        "base_url": _base_url(request),
    })


@router.get("/embed/datasets/{slug}/map")
def embed_map(request: Request, slug: str, session: SessionDep) -> Response:
    dataset = catalog.get_public_dataset(session, ANONYMOUS, slug)
    readable = _readable(request, session, ANONYMOUS, dataset)
    if not readable.version.positions:
        raise NotFound(f"Le jeu de données « {slug} » n'a pas de positions à cartographier.")
    req = data.parse_table(_multi(request))
    points = data.map_points(readable, req.query())
    return _embed(request, "portal/embed_map.html", {
        "dataset": dataset, "points": points, "display": data.display,
        "geojson_url": _map_source(dataset, readable.version, req, points.total),
        "base_url": _base_url(request),
        "settings": services(request).settings,
        "site_url": _base_url(request),
    })
