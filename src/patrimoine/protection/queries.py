"""Read-only records of protection for the tiers above (the charter): which versions the
publication gate keeps closed, and why."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy.orm import Session

from patrimoine.protection import gate
from patrimoine.protection.findings import service as findings


@dataclass(frozen=True)
class Closed:
    """A version the gate keeps from open data."""

    why: str  # "unscanned", "findings" or "anonymised" (source of an anonymised version)
    blockers: tuple[str, ...] = ()  # for "findings": the unresolved ones (French), in order


def closed_versions(session: Session, version_ids: Collection[int]) -> dict[int, Closed]:
    """The versions among `version_ids` that the gate keeps closed (version id -> why, with
    the blocking findings), in one query per 500 versions plus two when some hold findings.
    Never scans: reading the data is protection's work, not a reader's."""
    why = gate.closed_versions(session, version_ids)
    held = findings.unresolved_of(session, [v for v, w in why.items() if w == "findings"])
    return {v: Closed(w, tuple(gate.blocker(f) for f in held.get(v, ())))
            for v, w in why.items()}
