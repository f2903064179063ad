"""Read-only records of protection for the tiers above (the charter): which versions the
publication gate keeps closed, and why; the register's entries, rights requests and breaches
(`activity_facts`, `request_facts`, `breach_facts`)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, true
from sqlalchemy.orm import Session

from patrimoine.protection import gate
from patrimoine.protection.findings import service as findings
from patrimoine.protection.register.models import Breach, Dpia, ProcessingActivity, RightsRequest


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


# ---------------------------------------------------------------------------------------------
# The register, read whole for the charter's rules: one query per table, columns only
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActivityFacts:
    """A register entry, read-only, with the decision of its latest impact assessment."""

    id: int
    organisation_id: int
    reference: str
    name: str
    status: str  # ActivityStatus value
    special_categories: tuple[str, ...]
    dpia_criteria: tuple[str, ...]
    dpia_exemption: str | None
    estimated_data_subjects: int | None
    retention_rules: tuple[Mapping[str, Any], ...]
    processors: tuple[Mapping[str, Any], ...]
    latest_dpia: str | None = None  # DpiaDecision value of the newest DPIA, None without one


@dataclass(frozen=True)
class RequestFacts:
    id: int
    organisation_id: int
    reference: str
    kind: str
    received_on: date
    extension_informed_on: date | None
    status: str  # RequestStatus value
    answered_on: date | None


@dataclass(frozen=True)
class BreachFacts:
    id: int
    organisation_id: int
    reference: str
    title: str
    aware_at: datetime
    risk: str  # BreachRisk value
    notified_at: datetime | None
    late_notification_reasons: str | None


def _in_organisations(column: Any, organisation_ids: Collection[int] | None) -> Any:
    return true() if organisation_ids is None else column.in_(list(organisation_ids))


def activity_facts(session: Session, organisation_ids: Collection[int] | None = None
                   ) -> list[ActivityFacts]:
    """The register entries (of `organisation_ids` when given), by id, in two queries."""
    a = ProcessingActivity
    latest: dict[int, str] = {}
    for activity_id, decision in session.execute(
            select(Dpia.activity_id, Dpia.decision).join(a, a.id == Dpia.activity_id)
            .where(_in_organisations(a.organisation_id, organisation_ids)).order_by(Dpia.id)):
        latest[activity_id] = str(decision)
    return [ActivityFacts(
        id=r.id, organisation_id=r.organisation_id, reference=r.reference, name=r.name,
        status=str(r.status), special_categories=tuple(r.special_categories or ()),
        dpia_criteria=tuple(r.dpia_criteria or ()), dpia_exemption=r.dpia_exemption,
        estimated_data_subjects=r.estimated_data_subjects,
        retention_rules=tuple(r.retention_rules or ()), processors=tuple(r.processors or ()),
        latest_dpia=latest.get(r.id)) for r in session.execute(
        select(a.id, a.organisation_id, a.reference, a.name, a.status, a.special_categories,
               a.dpia_criteria, a.dpia_exemption, a.estimated_data_subjects, a.retention_rules,
               a.processors)
        .where(_in_organisations(a.organisation_id, organisation_ids)).order_by(a.id))]


def request_facts(session: Session, organisation_ids: Collection[int] | None = None
                  ) -> list[RequestFacts]:
    r = RightsRequest
    return [RequestFacts(row.id, row.organisation_id, row.reference, str(row.kind),
                         row.received_on, row.extension_informed_on, str(row.status),
                         row.answered_on) for row in session.execute(
        select(r.id, r.organisation_id, r.reference, r.kind, r.received_on,
               r.extension_informed_on, r.status, r.answered_on)
        .where(_in_organisations(r.organisation_id, organisation_ids)).order_by(r.id))]


def breach_facts(session: Session, organisation_ids: Collection[int] | None = None
                 ) -> list[BreachFacts]:
    b = Breach
    return [BreachFacts(row.id, row.organisation_id, row.reference, row.title, row.aware_at,
                        str(row.risk), row.notified_at, row.late_notification_reasons)
            for row in session.execute(
        select(b.id, b.organisation_id, b.reference, b.title, b.aware_at, b.risk,
               b.notified_at, b.late_notification_reasons)
        .where(_in_organisations(b.organisation_id, organisation_ids)).order_by(b.id))]
