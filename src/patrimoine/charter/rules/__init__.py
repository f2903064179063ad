"""The built-in library of rules, one module per engagement area; importing this package
registers them all in `RULES` (see base.py for what a rule is)."""

from patrimoine.charter.rules import (  # noqa: F401  (each module registers its rules)
    inventory,
    openness,
    protection,
    retention,
    sobriety,
    sovereignty,
    transparency,
)
from patrimoine.charter.rules.base import (
    ENGAGEMENT_AREAS,
    HIGHEST_SEVERITY,
    OUTCOME_LABELS,
    RULES,
    SEVERITY_LABELS,
    Outcome,
    Result,
    Rule,
    Severity,
)

__all__ = ["ENGAGEMENT_AREAS", "HIGHEST_SEVERITY", "OUTCOME_LABELS", "RULES", "SEVERITY_LABELS",
           "Outcome", "Result", "Rule", "Severity"]
