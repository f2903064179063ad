"""Evaluating the charter: every rule of every engagement over one snapshot, with the
parameters the charter gives (per organisation where it says so) and the deviations in
force applied. The result is plain data (`Evaluation`) that the CLI prints, the pages show,
`evaluations.record` stores and the annual report reads.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from time import perf_counter
from typing import Any

from sqlalchemy.orm import Session

from patrimoine.charter import config, deviations
from patrimoine.charter.rules.base import (
    HIGHEST_SEVERITY,
    RULES,
    SEVERITY_LABELS,
    Outcome,
    Result,
    Rule,
)
from patrimoine.charter.snapshot import Snapshot, load


@dataclass(frozen=True)
class RuleEvaluation:
    """One rule's results under one engagement."""

    engagement: str
    rule: Rule
    parameters: dict[str, Any]
    results: tuple[Result, ...]
    seconds: float

    @property
    def counts(self) -> dict[str, int]:
        found = Counter(r.outcome.value for r in self.results)
        return {o.value: found.get(o.value, 0) for o in Outcome}

    @property
    def failures(self) -> list[Result]:
        return [r for r in self.results if r.outcome == Outcome.FAILED]

    @property
    def deviations(self) -> list[Result]:
        return [r for r in self.results if r.outcome == Outcome.DEVIATION]

    def as_dict(self, *, items: bool = True) -> dict[str, Any]:
        out = {"engagement": self.engagement, "rule": self.rule.as_dict(),
               "parameters": self.parameters, "counts": self.counts,
               "seconds": round(self.seconds, 4)}
        if items:
            out["failures"] = [r.as_dict() for r in self.failures]
            out["deviations"] = [r.as_dict() for r in self.deviations]
        return out


@dataclass(frozen=True)
class EngagementEvaluation:
    code: str
    title: str
    text: str
    rules: tuple[RuleEvaluation, ...]

    @property
    def counts(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for r in self.rules:
            total.update(r.counts)
        return {o.value: total.get(o.value, 0) for o in Outcome}


@dataclass(frozen=True)
class Evaluation:
    at: datetime
    organisation_ids: tuple[int, ...] | None  # None: every organisation
    charter_title: str
    engagements: tuple[EngagementEvaluation, ...]
    snapshot_seconds: float
    timings: dict[str, float] = field(default_factory=dict)  # snapshot parts

    @property
    def rules(self) -> list[RuleEvaluation]:
        return [r for e in self.engagements for r in e.rules]

    @property
    def highest_failed(self) -> bool:
        """A rule of the highest severity has a failure (not covered by a deviation)."""
        return any(r.rule.severity == HIGHEST_SEVERITY and r.failures for r in self.rules)

    def as_dict(self, *, items: bool = True) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "charter": self.charter_title,
                "organisation_ids": list(self.organisation_ids)
                if self.organisation_ids is not None else None,
                "highest_severity": HIGHEST_SEVERITY.value,
                "highest_severity_label": SEVERITY_LABELS[HIGHEST_SEVERITY],
                "highest_failed": self.highest_failed,
                "engagements": [{"code": e.code, "title": e.title, "counts": e.counts,
                                 "rules": [r.as_dict(items=items) for r in e.rules]}
                                for e in self.engagements]}


def _documented(result: Result, deviation: deviations.Deviation) -> Result:
    return replace(result, outcome=Outcome.DEVIATION,
                   reason=f"Écart documenté jusqu'au {deviation.expires_on:%d/%m/%Y} "
                          f"({deviation.justification}) — {result.reason}")


def run_rule(snapshot: Snapshot, engagement: str, use: config.RuleUse,
             running: Sequence[deviations.Deviation]) -> RuleEvaluation:
    """One rule over the snapshot: the charter's parameters, organisations' overrides (the
    rule runs again with theirs, for their items), deviations applied."""
    rule = RULES[use.rule_id]
    started = perf_counter()
    base = use.parameters_for(None)
    results = rule.run(snapshot, base)
    overridden = {o for o, s in use.organisations.items() if s.parameters or not s.enabled}
    if overridden:
        kept = [r for r in results if r.organisation_id not in overridden]
        for org in sorted(overridden):
            if use.enabled_for(org):
                kept += [r for r in rule.run(snapshot, use.parameters_for(org))
                         if r.organisation_id == org]
        results = kept
    if running:
        mine = [d for d in running if d.rule_id == rule.id]
        if mine:
            out = []
            for r in results:
                d = (deviations.covering(mine, rule.id, r.item, r.organisation_id)
                     if r.outcome == Outcome.FAILED else None)
                out.append(_documented(r, d) if d is not None else r)
            results = out
    return RuleEvaluation(engagement, rule, rule.parameters_with(base), tuple(results),
                          perf_counter() - started)


def evaluate(session: Session, organisation_ids: Collection[int] | None = None, *,
             charter: config.Charter | None = None, at: datetime | None = None,
             snapshot: Snapshot | None = None,
             progress: Callable[[str, int], None] | None = None) -> Evaluation:
    """The charter (the stored one unless given) over the instance, or some organisations.
    `progress(step, total)` is called before reading the snapshot and before each rule."""
    charter = charter or config.current(session)
    with _collector_paused():
        return _evaluate(session, charter, organisation_ids, at, snapshot, progress)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The snapshot and the results are hundreds of thousands of small acyclic records:
    the cyclic garbage collector would walk them all again and again, finding nothing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _evaluate(session: Session, charter: config.Charter,
              organisation_ids: Collection[int] | None, at: datetime | None,
              snapshot: Snapshot | None, progress: Callable[[str, int], None] | None
              ) -> Evaluation:
    uses = [(e, u) for e in charter.engagements for u in e.rules if u.rule_id in RULES]
    if progress:
        progress("Lecture des registres", len(uses) + 1)
    started = perf_counter()
    snapshot = snapshot or load(session, organisation_ids, at)
    snapshot_seconds = perf_counter() - started
    running = deviations.running(session, snapshot.today)
    done: dict[str, list[RuleEvaluation]] = {e.code: [] for e in charter.engagements}
    for e, use in uses:
        if progress:
            progress(RULES[use.rule_id].title, len(uses) + 1)
        done[e.code].append(run_rule(snapshot, e.code, use, running))
    engagements = tuple(EngagementEvaluation(e.code, e.title, e.text, tuple(done[e.code]))
                        for e in charter.engagements)
    return Evaluation(snapshot.at, tuple(organisation_ids) if organisation_ids is not None
                      else None, charter.title, engagements, snapshot_seconds,
                      dict(snapshot.timings))
