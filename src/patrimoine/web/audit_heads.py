"""The audit chain's published heads on the web: the public page /journal/empreintes (and its
JSON), and the daily publication every server process runs.

Each process publishes at start-up and then just after each midnight (Paris time); the
database keeps the first head of a day and ignores the others (access/audit.publish_head),
so any number of processes or servers, plus a `patrimoine audit publish-head` timer, agree.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from patrimoine.access import audit
from patrimoine.bootstrap import Services
from patrimoine.core.clock import now
from patrimoine.web.deps import SessionDep
from patrimoine.web.templating import render

log = logging.getLogger("patrimoine")
router = APIRouter(include_in_schema=False)
AFTER_MIDNIGHT = timedelta(minutes=1)
CACHE = {"Cache-Control": "public, max-age=300"}


def _publish(services: Services) -> None:
    with services.db.unit_of_work() as session:
        audit.publish_head(session)


def until_next_publication(at: datetime) -> float:
    """Seconds from `at` to just after the next midnight in the publication's time zone."""
    local = at.astimezone(audit.PUBLICATION_ZONE)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(),
                                tzinfo=audit.PUBLICATION_ZONE)
    return max((midnight + AFTER_MIDNIGHT - local).total_seconds(), 60.0)


async def publish_now(services: Services) -> None:
    """Publish today's head unless it is; a failure is logged and tried next time."""
    try:
        await run_in_threadpool(_publish, services)
    except Exception:
        log.exception("the audit chain's head could not be published")


async def publish_daily(services: Services) -> None:
    """Publish just after each midnight (the start-up publication is awaited by the
    application's lifespan, before the first request: see web/app.py)."""
    while True:
        await asyncio.sleep(until_next_publication(now()))
        await publish_now(services)


def _heads_json(request: Request, heads: list[audit.Head]) -> dict[str, Any]:
    return {
        "description": "Empreintes publiées du journal d'audit : pour chaque jour, le numéro, "
                       "l'empreinte SHA-256 et le rang de la dernière entrée du journal.",
        "page": str(request.url_for("audit_heads_page")),
        "heads": [h.as_dict() for h in heads],
    }


@router.get("/journal/empreintes", name="audit_heads_page")
def heads_page(request: Request, session: SessionDep) -> Response:
    return render(request, "portal/audit_heads.html",
                  {"heads": audit.published_heads(session), "section": "journal"})


@router.get("/journal/empreintes.json")
def heads_json(request: Request, session: SessionDep) -> Response:
    return JSONResponse(_heads_json(request, audit.published_heads(session)), headers=CACHE)
