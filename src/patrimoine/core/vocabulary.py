"""Enumerations in French: each value's label, the choices of a form, and the words a person
may write for a value (its label, its value or a synonym, compared folded) in forms, imports
and exports.

The module that defines an enumeration gives it its words once, right there (`define`), so
whoever holds a member can label it; readers use `label`, `labels`, `choices`, `parse` and
`accepted_words` from here, whatever the capability.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar

from patrimoine.core.text import key

E = TypeVar("E", bound=StrEnum)

_LABELS: dict[type[StrEnum], dict[StrEnum, str]] = {}
# Folded word -> member: labels and values first, then synonyms.
_WORDS: dict[type[StrEnum], dict[str, StrEnum]] = {}
# Synonyms looked for inside a longer text, longest first (see `define`).
_IN_TEXT: dict[type[StrEnum], list[tuple[str, StrEnum]]] = {}


def define(enum: type[E], labels: Mapping[E, str], synonyms: Mapping[str, E] | None = None,
           *, found_in_text: bool = False) -> None:
    """Give `enum` its French labels (one per member) and the other words accepted on input
    (written folded, as `core.text.key` gives them). With `found_in_text`, `parse` also finds
    the longest synonym inside a longer text ("à compter de la clôture du dossier")."""
    if set(labels) != set(enum):
        raise ValueError(f"{enum.__name__}: every member needs one label")
    if enum in _LABELS and _LABELS[enum] != labels:
        raise ValueError(f"{enum.__name__}: its words are defined in one place only")
    words: dict[str, StrEnum] = {}
    for member in enum:  # in the enumeration's order: the first member to claim a word has it
        words.setdefault(key(labels[member]), member)
        words.setdefault(key(member.value), member)
    for word, member in (synonyms or {}).items():
        words.setdefault(word, member)
    _LABELS[enum] = {m: labels[m] for m in enum}
    _WORDS[enum] = words
    if found_in_text:
        _IN_TEXT[enum] = sorted((synonyms or {}).items(), key=lambda i: len(i[0]), reverse=True)


def label(value: StrEnum | None) -> str:
    if value is None:
        return "Non renseigné"
    return _LABELS[type(value)][value]


def labels(enum: type[E]) -> dict[E, str]:
    """Each member's label, in the enumeration's order."""
    return dict(_LABELS[enum])  # type: ignore[arg-type]


def choices(enum: type[StrEnum]) -> list[tuple[str, str]]:
    """(value, French label) pairs for forms, facets and documentation."""
    return [(m.value, text) for m, text in _LABELS[enum].items()]


def parse(enum: type[E], raw: str) -> E | None:
    """The member a person meant by `raw` (its label, its value or a synonym), else None."""
    k = key(raw)
    found = _WORDS[enum].get(k)
    if found is None and enum in _IN_TEXT:
        padded = f" {k} "
        found = next((m for w, m in _IN_TEXT[enum] if f" {w} " in padded), None)
    return found  # type: ignore[return-value]


def accepted_words(enum: type[StrEnum]) -> str:
    """The labels, for a message that says what is accepted."""
    return ", ".join(f"« {text} »" for text in _LABELS[enum].values())
