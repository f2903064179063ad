"""Schema suggestions: which shipped Table Schemas a file's columns look like.

A column matches a schema field when their names are equal once folded (case, accents and
separators ignored: `nom_attribuant`, `Nom attribuant` and `nomAttribuant` are one name). A
schema is suggested when at least MIN_SHARE of its fields are among the columns, best first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from patrimoine.core.text import key
from patrimoine.standards.schemas import ShippedSchema, get_schema, table_schemas

MIN_SHARE = 0.5


@dataclass(frozen=True)
class Suggestion:
    schema: ShippedSchema
    matched: tuple[str, ...]  # the schema's fields found among the columns, in schema order
    fields: int  # how many fields the schema has

    @property
    def share(self) -> float:
        return len(self.matched) / self.fields

    def as_dict(self) -> dict[str, object]:
        return {"schema": self.schema.name, "title": self.schema.title,
                "share": round(self.share, 2), "matched": list(self.matched),
                "fields": self.fields}


def _folded(name: str) -> str:
    return key(name).replace(" ", "")


@lru_cache(maxsize=1)
def _fields() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Each Table Schema's name and field names (read once: the shipped files do not change)."""
    found = []
    for schema in table_schemas():
        names = tuple(f["name"] for f in schema.descriptor().get("fields", [])
                      if isinstance(f, dict) and isinstance(f.get("name"), str))
        if names:
            found.append((schema.name, names))
    return tuple(found)


def suggest_schemas(column_names: Iterable[str], *, limit: int = 3) -> list[Suggestion]:
    """The shipped schemas whose fields the columns cover best (MIN_SHARE at least)."""
    columns = {_folded(n) for n in column_names}
    suggestions = []
    for name, fields in _fields():
        matched = tuple(f for f in fields if _folded(f) in columns)
        if matched and len(matched) / len(fields) >= MIN_SHARE:
            suggestions.append(Suggestion(get_schema(name), matched, len(fields)))
    suggestions.sort(key=lambda s: (-s.share, -len(s.matched), s.schema.name))
    return suggestions[:limit]
