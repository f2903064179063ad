"""The charter engine's results for a report (the records of inputs.py): the rules evaluated
at the report's date, the deviations that ran during its year, the action plan with each
action's status at that date, each placed in the report's chapter of its engagement area.

Rules judge the registers as they are now, on the report's date (deadlines, expiries and
statuses are computed for that day); a report of a past year therefore reads its rules
against today's registers — its figures, not its rule results, are the year's own.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time

from sqlalchemy.orm import Session

from patrimoine.charter import actions as plan
from patrimoine.charter import deviations as documented
from patrimoine.charter import engine
from patrimoine.charter.rules.base import RULES, SEVERITY_LABELS, Outcome
from patrimoine.core.clock import PARIS
from patrimoine.report.inputs import (
    ActionEntry,
    ActionStatus,
    DeviationEntry,
    ReportInputs,
    RuleOutcome,
)

# The engine's engagement areas, as the report's chapters (figures.CHAPTERS).
CHAPTER_OF_AREA = {"protection": "protection", "retention": "protection",
                   "sovereignty": "souverainete", "sobriety": "sobriete",
                   "transparency": "transparence", "openness": "ouverture",
                   "inventory": "ouverture"}


def _chapter(rule_id: str) -> str:
    rule = RULES.get(rule_id)
    return CHAPTER_OF_AREA.get(rule.area, rule.area) if rule else "ouverture"


def report_inputs(session: Session, organisation_ids: list[int] | None, year: int,
                  as_of: date) -> ReportInputs:
    evaluation = engine.evaluate(session, organisation_ids,
                                 at=datetime.combine(as_of, time(23, 59), tzinfo=PARIS))
    rules = tuple(RuleOutcome(
        rule_id=r.rule.id, title=r.rule.title, engagement=_chapter(r.rule.id),
        severity=SEVERITY_LABELS[r.rule.severity], reference=r.rule.reference,
        passed=r.counts[Outcome.PASSED.value], failed=r.counts[Outcome.FAILED.value],
        deviations=r.counts[Outcome.DEVIATION.value],
        not_applicable=r.counts[Outcome.NOT_APPLICABLE.value]) for r in evaluation.rules)
    # An engagement of the charter lands in the chapter most of its rules belong to.
    chapters = {e.code: Counter(_chapter(r.rule.id) for r in e.rules).most_common(1)
                for e in evaluation.engagements}
    start = date(year, 1, 1)
    deviations = tuple(DeviationEntry(
        rule_id=d.rule_id, engagement=_chapter(d.rule_id), item=d.scope,
        justification=d.justification, approver=d.approved_by, starts_on=d.starts_on,
        expires_on=d.expires_on) for d in documented.listed(session, organisation_ids)
        if d.starts_on <= as_of and d.expires_on >= start)
    action_entries = tuple(ActionEntry(
        engagement=(_chapter(a.rule_ids[0]) if a.rule_ids
                    else (chapters.get(a.engagement) or [("ouverture", 0)])[0][0]),
        title=a.title, owner=a.owner, due_on=a.due_on, status=ActionStatus(a.status(as_of)),
        evidence=a.evidence) for a in plan.listed(session, organisation_ids))
    return ReportInputs(rules=rules, deviations=deviations, actions=action_entries)
