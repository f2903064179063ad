"""Append-only audit log; each entry's hash covers the previous one, so edits show.

Each entry names the organisation it is about (`organisation_id`: the caller's, or derived
from the target: a dataset, an organisation, a department); readers who are not instance
administrators see only their organisations' entries (`permissions.audit_organisations`).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select, text
from sqlalchemy.orm import Session

from patrimoine.access.models import AuditEvent
from patrimoine.access.principal import Principal
from patrimoine.core.clock import now
from patrimoine.core.errors import Invalid
from patrimoine.inventory.models import Dataset, Department

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


def lock_chain(session: Session) -> None:
    """Hold the chain's lock until the transaction ends, before its tip is read: on
    PostgreSQL an advisory lock; on SQLite the database's write lock, which a transaction
    otherwise takes only at its first write (after the tip was read: two processes would
    then both append after the same entry). A writer that will append and also locks rows
    of its own (a register's counter) takes this first, so every writer locks in the same
    order and none deadlocks."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
    else:
        session.execute(text("DELETE FROM audit_event WHERE 0"))  # a write of nothing


def _organisation_of(session: Session, target: str) -> int | None:
    kind, _, key = target.partition(":")
    if kind == "dataset":
        return session.scalar(select(Dataset.organisation_id)
                              .where(or_(Dataset.uid == key, Dataset.slug == key)).limit(1))
    if kind in ("organisation", "department") and key.isdigit():
        return int(key) if kind == "organisation" else session.scalar(
            select(Department.organisation_id).where(Department.id == int(key)))
    return None


def record(
    session: Session,
    principal: Principal,
    action: str,
    target: str,
    details: dict[str, Any] | None = None,
    *,
    organisation_id: int | None = None,
) -> AuditEvent:
    # The chain tip is read once per transaction: after the first append this transaction
    # holds the lock (PostgreSQL advisory lock, SQLite's write lock), so no one else appends.
    transaction = session.get_transaction()
    tip = session.info.get("audit_tip")
    if tip is not None and tip[0] is transaction and tip[1] in session:
        prev_hash = tip[1].hash
    else:
        lock_chain(session)
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
        organisation_id=(organisation_id if organisation_id is not None
                         else _organisation_of(session, target)),
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
    # The chain breaks at an entry the reader does not see (scoped()).
    broken_elsewhere: bool = False

    @property
    def ok(self) -> bool:
        return self.broken_at is None and not self.broken_elsewhere


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


def scoped(session: Session, report: ChainReport, organisations: Collection[int] | None
           ) -> ChainReport:
    """What a reader of `organisations`' entries (None: every entry) is told of a check of the
    whole chain: whether it holds, how many of their entries it covers, and where it breaks
    only when that entry is theirs."""
    if organisations is None:
        return report
    checked = int(session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(*_in_scope(organisations))) or 0)
    if report.ok:
        return ChainReport(checked, None, None)
    broken = session.get(AuditEvent, report.broken_at) if report.broken_at else None
    if broken is not None and broken.organisation_id in organisations:
        return ChainReport(checked, report.broken_at, report.reason)
    return ChainReport(checked, None, "la chaîne est rompue à une entrée qui ne concerne pas "
                       "vos organisations : prévenez l'administrateur de l'instance",
                       broken_elsewhere=True)


# ------------------------------------------------------------------------- anchor
#
# A pure chain cannot show that its last entries were removed: what remains is a valid,
# shorter chain. The anchor is a small file outside the database (data_dir/audit-anchor)
# holding the id, hash and rank of the tip at a past verification. An anchored entry that
# disappears, or whose hash changes (even if every later hash was recomputed), is then
# detected. Entries written after the last anchor and removed before the next one are not:
# anchor often (every `patrimoine audit verify` does), and keep a copy of the file where
# whoever controls the database cannot write.

ANCHOR_FILE = "audit-anchor"


@dataclass(frozen=True)
class Anchor:
    last_id: int
    last_hash: str
    count: int
    anchored_at: str


def anchor_path(data_dir: Path) -> Path:
    return Path(data_dir) / ANCHOR_FILE


def read_anchor(data_dir: Path) -> Anchor | None:
    path = anchor_path(data_dir)
    if not path.exists():
        return None
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return Anchor(int(raw["last_id"]), str(raw["last_hash"]), int(raw["count"]),
                      str(raw["anchored_at"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise Invalid(f"Le fichier d'ancrage du journal ({path}) est illisible : il a été "
                      "modifié ou abîmé.") from exc


def write_anchor(data_dir: Path, session: Session) -> Anchor | None:
    """Anchor the current tip (only ever forward: an older tip never replaces a newer one)."""
    tip = session.execute(select(AuditEvent.id, AuditEvent.hash)
                          .order_by(AuditEvent.id.desc()).limit(1)).first()
    if tip is None:
        return None
    count = int(session.scalar(select(func.count()).select_from(AuditEvent)) or 0)
    path = anchor_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(f".{path.name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        current = read_anchor(data_dir)
        if current is not None and current.last_id >= tip[0]:
            return current
        anchor = Anchor(int(tip[0]), str(tip[1]), count, now().isoformat())
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(anchor.__dict__, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    return anchor


def verify_with_anchor(session: Session, data_dir: Path, *, update: bool = True) -> ChainReport:
    """verify(), then check the anchored tip is still there, unchanged, at its rank; when
    everything holds and `update`, move the anchor to the current tip."""
    report = verify(session)
    if not report.ok:
        return report
    anchor = read_anchor(data_dir)
    if anchor is not None:
        anchored = session.get(AuditEvent, anchor.last_id)
        if anchored is None:
            return ChainReport(report.checked, anchor.last_id,
                               f"fin du journal tronquée : l'entrée n° {anchor.last_id}, ancrée "
                               f"le {anchor.anchored_at[:19].replace('T', ' à ')} UTC, a "
                               "disparu")
        if anchored.hash != anchor.last_hash:
            return ChainReport(report.checked, anchor.last_id,
                               f"l'entrée ancrée n° {anchor.last_id} a été modifiée (et la "
                               "chaîne recalculée après elle)")
        rank = int(session.scalar(select(func.count()).select_from(AuditEvent)
                                  .where(AuditEvent.id <= anchor.last_id)) or 0)
        if rank != anchor.count:
            return ChainReport(report.checked, anchor.last_id,
                               f"{anchor.count - rank} entrée(s) supprimée(s) avant l'entrée "
                               f"ancrée n° {anchor.last_id}")
    if update:
        write_anchor(data_dir, session)
    return report


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class EventFilters:
    target: str | None = None  # exact, or a prefix ending with ':' or '*'
    action: str | None = None  # exact, or a prefix ending with '.' or '*'
    actor: str | None = None  # part of the actor's label
    since: datetime | None = None
    until: datetime | None = None


def _prefix(column: Any, value: str, separators: str) -> Any:
    if value.endswith("*"):
        return column.startswith(value[:-1], autoescape=True)
    if value[-1] in separators:
        return column.startswith(value, autoescape=True)
    return column == value


def _in_scope(organisations: Collection[int] | None) -> list[Any]:
    return [] if organisations is None else [AuditEvent.organisation_id.in_(list(organisations))]


def list_events(session: Session, filters: EventFilters, *, limit: int = 50,
                offset: int = 0, organisations: Collection[int] | None = None
                ) -> tuple[list[AuditEvent], int]:
    """Entries matching the filters, newest first, and how many match in all; with
    `organisations`, only the entries about them (None: every entry)."""
    if not 1 <= limit <= 1000:
        raise Invalid("La taille de page doit être comprise entre 1 et 1000.")
    if offset < 0:
        raise Invalid("Le décalage (offset) ne peut pas être négatif.")
    conditions = _in_scope(organisations)
    if filters.target:
        conditions.append(_prefix(AuditEvent.target, filters.target.strip(), ":"))
    if filters.action:
        conditions.append(_prefix(AuditEvent.action, filters.action.strip(), "."))
    if filters.actor:
        conditions.append(func.lower(AuditEvent.actor_label).contains(
            filters.actor.strip().lower(), autoescape=True))
    if filters.since:
        conditions.append(AuditEvent.at >= filters.since)
    if filters.until:
        conditions.append(AuditEvent.at < filters.until)
    total = int(session.scalar(select(func.count()).select_from(AuditEvent)
                               .where(*conditions)) or 0)
    rows = list(session.scalars(select(AuditEvent).where(*conditions)
                                .order_by(AuditEvent.id.desc()).limit(limit).offset(offset)))
    return rows, total


def last_at(session: Session, actions: Collection[str], targets: Collection[str]
            ) -> dict[str, datetime]:
    """When each target last saw one of `actions` (targets that never did are left out)."""
    if not actions or not targets:
        return {}
    return {target: at for target, at in session.execute(
        select(AuditEvent.target, func.max(AuditEvent.at))
        .where(AuditEvent.action.in_(list(actions)), AuditEvent.target.in_(list(targets)))
        .group_by(AuditEvent.target))}
