"""Read-only records of standards for the tiers above (the portal, the charter): the schema
that applies to a dataset's version and whether that version conforms to it (the badge), for
many datasets in a few queries. Reads kept results only: validating is `validation`'s work."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from patrimoine.datastore.queries import latest_versions
from patrimoine.standards import schemas
from patrimoine.standards.models import SchemaDeclaration, SchemaValidation

CONFORM = "conforme"
NOT_CONFORM = "non-conforme"
NOT_CHECKED = "non-verifie"
NO_SCHEMA = "sans-schema"
NO_DATA = "sans-donnees"
CONFORMITY_LABELS = {
    CONFORM: "Conforme au schéma", NOT_CONFORM: "Non conforme au schéma",
    NOT_CHECKED: "Conformité non vérifiée", NO_SCHEMA: "Aucun schéma déclaré",
    NO_DATA: "Aucune donnée publiée",
}


@dataclass(frozen=True)
class Conformity:
    status: str
    schema_title: str | None = None
    schema_name: str | None = None
    version: int | None = None
    error_count: int | None = None

    @property
    def conform(self) -> bool:
        return self.status == CONFORM

    @property
    def label(self) -> str:
        text = CONFORMITY_LABELS[self.status]
        if self.status == CONFORM and self.schema_title:
            return f"Conforme au schéma {self.schema_title}"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "conform": self.conform, "label": self.label,
                "schema": self.schema_name, "schema_title": self.schema_title,
                "version": self.version, "error_count": self.error_count}


@dataclass(frozen=True)
class Declaration:
    """The schema that applies to a version: the version's own declaration, else the
    dataset's."""

    title: str
    schema_name: str | None  # a shipped schema; None for a descriptor given by hand
    field_descriptions: Mapping[str, str]  # field name -> its description ("" when none)


@dataclass(frozen=True)
class SchemaFacts:
    declaration: Declaration | None  # None: no schema declared
    conformity: Conformity


class _Version(Protocol):
    """A version as read here: a `datastore.queries.VersionFacts` or a version row."""

    @property
    def id(self) -> int: ...

    @property
    def number(self) -> int: ...


def _descriptions(descriptor: Mapping[str, Any]) -> Mapping[str, str]:
    return MappingProxyType({str(f.get("name")): str(f.get("description") or "").strip()
                             for f in descriptor.get("fields", []) if isinstance(f, dict)})


@lru_cache(maxsize=64)
def _shipped_descriptions(name: str) -> Mapping[str, str]:
    try:
        return _descriptions(schemas.get_schema(name).descriptor())
    except Exception:  # a schema no longer shipped documents nothing
        return MappingProxyType({})


def schema_facts(session: Session, dataset_ids: Collection[int],
                 shown: Mapping[int, _Version] | None = None) -> dict[int, SchemaFacts]:
    """The declared schema and the conformity of each dataset (by id), in two queries (three
    without `shown`).

    `shown` (dataset id -> version) judges those versions instead of the latest ones: the
    portal passes the versions the public may read (a dataset left out has none)."""
    ids = list(dataset_ids)
    if not ids:
        return {}
    declarations: dict[int, list[SchemaDeclaration]] = {}
    for decl in session.scalars(select(SchemaDeclaration)
                                .where(SchemaDeclaration.dataset_id.in_(ids))
                                .order_by(SchemaDeclaration.id)):
        declarations.setdefault(decl.dataset_id, []).append(decl)
    latest: Mapping[int, _Version] = {}
    if shown is not None:
        latest = {i: v for i, v in shown.items() if i in declarations}
    elif declarations:
        latest = latest_versions(session, list(declarations))
    results: dict[tuple[int, str], SchemaValidation] = {}
    if latest:
        for r in session.scalars(select(SchemaValidation).where(
                SchemaValidation.version_id.in_([v.id for v in latest.values()]))):
            results[(r.version_id, r.schema_digest)] = r
    out: dict[int, SchemaFacts] = {}
    for dataset_id in ids:
        version = latest.get(dataset_id)
        decls = declarations.get(dataset_id, [])
        chosen = None
        if version is not None:
            chosen = next((d for d in reversed(decls) if d.version_id == version.id), None)
        if chosen is None:
            chosen = next((d for d in reversed(decls) if d.version_id is None), None)
        if chosen is None:
            out[dataset_id] = SchemaFacts(None, Conformity(NO_SCHEMA))
            continue
        declaration = Declaration(chosen.title, chosen.schema_name, (
            _shipped_descriptions(chosen.schema_name) if chosen.schema_name
            else _descriptions(chosen.descriptor or {})))
        if version is None:
            badge = Conformity(NO_DATA, chosen.title, chosen.schema_name)
        else:
            digest = (schemas.shipped_digest(chosen.schema_name) if chosen.schema_name
                      else schemas.schema_digest(dict(chosen.descriptor or {})))
            found = results.get((version.id, digest))
            badge = (Conformity(NOT_CHECKED, chosen.title, chosen.schema_name, version.number)
                     if found is None else
                     Conformity(CONFORM if found.valid else NOT_CONFORM, chosen.title,
                                chosen.schema_name, version.number, found.error_count))
        out[dataset_id] = SchemaFacts(declaration, badge)
    return out


def conformities(session: Session, dataset_ids: Collection[int],
                 shown: Mapping[int, _Version] | None = None) -> dict[int, Conformity]:
    """`validation.conformity` for many datasets (lists, facets, the dataset page): the
    conformity part of `schema_facts`."""
    return {i: f.conformity for i, f in schema_facts(session, dataset_ids, shown).items()}
