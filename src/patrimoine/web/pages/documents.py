"""The one route that hands out stored documents: to anyone while the entry holding the
document is public, else to its organisation's staff (a document someone may not read is
"not found"). PDF, images and text show in the browser, sandboxed; the rest downloads."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from patrimoine.documents import service as documents
from patrimoine.web.deps import PrincipalDep, SessionDep, services

router = APIRouter(include_in_schema=False)


@router.get("/documents/{uid}/{name}")
def document(uid: str, name: str, request: Request, session: SessionDep,
             principal: PrincipalDep) -> Response:
    found = documents.get(session, principal, uid)
    disposition = "inline" if found.media_type in documents.INLINE else "attachment"
    return FileResponse(
        documents.path_of(services(request).settings, found), media_type=found.media_type,
        headers={"Content-Disposition": f"{disposition}; filename*=UTF-8''"
                                        f"{quote(found.filename)}",
                 "Content-Security-Policy": "default-src 'none'; sandbox",
                 "X-Content-Type-Options": "nosniff",
                 "Cache-Control": "public, max-age=3600" if found.public else "private"})
