"""Append-only audit log; each entry's hash covers the previous one, so edits show."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from patrimoine.access.models import AuditEvent
from patrimoine.access.principal import Principal
from patrimoine.core.clock import now

GENESIS = "0" * 64
_PG_LOCK_KEY = 7_316_420  # serialises chain appends across processes on PostgreSQL


def _digest(prev_hash: str, event: AuditEvent) -> str:
    body = json.dumps(
        {
            "prev": prev_hash,
            "at": event.at.isoformat(),
            "actor_id": event.actor_id,
            "actor": event.actor_label,
            "action": event.action,
            "target": event.target,
            "details": event.details,
        },
        sort_keys=True,
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def record(
    session: Session,
    principal: Principal,
    action: str,
    target: str,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    # The chain tip is read once per transaction: after the first append this transaction
    # holds the lock (PostgreSQL advisory lock, SQLite's write lock), so no one else appends.
    transaction = session.get_transaction()
    tip = session.info.get("audit_tip")
    if tip is not None and tip[0] is transaction and tip[1] in session:
        prev_hash = tip[1].hash
    else:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
        prev = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
        prev_hash = prev or GENESIS
    event = AuditEvent(
        at=now(),
        actor_id=principal.account_id,
        actor_label=principal.label,
        action=action,
        target=target,
        details=json.loads(json.dumps(details or {}, default=str)),
        prev_hash=prev_hash,
    )
    event.hash = _digest(prev_hash, event)
    session.add(event)  # flushed with the rest of the unit of work
    session.info["audit_tip"] = (transaction, event)
    return event


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken_at: int | None
    reason: str | None

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify(session: Session) -> ChainReport:
    prev_hash, count = GENESIS, 0
    for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id)).yield_per(1000):
        count += 1
        if event.prev_hash != prev_hash:
            return ChainReport(count, event.id, "entrée précédente supprimée ou modifiée")
        if _digest(prev_hash, event) != event.hash:
            return ChainReport(count, event.id, "contenu de l'entrée modifié")
        prev_hash = event.hash
    return ChainReport(count, None, None)
