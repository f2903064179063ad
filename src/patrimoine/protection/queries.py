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
from patrimoine.protection.deadlines import (
    breach_deadline,
    extended_request_deadline,
    request_deadline,
)
from patrimoine.protection.dpia import dpia_required
from patrimoine.protection.findings import service as findings
from patrimoine.protection.register.models import Breach, Dpia, ProcessingActivity, RightsRequest
from patrimoine.protection.register.vocabulary import (
    CLOSED_REQUEST_STATUSES,
    ActivityStatus,
    BreachRisk,
    DpiaCriterion,
    DpiaDecision,
    RequestStatus,
)

MONITORING = frozenset({DpiaCriterion.SYSTEMATIC_MONITORING.value,
                        DpiaCriterion.LARGE_SCALE.value})


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
    """A register entry, read-only, with what its impact assessment and retention say."""

    id: int
    organisation_id: int
    reference: str
    name: str
    draft: bool
    ended: bool
    special_categories: tuple[str, ...]
    # Systematic monitoring or processing on a large scale (two of the CNIL's criteria).
    monitoring: bool
    # The CNIL's rule: two criteria or more, or one with special-category data.
    dpia_required: bool
    dpia_exemption: str | None
    retention_rules: tuple[Mapping[str, Any], ...]
    # The newest DPIA's verdict: "favourable" (with or without reservations), "pending",
    # "unfavourable"; None without a DPIA.
    dpia: str | None = None


@dataclass(frozen=True)
class RequestFacts:
    id: int
    organisation_id: int
    reference: str
    received_on: date
    deadline: date  # one month, three when the person was told of an extension
    closed: bool  # answered, refused or withdrawn
    withdrawn: bool
    answered_on: date | None


@dataclass(frozen=True)
class BreachFacts:
    id: int
    organisation_id: int
    reference: str
    title: str
    aware_at: datetime
    deadline: datetime  # 72 hours after the authority became aware of it
    # False when assessed unlikely to result in a risk (Art. 33(1)): no notification due.
    to_notify: bool
    notified_at: datetime | None
    late_notification_reasons: str | None


def _verdict(decision: DpiaDecision) -> str:
    return {DpiaDecision.PENDING: "pending",
            DpiaDecision.UNFAVOURABLE: "unfavourable"}.get(decision, "favourable")


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
        latest[activity_id] = _verdict(decision)
    return [ActivityFacts(
        id=r.id, organisation_id=r.organisation_id, reference=r.reference, name=r.name,
        draft=r.status == ActivityStatus.DRAFT, ended=r.status == ActivityStatus.ENDED,
        special_categories=tuple(r.special_categories or ()),
        monitoring=bool(set(r.dpia_criteria or ()) & MONITORING),
        dpia_required=dpia_required(r.dpia_criteria or (), r.special_categories or ()),
        dpia_exemption=r.dpia_exemption, retention_rules=tuple(r.retention_rules or ()),
        dpia=latest.get(r.id)) for r in session.execute(
        select(a.id, a.organisation_id, a.reference, a.name, a.status, a.special_categories,
               a.dpia_criteria, a.dpia_exemption, a.retention_rules)
        .where(_in_organisations(a.organisation_id, organisation_ids)).order_by(a.id))]


def request_facts(session: Session, organisation_ids: Collection[int] | None = None
                  ) -> list[RequestFacts]:
    r = RightsRequest
    return [RequestFacts(
        row.id, row.organisation_id, row.reference, row.received_on,
        extended_request_deadline(row.received_on) if row.extension_informed_on
        else request_deadline(row.received_on),
        row.status in CLOSED_REQUEST_STATUSES, row.status == RequestStatus.WITHDRAWN,
        row.answered_on) for row in session.execute(
        select(r.id, r.organisation_id, r.reference, r.received_on, r.extension_informed_on,
               r.status, r.answered_on)
        .where(_in_organisations(r.organisation_id, organisation_ids)).order_by(r.id))]


def breach_facts(session: Session, organisation_ids: Collection[int] | None = None
                 ) -> list[BreachFacts]:
    b = Breach
    return [BreachFacts(row.id, row.organisation_id, row.reference, row.title, row.aware_at,
                        breach_deadline(row.aware_at), row.risk != BreachRisk.UNLIKELY,
                        row.notified_at, row.late_notification_reasons)
            for row in session.execute(
        select(b.id, b.organisation_id, b.reference, b.title, b.aware_at, b.risk,
               b.notified_at, b.late_notification_reasons)
        .where(_in_organisations(b.organisation_id, organisation_ids)).order_by(b.id))]
