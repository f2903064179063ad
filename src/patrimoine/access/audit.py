"""Append-only audit log; each entry's hash covers the previous one, so edits show.

Each entry names the organisation it is about (`organisation_id`: the caller's, or derived
from the target: a dataset, an organisation, a department); readers who are not instance
administrators see only their organisations' entries (`permissions.audit_organisations`).

An entry's hash covers every column but its own id (its place, which the chain of
`prev_hash` already fixes) and the hash itself. Entries written before the hash covered
`note` (hash format 1) keep verifying under their formula, with the rule that their note is
empty (no version writing format 1 ever filled it): re-hashing them would legitimise
whatever the chain holds at the upgrade.

A chain can be rewritten whole by someone with database access. Its head is therefore
published every day (`audit_head`, shown on the portal at /journal/empreintes and as JSON):
once anyone outside has copied a day's head, the chain up to it can no longer change
without `verify` against that copy reporting it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from patrimoine.access.models import AuditEvent, AuditHead
from patrimoine.access.permissions import organisation_of_target
from patrimoine.access.principal import Principal
from patrimoine.core.clock import PARIS, now
from patrimoine.core.errors import Invalid

GENESIS = "0" * 64
HASH_FORMAT = 2  # the formula new entries are hashed with (see _digest)
_PG_LOCK_KEY = 7_316_420  # serialises chain appends across processes on PostgreSQL
# The day a head is published for is the authority's civil day.
PUBLICATION_ZONE = PARIS


def _digest(prev_hash: str, event: AuditEvent) -> str:
    """Format 1 (legacy) leaves `note` and `organisation_id` out (the latter was filled in
    for old entries by a migration); format 2 covers them and the format itself."""
    fields: dict[str, Any] = {
        "prev": prev_hash,
        "at": event.at.isoformat(),
        "actor_id": event.actor_id,
        "actor": event.actor_label,
        "action": event.action,
        "target": event.target,
        "details": event.details,
    }
    if event.hash_format != 1:
        fields.update(format=event.hash_format, note=event.note,
                      organisation=event.organisation_id)
    body = json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str)
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
                         else organisation_of_target(session, target)),
        hash_format=HASH_FORMAT,
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


def verify(session: Session, heads: Collection[Head] = ()) -> ChainReport:
    """Walk the chain from its start: every link, every entry's hash under its format, and
    each of `heads` (published earlier) still present, unchanged, at its rank."""
    expected = {h.last_id: h for h in heads}
    prev_hash, count, fmt = GENESIS, 0, 1
    for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id)).yield_per(1000):
        count += 1
        if event.prev_hash != prev_hash:
            return ChainReport(count, event.id, "entrée précédente supprimée ou modifiée")
        if not fmt <= event.hash_format <= HASH_FORMAT:
            return ChainReport(count, event.id, "format d'empreinte de l'entrée modifié")
        if event.hash_format == 1 and event.note is not None:
            return ChainReport(count, event.id, "note ajoutée à une entrée ancienne")
        if _digest(prev_hash, event) != event.hash:
            return ChainReport(count, event.id, "contenu de l'entrée modifié")
        head = expected.pop(event.id, None)
        if head is not None and (head.hash != event.hash or head.count != count):
            return ChainReport(count, event.id, f"le journal ne correspond plus à l'empreinte "
                                                f"publiée le {head.day:%d/%m/%Y} : il a été "
                                                "réécrit")
        prev_hash, fmt = event.hash, event.hash_format
    if expected:
        head = min(expected.values(), key=lambda h: h.last_id)
        return ChainReport(count, head.last_id, f"l'entrée n° {head.last_id}, dont l'empreinte "
                                                f"a été publiée le {head.day:%d/%m/%Y}, a "
                                                "disparu")
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


# -------------------------------------------------------------------- published heads


@dataclass(frozen=True)
class Head:
    """The chain's last entry on a day: its id, hash and rank (entries up to it)."""

    day: date
    last_id: int
    hash: str
    count: int

    def as_dict(self) -> dict[str, Any]:
        return {"day": self.day.isoformat(), "last_id": self.last_id, "hash": self.hash,
                "count": self.count}


def publication_day(at: datetime | None = None) -> date:
    return (at or now()).astimezone(PUBLICATION_ZONE).date()


def publish_head(session: Session) -> Head | None:
    """Publish today's head unless it already is (None for an empty chain). Safe with any
    number of processes: the row's key is the day and the insert does nothing when the day
    is taken, so the first publication of a day stands and is never replaced."""
    day = publication_day()
    tip = session.execute(select(AuditEvent.id, AuditEvent.hash)
                          .order_by(AuditEvent.id.desc()).limit(1)).first()
    if tip is not None and session.get(AuditHead, day) is None:
        # The rank counts up to the tip read: entries appended meanwhile come after it.
        count = int(session.scalar(select(func.count()).select_from(AuditEvent)
                                   .where(AuditEvent.id <= tip[0])) or 0)
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        session.execute(dialect.insert(AuditHead).values(
            day=day, last_id=int(tip[0]), hash=str(tip[1]), count=count, published_at=now(),
        ).on_conflict_do_nothing(index_elements=["day"]))
    stored = session.get(AuditHead, day, populate_existing=True)
    return _head(stored) if stored is not None else None


def _head(row: AuditHead) -> Head:
    return Head(row.day, row.last_id, row.hash, row.count)


def published_heads(session: Session) -> list[Head]:
    """Every published head, newest first."""
    return [_head(r) for r in session.scalars(select(AuditHead).order_by(AuditHead.day.desc()))]


def heads_from_json(raw: Any) -> list[Head]:
    """Heads from a copy of the portal's /journal/empreintes.json (or its `heads` list)."""
    items = raw.get("heads") if isinstance(raw, dict) else raw
    try:
        if not isinstance(items, list):
            raise TypeError(items)
        return [Head(date.fromisoformat(str(h["day"])), int(h["last_id"]), str(h["hash"]),
                     int(h["count"])) for h in items]
    except (TypeError, KeyError, ValueError) as exc:
        raise Invalid("La copie des empreintes n'a pas la forme de /journal/empreintes.json "
                      "(une liste « heads » de day, last_id, hash, count).") from exc


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


def verify_with_anchor(session: Session, data_dir: Path, *, update: bool = True,
                       heads: Collection[Head] = ()) -> ChainReport:
    """verify() against the heads published here and `heads` (a copy kept elsewhere: a head
    it holds that the database no longer does, or holds differently, is reported), then
    check the anchored tip is still there, unchanged, at its rank; when everything holds and
    `update`, move the anchor to the current tip."""
    stored = published_heads(session)
    kept = {(h.day, h.last_id, h.hash, h.count) for h in stored}
    for head in heads:
        if (head.day, head.last_id, head.hash, head.count) not in kept:
            return ChainReport(0, head.last_id, f"l'empreinte publiée le {head.day:%d/%m/%Y} "
                                                "n'est plus celle que garde la base : les "
                                                "empreintes ont été réécrites")
    report = verify(session, [*stored, *heads])
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
