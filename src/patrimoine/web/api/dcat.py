"""DCAT-AP documents of the public catalog, and the stable URIs they use.

- `/catalog.ttl`, `/catalog.rdf`, `/catalog.jsonld` (`?page=`, `?page_size=`; Hydra paging),
  `/catalog` by content negotiation (Turtle by default);
- `/datasets/{slug}.ttl|.rdf|.jsonld` and `/datasets/uid/{uid}.ttl|.rdf|.jsonld`;
- the URIs themselves answer: `/datasets/uid/{uid}` sends browsers to the dataset page and
  RDF clients to its document, `/datasets/uid/{uid}/export.{format}` to the download,
  `/organisations/id/{id}` to the organisation page;
- `/datasets/uid/{uid}/schema.json`: the Table Schema a dataset declares, the target of its
  `dct:conformsTo` when the schema is not one published elsewhere.

An RDF document's errors (a bad page number, an unknown dataset) are answered in the document's
own format, as a `hydra:Error` with its status code and French message, so that RDF clients
read them like any other answer.
"""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from rdflib import BNode, Literal
from rdflib.namespace import RDF, XSD
from sqlalchemy.orm import Session

from patrimoine.core.db import DbInt
from patrimoine.core.errors import NotFound, PatrimoineError
from patrimoine.interop import dcat, public
from patrimoine.inventory.models import Organisation
from patrimoine.reading import language
from patrimoine.standards import validation
from patrimoine.web.api.responses import ERRORS_OR_PAGE, NOT_MODIFIED, Responses, files
from patrimoine.web.deps import SessionDep, services

router = APIRouter(tags=["DCAT"], responses=ERRORS_OR_PAGE)
HEADERS = {"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=300",
           "Vary": "Accept"}


def _documents(*exts: str) -> Responses:
    types = [dcat.RDF_FORMATS[e].media_type for e in exts]
    rdf_error = {m: {"schema": {} if m.endswith("+json") else {"type": "string"}}
                 for m in types}
    return {**files(*types, description="Le document DCAT-AP."), **NOT_MODIFIED,
            404: {"description": "Jeu de données introuvable (ou non exporté) : une "
                                 "hydra:Error dans le format du document.",
                  "content": rdf_error},
            422: {"description": "Paramètre de pagination invalide : une hydra:Error dans "
                                 "le format du document.", "content": rdf_error}}


TURTLE, RDFXML, JSONLD = _documents("ttl"), _documents("rdf"), _documents("jsonld")
SEE_OTHER: dict[str, Any] = {"status_code": 303, "response_class": RedirectResponse}


def _public_url(request: Request) -> str:
    return services(request).settings.public_url


def _rdf(request: Request, graph_bytes: tuple[bytes, str]) -> Response:
    """The document, with an ETag: harvesters asking again get 304 when nothing changed."""
    body, media_type = graph_bytes
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {**HEADERS, "ETag": etag}
    asked = [t.strip().removeprefix("W/") for t in
             request.headers.get("if-none-match", "").split(",")]
    if etag in asked or "*" in asked:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


def _rdf_error(exc: PatrimoineError, ext: str) -> Response:
    """The error as a small RDF document in the format asked for (a `hydra:Error`)."""
    g = dcat.new_graph()
    node = BNode("error")
    g.add((node, RDF.type, dcat.HYDRA.Error))
    g.add((node, dcat.HYDRA.statusCode, Literal(exc.status, datatype=XSD.integer)))
    g.add((node, dcat.HYDRA.title, Literal(exc.message, lang="fr")))
    for detail in exc.errors:
        g.add((node, dcat.HYDRA.description, Literal(detail, lang="fr")))
    body, media_type = dcat.serialize(g, ext)
    return Response(body, status_code=exc.status, media_type=media_type,
                    headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "no-store"})


def _catalog(request: Request, session: Session, ext: str) -> Response:
    try:
        number, size = dcat.parse_paging(request.query_params.get("page"),
                                         request.query_params.get("page_size"))
        page = dcat.catalog_page(session, _public_url(request), ext, number, size,
                                 services(request).settings)
    except PatrimoineError as exc:
        return _rdf_error(exc, ext)
    return _rdf(request, dcat.serialize(page.graph, ext))


@router.get("/catalog.ttl", response_class=Response, responses=TURTLE)
def catalog_turtle(request: Request, session: SessionDep) -> Response:
    return _catalog(request, session, "ttl")


@router.get("/catalog.rdf", response_class=Response, responses=RDFXML)
def catalog_rdfxml(request: Request, session: SessionDep) -> Response:
    return _catalog(request, session, "rdf")


@router.get("/catalog.jsonld", response_class=Response, responses=JSONLD)
def catalog_jsonld(request: Request, session: SessionDep) -> Response:
    return _catalog(request, session, "jsonld")


@router.get("/catalog", response_class=Response,
            responses=_documents("ttl", "rdf", "jsonld"))
def catalog_negotiated(request: Request, session: SessionDep) -> Response:
    ext = dcat.negotiate(request.headers.get("accept", "")) or "ttl"
    return _catalog(request, session, ext)


def _document(request: Request, session: Session, ident: str, ext: str) -> Response:
    try:
        entry = public.find(session, ident, services(request).settings)
    except PatrimoineError as exc:
        return _rdf_error(exc, ext)
    graph = dcat.dataset_document(_public_url(request), entry)
    return _rdf(request, dcat.serialize(graph, ext))


@router.get("/datasets/uid/{uid}.ttl", response_class=Response, responses=TURTLE)
def uid_turtle(request: Request, uid: str, session: SessionDep) -> Response:
    return _document(request, session, uid, "ttl")


@router.get("/datasets/uid/{uid}.rdf", response_class=Response, responses=RDFXML)
def uid_rdfxml(request: Request, uid: str, session: SessionDep) -> Response:
    return _document(request, session, uid, "rdf")


@router.get("/datasets/uid/{uid}.jsonld", response_class=Response, responses=JSONLD)
def uid_jsonld(request: Request, uid: str, session: SessionDep) -> Response:
    return _document(request, session, uid, "jsonld")


@router.get("/datasets/uid/{uid}/export.{fmt}", **SEE_OTHER)
def uid_download(request: Request, uid: str, fmt: str, session: SessionDep) -> Response:
    """The stable download URL of a distribution: always the latest public version."""
    entry = public.find(session, uid, services(request).settings, described=False)
    if fmt not in language.FORMATS or fmt not in entry.formats:
        raise NotFound(f"Le jeu de données n'est pas téléchargeable au format « {fmt} ».")
    return RedirectResponse(f"/datasets/{entry.dataset.slug}/telecharger?format={fmt}",
                            status_code=303, headers={"Cache-Control": "no-store"})


@router.get("/datasets/uid/{uid}/schema.json", response_class=JSONResponse,
            responses=files("application/json", description="Le Table Schema déclaré."))
def uid_schema(uid: str, session: SessionDep) -> Response:
    """The Table Schema an exported dataset declares, as declared."""
    entry = public.find(session, uid)
    declared = validation.declared_schema(session, entry.dataset, entry.version)
    if declared is None:
        raise NotFound("Ce jeu de données ne déclare aucun schéma.")
    return JSONResponse(declared.descriptor, headers=HEADERS)


@router.get("/datasets/uid/{uid}", **SEE_OTHER)
def uid_resource(request: Request, uid: str, session: SessionDep) -> Response:
    """The dataset's URI: its RDF document for RDF clients, its page for browsers."""
    entry = public.find(session, uid)
    ext = dcat.negotiate(request.headers.get("accept", ""))
    target = (f"/datasets/uid/{entry.dataset.uid}.{ext}" if ext
              else f"/datasets/{entry.dataset.slug}")
    return RedirectResponse(target, status_code=303, headers={"Vary": "Accept"})


@router.get("/datasets/{slug}.ttl", response_class=Response, responses=TURTLE)
def slug_turtle(request: Request, slug: str, session: SessionDep) -> Response:
    return _document(request, session, slug, "ttl")


@router.get("/datasets/{slug}.rdf", response_class=Response, responses=RDFXML)
def slug_rdfxml(request: Request, slug: str, session: SessionDep) -> Response:
    return _document(request, session, slug, "rdf")


@router.get("/datasets/{slug}.jsonld", response_class=Response, responses=JSONLD)
def slug_jsonld(request: Request, slug: str, session: SessionDep) -> Response:
    return _document(request, session, slug, "jsonld")


@router.get("/organisations/id/{org_id:int}", **SEE_OTHER)
def organisation_resource(org_id: DbInt, session: SessionDep) -> Response:
    org = session.get(Organisation, org_id)
    if org is None:
        raise NotFound("Organisation introuvable.")
    return RedirectResponse(f"/organisations/{org.slug}", status_code=303)
