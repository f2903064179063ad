"""What the annual report takes from the charter's rules engine, as plain records.

The report does not evaluate rules itself: a `ReportInputs` is handed to it, and when none is
given the service asks the charter's engine for one (charter_results.py: the rules at the
report's date, the year's deviations, the action plan); a chapter with no record says so.
Each record names its engagement by one of the keys of `figures.CHAPTERS` (protection,
souverainete, sobriete, transparence, ouverture); a record naming another key lands in a
chapter of its own, titled with that key, after the five. Dates are plain dates; statuses
are the values below. On publication these records are frozen with the figures
(`as_json` / `from_json`), so a published edition keeps the results it was built with.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from patrimoine.core.vocabulary import define


class ActionStatus(StrEnum):
    """As in Nantes' report: done, in progress, late (past due and not done)."""

    DONE = "done"
    IN_PROGRESS = "in_progress"
    LATE = "late"


define(ActionStatus, {ActionStatus.DONE: "Action réalisée",
                      ActionStatus.IN_PROGRESS: "Action en cours",
                      ActionStatus.LATE: "Action en retard"})


@dataclass(frozen=True)
class RuleOutcome:
    """One rule's counts over the report's scope, at the report's date."""

    rule_id: str
    title: str  # French
    engagement: str  # a chapter key
    severity: str = ""  # as the engine words it ("bloquante", "majeure"…)
    reference: str = ""  # the legal or charter reference
    passed: int = 0
    failed: int = 0
    deviations: int = 0  # failures covered by a running deviation
    not_applicable: int = 0


@dataclass(frozen=True)
class DeviationEntry:
    """A documented deviation (dérogation) that ran during the year."""

    rule_id: str
    engagement: str
    item: str  # what it covers, in French (an item's title, or a scope)
    justification: str
    approver: str
    starts_on: date
    expires_on: date


@dataclass(frozen=True)
class ActionEntry:
    """An action of the plan with its computed status."""

    engagement: str
    title: str
    owner: str = ""
    due_on: date | None = None
    status: ActionStatus = ActionStatus.IN_PROGRESS
    evidence: str = ""


@dataclass(frozen=True)
class ReportInputs:
    rules: tuple[RuleOutcome, ...] = field(default_factory=tuple)
    deviations: tuple[DeviationEntry, ...] = field(default_factory=tuple)
    actions: tuple[ActionEntry, ...] = field(default_factory=tuple)

    def of(self, engagement: str) -> ReportInputs:
        """The records of one engagement."""
        return ReportInputs(
            rules=tuple(r for r in self.rules if r.engagement == engagement),
            deviations=tuple(d for d in self.deviations if d.engagement == engagement),
            actions=tuple(a for a in self.actions if a.engagement == engagement))

    def engagements(self) -> list[str]:
        keys = [r.engagement for r in self.rules] + [d.engagement for d in self.deviations] \
            + [a.engagement for a in self.actions]
        return list(dict.fromkeys(keys))

    def as_json(self) -> dict[str, Any]:
        def plain(record: Any) -> dict[str, Any]:
            return {k: (v.isoformat() if isinstance(v, date) else str(v)
                        if isinstance(v, StrEnum) else v) for k, v in asdict(record).items()}
        return {"rules": [plain(r) for r in self.rules],
                "deviations": [plain(d) for d in self.deviations],
                "actions": [plain(a) for a in self.actions]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReportInputs:
        def day(value: str | None) -> date | None:
            return date.fromisoformat(value) if value else None
        return cls(
            rules=tuple(RuleOutcome(**r) for r in data.get("rules", [])),
            deviations=tuple(DeviationEntry(**{**d, "starts_on": day(d["starts_on"]),
                                               "expires_on": day(d["expires_on"])})
                             for d in data.get("deviations", [])),
            actions=tuple(ActionEntry(**{**a, "due_on": day(a.get("due_on")),
                                         "status": ActionStatus(a["status"])})
                          for a in data.get("actions", [])))
