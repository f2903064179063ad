"""Stored evaluations: each run with every rule's counts, and the items failing now with
when their failure began, so the dashboard shows a trend per engagement and « en échec
depuis le … ». A failure that disappears from a run is forgotten; one that comes back
starts again. Written in a few bulk statements whatever the number of failures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from patrimoine.access import audit
from patrimoine.access.principal import Principal
from patrimoine.charter.engine import Evaluation
from patrimoine.charter.models import CharterFailure, CharterRun, CharterRunRule
from patrimoine.charter.rules.base import Outcome


def record(session: Session, principal: Principal, evaluation: Evaluation) -> CharterRun:
    """Store the evaluation: the run, each rule's counts, the failures and deviations now.

    Two evaluations stored at once (a scheduled job and a click) would both read the known
    failures and both insert the new ones: the audit chain's lock, which this appends to
    anyway, is taken first and makes them wait for each other."""
    audit.lock_chain(session)
    scope = list(evaluation.organisation_ids) if evaluation.organisation_ids is not None \
        else None
    run = CharterRun(at=evaluation.at, organisation_ids=scope, scope=scope_key(scope),
                     actor_label=principal.label,
                     seconds=evaluation.snapshot_seconds + sum(r.seconds
                                                               for r in evaluation.rules),
                     highest_failed=evaluation.highest_failed)
    session.add(run)
    session.flush()
    session.execute(insert(CharterRunRule), [
        {"run_id": run.id, "engagement": r.engagement, "rule_id": r.rule.id,
         "severity": r.rule.severity.value, "passed": r.counts[Outcome.PASSED],
         "failed": r.counts[Outcome.FAILED], "deviations": r.counts[Outcome.DEVIATION],
         "not_applicable": r.counts[Outcome.NOT_APPLICABLE], "seconds": r.seconds}
        for r in evaluation.rules] or [])
    f = CharterFailure
    where = [] if scope is None else [f.organisation_id.in_(scope)]
    known = {(e, r, i): (fid, outcome) for fid, e, r, i, outcome in session.execute(
        select(f.id, f.engagement, f.rule_id, f.item, f.outcome).where(*where))}
    fresh, kept, changed = [], set(), []
    for r in evaluation.rules:
        for result in r.results:
            if result.outcome not in (Outcome.FAILED, Outcome.DEVIATION):
                continue
            key = (r.engagement, r.rule.id, result.item)
            row = {"engagement": r.engagement, "rule_id": r.rule.id, "item": result.item,
                   "organisation_id": result.organisation_id, "label": result.label[:600],
                   "reason": result.reason, "link": result.link[:600],
                   "outcome": result.outcome.value, "last_run_id": run.id}
            if key in known:
                kept.add(known[key][0])
                changed.append({"id": known[key][0], **row})
            else:
                fresh.append({**row, "first_failed_at": evaluation.at})
                known[key] = (0, result.outcome.value)
    gone = [fid for fid, _ in known.values() if fid and fid not in kept]
    for start in range(0, len(gone), 5000):
        session.execute(delete(f).where(f.id.in_(gone[start:start + 5000])))
    if changed:
        session.execute(update(f), changed)
    if fresh:
        session.execute(insert(f), fresh)
    audit.record(session, principal, "charter.evaluated", f"charter_run:{run.id}",
                 {"rules": len(evaluation.rules), "highest_failed": run.highest_failed,
                  "failed": sum(r.counts[Outcome.FAILED] for r in evaluation.rules)})
    return run


@dataclass(frozen=True)
class TrendPoint:
    run_id: int
    at: datetime
    passed: int
    failed: int
    deviations: int
    not_applicable: int

    @property
    def judged(self) -> int:
        return self.passed + self.failed + self.deviations

    @property
    def rate(self) -> float | None:
        """Share of judged items passing, in percent (deviations count as not passing)."""
        return round(100 * self.passed / self.judged, 1) if self.judged else None

    def as_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "at": self.at.isoformat(), "passed": self.passed,
                "failed": self.failed, "deviations": self.deviations,
                "not_applicable": self.not_applicable, "rate": self.rate}


def scope_key(organisation_ids: Sequence[int] | None) -> str:
    return "*" if organisation_ids is None else ",".join(str(i) for i in sorted(organisation_ids))


def _runs(session: Session, organisation_id: int | None, limit: int) -> list[CharterRun]:
    key = scope_key(None if organisation_id is None else [organisation_id])
    return list(session.scalars(select(CharterRun).where(CharterRun.scope == key)
                                .order_by(CharterRun.at.desc(), CharterRun.id.desc())
                                .limit(limit)))[::-1]


def trend(session: Session, organisation_id: int | None = None, limit: int = 24
          ) -> dict[str, list[TrendPoint]]:
    """Engagement code -> its counts at each of the last `limit` runs of the scope (the whole
    instance, or one organisation), oldest first."""
    runs = _runs(session, organisation_id, limit)
    if not runs:
        return {}
    at = {r.id: r.at for r in runs}
    sums: dict[str, dict[int, list[int]]] = {}
    for row in session.scalars(select(CharterRunRule).where(
            CharterRunRule.run_id.in_(list(at))).order_by(CharterRunRule.id)):
        counts = sums.setdefault(row.engagement, {}).setdefault(row.run_id, [0, 0, 0, 0])
        for i, v in enumerate((row.passed, row.failed, row.deviations, row.not_applicable)):
            counts[i] += v
    return {code: [TrendPoint(run_id, at[run_id], *counts) for run_id, counts in
                   sorted(by_run.items(), key=lambda kv: at[kv[0]])]
            for code, by_run in sums.items()}


def last_run(session: Session, organisation_id: int | None = None) -> CharterRun | None:
    runs = _runs(session, organisation_id, 1)
    return runs[-1] if runs else None


def failures(session: Session, organisation_ids: Sequence[int] | None = None,
             engagement: str | None = None, limit: int = 500) -> list[CharterFailure]:
    """The items failing or under deviation by the last runs, longest failing first."""
    f = CharterFailure
    query = select(f).order_by(f.first_failed_at, f.id).limit(limit)
    if organisation_ids is not None:
        query = query.where(f.organisation_id.in_(list(organisation_ids)))
    if engagement is not None:
        query = query.where(f.engagement == engagement)
    return list(session.scalars(query))
