"""Text normalisation shared by search, header matching and slugs."""

from __future__ import annotations

import re
import unicodedata

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def fold(text: str) -> str:
    """Lower-case, strip accents, ligatures expanded: 'Œuvre Élève' -> 'oeuvre eleve'."""
    if text.isascii():  # most text: nothing to decompose, and casefold is lower there
        return text.lower()
    text = text.replace("œ", "oe").replace("Œ", "oe").replace("æ", "ae").replace("Æ", "ae")
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return stripped.casefold()


def key(text: str) -> str:
    """A comparison key: folded, every run of non-alphanumerics collapsed to one space."""
    return _NON_ALNUM.sub(" ", fold(text)).strip()


def slugify(text: str, max_length: int = 80) -> str:
    slug = key(text).replace(" ", "-")
    return slug[:max_length].strip("-") or "sans-titre"


def tokens(text: str) -> list[str]:
    return [t for t in key(text).split(" ") if t]
