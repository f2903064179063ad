"""JSON API of the audit log: entries (filtered, paginated) and the chain check."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from patrimoine.access import audit
from patrimoine.access.permissions import audit_organisations, can_read_audit, require
from patrimoine.core.db import DbBigInt
from patrimoine.web.api.responses import ERRORS
from patrimoine.web.deps import LoggedInDep, SessionDep, services

router = APIRouter(prefix="/api/v1", tags=["journal d'audit"], responses=ERRORS)


class EventOut(BaseModel):
    id: int
    at: datetime
    actor_id: int | None
    actor: str
    action: str
    target: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


class EventsOut(BaseModel):
    total: int
    limit: int
    offset: int
    events: list[EventOut]


class VerifyOut(BaseModel):
    ok: bool
    checked: int = Field(description="Entrées vérifiées (celles que le lecteur peut lire).")
    broken_at: int | None = Field(description="Première entrée en défaut.")
    reason: str | None
    anchor: dict[str, Any] | None = Field(description="Sommet ancré (data_dir/audit-anchor).")


@router.get("/audit", response_model=EventsOut, summary="Entrées du journal d'audit",
            description="Des plus récentes aux plus anciennes. Les administrateurs et DPO "
                        "d'une organisation lisent les entrées qui la concernent ; "
                        "l'administrateur de l'instance, toutes. Cible et action : valeur "
                        "exacte, ou préfixe terminé par « : », « . » ou « * ».")
def list_events(
    session: SessionDep, principal: LoggedInDep,
    target: Annotated[str | None, Query(description="Cible (ex. dataset:badges).")] = None,
    action: Annotated[str | None, Query(description="Action (ex. grant.create, datastore.).")
                      ] = None,
    actor: Annotated[str | None, Query(description="Partie du nom ou de l'adresse de "
                                       "l'auteur.")] = None,
    since: Annotated[datetime | None, Query(description="À partir de cet instant.")] = None,
    until: Annotated[datetime | None, Query(description="Avant cet instant.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[DbBigInt, Query(ge=0)] = 0,
) -> EventsOut:
    require(can_read_audit(principal), principal, "consulter le journal d'audit")
    events, total = audit.list_events(
        session, audit.EventFilters(target=target, action=action, actor=actor, since=since,
                                    until=until), limit=limit, offset=offset,
        organisations=audit_organisations(principal))
    return EventsOut(total=total, limit=limit, offset=offset, events=[
        EventOut(id=e.id, at=e.at, actor_id=e.actor_id, actor=e.actor_label, action=e.action,
                 target=e.target, details=e.details, prev_hash=e.prev_hash, hash=e.hash)
        for e in events])


@router.get("/audit/verify", response_model=VerifyOut, summary="Vérifier le journal d'audit",
            description="Vérifie le chaînage des empreintes et l'ancre (fin du journal) ; "
                        "quand tout est intact, l'ancre avance au dernier enregistrement.")
def verify(request: Request, session: SessionDep, principal: LoggedInDep) -> VerifyOut:
    require(can_read_audit(principal), principal, "vérifier le journal d'audit")
    data_dir = services(request).settings.data_dir
    scope = audit_organisations(principal)
    report = audit.scoped(session, audit.verify_with_anchor(session, data_dir), scope)
    # The anchor describes the whole chain (its last entry, its length): instance only.
    anchor = audit.read_anchor(data_dir) if scope is None else None
    return VerifyOut(ok=report.ok, checked=report.checked, broken_at=report.broken_at,
                     reason=report.reason, anchor=anchor.__dict__ if anchor else None)
