"""The public register of algorithms on the portal: the list of published algorithms, a page
per algorithm with its documents and the *mention explicite* for decision letters, and the
register as CSV and JSON (fields documented in docs/transparency.md); the public summary of
the requests for data of general interest."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from patrimoine.core.db import DbInt
from patrimoine.core.vocabulary import label
from patrimoine.transparency import exports, general_interest
from patrimoine.transparency.models import DocumentKind
from patrimoine.transparency.service import (
    algorithm_organisation_name,
    public_datasets,
    published_algorithm,
    published_algorithms,
)
from patrimoine.web.deps import SessionDep
from patrimoine.web.pages.portal import _base_url
from patrimoine.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/algorithmes")
def algorithms(request: Request, session: SessionDep) -> Response:
    found = published_algorithms(session)
    return render(request, "portal/algorithms.html", {
        "section": "algorithms", "algorithms": found,
        "organisations": {a.id: algorithm_organisation_name(a) for a in found},
        "label": label})


@router.get("/algorithmes/{algorithm_id:int}")
def algorithm(algorithm_id: DbInt, request: Request, session: SessionDep) -> Response:
    entry = published_algorithm(session, algorithm_id)
    documents = [(label(k), entry.documents[k.value]) for k in DocumentKind
                 if k.value in (entry.documents or {})]
    return render(request, "portal/algorithm.html", {
        "section": "algorithms", "a": entry, "label": label, "documents": documents,
        "datasets": public_datasets(entry),
        "organisation": algorithm_organisation_name(entry),
        "mention": exports.mention_explicite(entry, _base_url(request))})


@router.get("/algorithmes.csv")
def algorithms_csv(request: Request, session: SessionDep) -> Response:
    text = exports.csv_text(published_algorithms(session), _base_url(request))
    return Response(text, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="algorithmes-publics.csv"'})


@router.get("/algorithmes.json")
def algorithms_json(request: Request, session: SessionDep) -> Response:
    text = exports.json_text(published_algorithms(session), _base_url(request))
    return Response(text, media_type="application/json")


@router.get("/donnees-interet-general")
def general_interest_summary(request: Request, session: SessionDep) -> Response:
    return render(request, "portal/general_interest.html", {
        "section": "algorithms", "requests": general_interest.public_summary(session)})
