"""What a rule is and what it yields.

A rule is a pure function over a read-only `Snapshot` and its parameters, yielding one
`Result` per item it judges: passed, failed or not applicable, with the reason in French and
the link to the item's back-office page. `@rule(...)` declares its id, French title,
engagement, reference (law or charter), severity and parameters with their defaults; the
function's docstring is its documentation. Every module of this package registers its rules
in `RULES` when imported (rules/__init__.py imports them all).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from patrimoine.charter.snapshot import Snapshot


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_APPLICABLE = "not_applicable"
    DEVIATION = "deviation"  # failed, but a deviation in force documents it (engine.py)


OUTCOME_LABELS = {
    Outcome.PASSED: "Respectée",
    Outcome.FAILED: "Non respectée",
    Outcome.NOT_APPLICABLE: "Sans objet",
    Outcome.DEVIATION: "Écart documenté",
}


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    MAJOR = "major"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


SEVERITY_LABELS = {
    Severity.INFO: "Information",
    Severity.WARNING: "Avertissement",
    Severity.MAJOR: "Majeure",
    Severity.CRITICAL: "Critique",
}
HIGHEST_SEVERITY = max(Severity, key=lambda s: s.rank)

# The engagements the built-in rules serve (a charter maps its own engagements onto rules).
ENGAGEMENT_AREAS = {
    "protection": "Protection des données personnelles",
    "sovereignty": "Souveraineté",
    "transparency": "Transparence",
    "openness": "Ouverture et qualité des données",
    "sobriety": "Sobriété",
    "inventory": "Connaissance et gouvernance du patrimoine",
    "retention": "Durées de conservation",
}


@dataclass(frozen=True)
class Result:
    """One item judged by one rule."""

    item: str  # stable key: "dataset:42", "activity:7"…
    label: str  # French name of the item ("Jeu « Budget 2025 »")
    organisation_id: int | None
    outcome: Outcome
    reason: str  # French
    link: str  # back-office page of the item

    def as_dict(self) -> dict[str, Any]:
        return {"item": self.item, "label": self.label, "organisation_id": self.organisation_id,
                "outcome": self.outcome.value, "reason": self.reason, "link": self.link}


def passed(item: str, label: str, org: int | None, reason: str, link: str) -> Result:
    return Result(item, label, org, Outcome.PASSED, reason, link)


def failed(item: str, label: str, org: int | None, reason: str, link: str) -> Result:
    return Result(item, label, org, Outcome.FAILED, reason, link)


def not_applicable(item: str, label: str, org: int | None, reason: str, link: str) -> Result:
    return Result(item, label, org, Outcome.NOT_APPLICABLE, reason, link)


Check = Callable[["Snapshot", Mapping[str, Any]], Iterator[Result]]


@dataclass(frozen=True)
class Rule:
    id: str
    title: str  # French
    area: str  # key of ENGAGEMENT_AREAS: the engagement it serves by default
    reference: str  # the law or the charter's article (French)
    severity: Severity
    check: Check
    parameters: Mapping[str, Any] = field(default_factory=dict)  # name -> default
    doc: str = ""

    def parameters_with(self, given: Mapping[str, Any] | None) -> dict[str, Any]:
        """The defaults overridden by `given`: unknown names are refused, and a value must
        be of its default's kind (a number where a number is, true or false for a switch)."""
        out = dict(self.parameters)
        for name, value in (given or {}).items():
            if name not in out:
                raise ValueError(f"La règle « {self.id} » n'a pas de paramètre « {name} » ; "
                                 f"paramètres : {', '.join(out) or 'aucun'}.")
            default = out[name]
            if isinstance(default, bool):
                if not isinstance(value, bool):
                    raise ValueError(f"Paramètre « {name} » de la règle « {self.id} » : "
                                     f"vrai ou faux attendu, « {value} » reçu.")
                out[name] = value
            elif isinstance(default, (int, float)):
                if isinstance(value, bool):
                    value = "vrai" if value else "faux"
                number = _number(value, type(default))
                if number is None or number < 0:
                    raise ValueError(f"Paramètre « {name} » de la règle « {self.id} » : "
                                     f"nombre positif attendu, « {value} » reçu.")
                out[name] = number
            else:
                out[name] = value
        return out

    def run(self, snapshot: Snapshot, given: Mapping[str, Any] | None = None) -> list[Result]:
        return list(self.check(snapshot, self.parameters_with(given)))

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "area": self.area,
                "reference": self.reference, "severity": self.severity.value,
                "severity_label": SEVERITY_LABELS[self.severity],
                "parameters": dict(self.parameters), "doc": self.doc}


def _number(value: Any, kind: type) -> int | float | None:
    """`value` as an int or a float (`kind`); None when it is not one (12.5 is no int)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if kind is int:
        return int(number) if number.is_integer() else None
    return number


RULES: dict[str, Rule] = {}


def rule(id: str, title: str, area: str, reference: str, severity: Severity,
         **parameters: Any) -> Callable[[Check], Check]:
    """Register the decorated function as a rule (its docstring documents it)."""
    assert area in ENGAGEMENT_AREAS, area

    def register(check: Check) -> Check:
        assert id not in RULES, f"rule {id} declared twice"
        RULES[id] = Rule(id, title, area, reference, severity, check, parameters,
                         " ".join((check.__doc__ or "").split()))
        return check
    return register
