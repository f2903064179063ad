"""Column names: normalised (snake-ish, unique, non-empty), the source name kept."""

from __future__ import annotations

from patrimoine.core.text import key

MAX_NAME_LENGTH = 63


def normalise_names(source_names: list[str]) -> list[str]:
    """'Date de création' -> 'date_de_creation'; blanks -> 'colonne_3'; duplicates -> '_2'.

    Names never start with an underscore, so they cannot clash with the `_row` column.
    """
    taken: set[str] = set()
    result: list[str] = []
    for position, source in enumerate(source_names, start=1):
        base = key(source or "").replace(" ", "_")[:MAX_NAME_LENGTH].strip("_")
        if not base:
            base = f"colonne_{position}"
        result.append(free_name(base, taken))
    return result


def free_name(base: str, taken: set[str]) -> str:
    """`base`, or `base_2`, `base_3`… (cut to MAX_NAME_LENGTH) when taken; added to `taken`."""
    name, n = base, 2
    while name in taken:
        suffix = f"_{n}"
        name, n = base[: MAX_NAME_LENGTH - len(suffix)] + suffix, n + 1
    taken.add(name)
    return name
