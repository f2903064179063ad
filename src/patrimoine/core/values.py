"""Field values in a plain, JSON-friendly form: for histories, and to tell what changed."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any


def plain(value: Any) -> Any:
    """Enums as their value, decimals as text, dates and datetimes in ISO 8601, lists,
    tuples and dicts element by element; everything else as it is."""
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):  # datetimes too
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def apply_changes(target: Any, values: Mapping[str, Any]) -> list[str]:
    """Set on `target` each field whose plain value differs; the names of those changed."""
    changed = []
    for field, value in values.items():
        if plain(getattr(target, field)) != plain(value):
            setattr(target, field, value)
            changed.append(field)
    return changed
