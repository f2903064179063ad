"""The built-in library of rules, one module per engagement area; importing this package
registers them all in `base.RULES` (see base.py for what a rule is)."""

from patrimoine.charter.rules import (  # noqa: F401  (each module registers its rules)
    inventory,
    openness,
    protection,
    retention,
    sobriety,
    sovereignty,
    transparency,
)
