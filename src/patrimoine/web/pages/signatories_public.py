"""The public list of the charter's signatories on the portal: for each organisation, the
companies, associations and public bodies that signed its charter, their commitments and the
actions they report each year (what the JSON list of the API also gives)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from patrimoine.sovereignty import partners
from patrimoine.web.deps import SessionDep
from patrimoine.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/charte/signataires")
def signatories(request: Request, session: SessionDep) -> Response:
    listed = [(o, partners.public_signatories(session, o.id))
              for o in partners.signatory_organisations(session)]
    return render(request, "portal/signatories.html", {
        "section": "signatories", "listed": listed,
        "total": sum(len(found) for _, found in listed)})
