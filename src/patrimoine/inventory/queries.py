"""Reads of the inventory for pages, the API and reports: lists, facets, statistics; and the
read-only records the tiers above read the inventory through (`DatasetFacts`,
`OrganisationFacts`, `frequency`, `licence_title`)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, Text, func, select
from sqlalchemy.orm import Session, selectinload

from patrimoine.access.permissions import readable_datasets
from patrimoine.access.principal import Principal
from patrimoine.core.errors import Invalid
from patrimoine.core.vocabulary import label
from patrimoine.inventory import search
from patrimoine.inventory.licences import licence
from patrimoine.inventory.models import (
    AccessLevel,
    Dataset,
    DatasetChange,
    Department,
    LifecycleStage,
    Organisation,
    Source,
    UpdateFrequency,
    YesNoUndefined,
)

# Facet and statistic fields: name -> (column, enum or None when the value is a name).
FIELDS: dict[str, tuple[Any, type[StrEnum] | None]] = {
    "organisation": (Organisation.name, None),
    "department": (Department.name, None),
    "theme": (Dataset.theme, None),
    "source": (Dataset.source, Source),
    "sharing": (Dataset.sharing, YesNoUndefined),
    "confidentiality": (Dataset.confidentiality, YesNoUndefined),
    "access_level": (Dataset.access_level, AccessLevel),
    "lifecycle_stage": (Dataset.lifecycle_stage, LifecycleStage),
    "update_frequency": (Dataset.update_frequency, UpdateFrequency),
}
STATS_FIELDS = ("organisation", "department", "theme", "source", "sharing", "confidentiality")
FIELD_LABELS = {
    "organisation": "Collectivité",
    "department": "Direction",
    "theme": "Thématique",
    "source": "Source des données",
    "sharing": "Partage des données",
    "confidentiality": "Confidentialité des données",
    "access_level": "Niveau d'accès",
    "lifecycle_stage": "Cycle de vie",
    "update_frequency": "Fréquence de mise à jour",
}
SORTS = {
    "title": (Dataset.title.asc(),),
    "-updated": (Dataset.updated_at.desc(), Dataset.id.desc()),
    "updated": (Dataset.updated_at.asc(), Dataset.id.asc()),
    "organisation": (Organisation.name.asc(), Dataset.title.asc()),
}
NONE_VALUE = "__none__"


@dataclass
class DatasetFilters:
    """Filters of the inventory list. Values are as in FIELDS: names, or enum values."""

    q: str = ""
    values: dict[str, list[str]] = field(default_factory=dict)
    keyword: str | None = None
    contains_personal_data: bool | None = None

    def is_empty(self) -> bool:
        return not (self.q or any(self.values.values()) or self.keyword
                    or self.contains_personal_data is not None)


@dataclass
class Page:
    items: list[Dataset]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass
class FacetValue:
    value: str
    label: str
    count: int


@dataclass
class StatRow:
    value: str
    count: int
    percent: float


def _base(principal: Principal) -> Select[Any]:
    return (
        select(Dataset)
        .join(Organisation, Dataset.organisation_id == Organisation.id)
        .outerjoin(Department, Dataset.department_id == Department.id)
        .where(readable_datasets(principal))
    )


def _conditions(filters: DatasetFilters, skip: str | None = None) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    for name, wanted in filters.values.items():
        if name == skip or not wanted or name not in FIELDS:
            continue
        col, enum = FIELDS[name]
        members: list[str]
        if enum is not None:
            try:
                members = [enum(v) for v in wanted if v != NONE_VALUE]
            except ValueError as exc:
                raise Invalid(f"Valeur inconnue pour le filtre « {name} ».") from exc
        else:
            members = [v for v in wanted if v != NONE_VALUE]
        cond = col.in_(members)
        if NONE_VALUE in wanted:
            cond = cond | col.is_(None)
        conds.append(cond)
    if filters.keyword:
        # Keywords are a small JSON list; matching the folded text keeps this portable.
        conds.append(func.lower(func.cast(Dataset.keywords, Text())).contains(
            filters.keyword.lower()))
    if filters.contains_personal_data is not None:
        conds.append(Dataset.contains_personal_data.is_(filters.contains_personal_data))
    return conds


MAX_PER_PAGE = 500
# The last page whose offset the database can hold (a signed 64-bit integer).
MAX_PAGE = (2**63 - 1) // MAX_PER_PAGE


def list_datasets(
    session: Session,
    principal: Principal,
    filters: DatasetFilters,
    *,
    page: int = 1,
    per_page: int = 50,
    sort: str = "title",
) -> Page:
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    page = max(1, page)
    stmt = _base(principal).where(*_conditions(filters))
    matches = search.ranked_matches(session, filters.q)
    order: tuple[Any, ...]
    if matches is not None:
        sub = matches.subquery()
        stmt = stmt.join(sub, sub.c.id == Dataset.id)
        order = (sub.c.rank.asc(), Dataset.title.asc()) if sort == "relevance" else SORTS.get(
            sort, SORTS["title"])
    else:
        order = SORTS.get(sort, SORTS["title"])
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    items = session.scalars(
        stmt.options(selectinload(Dataset.organisation), selectinload(Dataset.department))
        .order_by(*order).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return Page(list(items), total, page, per_page)


def _grouped_counts(session: Session, principal: Principal, filters: DatasetFilters, name: str,
                    skip_own: bool) -> list[tuple[Any, int]]:
    col, _ = FIELDS[name]
    stmt = _base(principal).where(*_conditions(filters, skip=name if skip_own else None))
    matches = search.ranked_matches(session, filters.q)
    if matches is not None:
        sub = matches.subquery()
        stmt = stmt.join(sub, sub.c.id == Dataset.id)
    grouped = stmt.with_only_columns(col, func.count(Dataset.id)).group_by(col)
    return [(v, n) for v, n in session.execute(grouped)]


def facets(
    session: Session, principal: Principal, filters: DatasetFilters, names: list[str] | None = None
) -> dict[str, list[FacetValue]]:
    """Counts per value of each field under the other filters (so choices stay visible)."""
    result: dict[str, list[FacetValue]] = {}
    for name in names or list(FIELDS):
        _, enum = FIELDS[name]
        rows = _grouped_counts(session, principal, filters, name, skip_own=True)
        values = []
        for value, count in rows:
            if value is None:
                values.append(FacetValue(NONE_VALUE, "Non renseigné", count))
            elif enum is not None:
                values.append(FacetValue(enum(value).value, label(enum(value)), count))
            else:
                values.append(FacetValue(value, value, count))
        values.sort(key=lambda v: (-v.count, v.label))
        result[name] = values
    return result


def statistics(
    session: Session, principal: Principal, by: str, filters: DatasetFilters | None = None
) -> list[StatRow]:
    """Counts and percentages per value, labelled as the source spreadsheets write them."""
    if by not in STATS_FIELDS:
        raise Invalid(
            f"Statistique inconnue « {by} » : choisissez parmi {', '.join(STATS_FIELDS)}."
        )
    _, enum = FIELDS[by]
    rows = _grouped_counts(session, principal, filters or DatasetFilters(), by, skip_own=False)
    total = sum(n for _, n in rows) or 1
    out = []
    for value, count in rows:
        text = "Non renseigné" if value is None else (label(enum(value)) if enum else value)
        out.append(StatRow(text, count, round(100 * count / total, 1)))
    out.sort(key=lambda r: (-r.count, r.value))
    return out


def count_datasets(session: Session, principal: Principal) -> int:
    return session.scalar(select(func.count()).select_from(_base(principal).subquery())) or 0


def organisations(session: Session) -> list[Organisation]:
    return list(session.scalars(
        select(Organisation).options(selectinload(Organisation.departments))
        .order_by(Organisation.name)
    ))


def recent_changes(session: Session, principal: Principal, limit: int = 20) -> list[Any]:
    stmt = (
        select(DatasetChange, Dataset)
        .join(Dataset, Dataset.id == DatasetChange.dataset_id)
        .where(readable_datasets(principal))
        .order_by(DatasetChange.at.desc(), DatasetChange.id.desc())
        .limit(limit)
    )
    return list(session.execute(stmt).all())


# ---------------------------------------------------------------------------------------------
# Records for the tiers above (the charter): copies, never rows of the session
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DatasetFacts:
    """An inventory entry, read-only: the fields its readers above use."""

    id: int
    uid: str
    slug: str
    title: str
    organisation_id: int
    description: str
    licence: str | None
    temporal_start: date | None
    temporal_end: date | None
    spatial_coverage: str | None
    update_frequency: UpdateFrequency
    updated_at: datetime
    extra: Mapping[str, Any]
    contains_personal_data: bool | None


@dataclass(frozen=True)
class OrganisationFacts:
    id: int
    slug: str
    name: str


_FACT_COLUMNS = (Dataset.id, Dataset.uid, Dataset.slug, Dataset.title, Dataset.organisation_id,
                 Dataset.description, Dataset.licence, Dataset.temporal_start,
                 Dataset.temporal_end, Dataset.spatial_coverage, Dataset.update_frequency,
                 Dataset.updated_at, Dataset.extra, Dataset.contains_personal_data)


def dataset_facts(session: Session, *, principal: Principal | None = None,
                  organisation_ids: Collection[int] | None = None) -> list[DatasetFacts]:
    """Every entry (those `principal` may read, of `organisation_ids` when given), by id."""
    # The columns only, not the entries: the charter reads tens of thousands of them at once.
    query = select(*_FACT_COLUMNS).order_by(Dataset.id)
    if principal is not None:
        query = query.where(readable_datasets(principal))
    if organisation_ids is not None:
        query = query.where(Dataset.organisation_id.in_(list(organisation_ids)))
    return [DatasetFacts(**{**row._mapping, "description": row.description or "",
                            "extra": dict(row.extra or {})})
            for row in session.execute(query)]


def organisation_facts(session: Session, ids: Collection[int] | None = None
                       ) -> list[OrganisationFacts]:
    """The organisations (those of `ids` when given), by name."""
    query = select(Organisation.id, Organisation.slug, Organisation.name) \
        .order_by(Organisation.name)
    if ids is not None:
        query = query.where(Organisation.id.in_(list(ids)))
    return [OrganisationFacts(*row) for row in session.execute(query)]


# Nominal days between two updates; irregular and punctual data have no rhythm.
PERIOD_DAYS = {
    UpdateFrequency.CONTINUOUS: 1, UpdateFrequency.DAILY: 1, UpdateFrequency.WEEKLY: 7,
    UpdateFrequency.MONTHLY: 31, UpdateFrequency.QUARTERLY: 92,
    UpdateFrequency.SEMIANNUAL: 183, UpdateFrequency.ANNUAL: 366,
}


@dataclass(frozen=True)
class Frequency:
    known: bool  # False for "unknown"
    label: str  # French, as the inventory shows it ("Mensuelle")
    days: int | None  # nominal days between two updates; None: no fixed rhythm


def frequency(value: str) -> Frequency:
    """What an update frequency (an `UpdateFrequency` value) means."""
    member = UpdateFrequency(value)
    return Frequency(member != UpdateFrequency.UNKNOWN, label(member), PERIOD_DAYS.get(member))


def licence_title(text: str | None) -> str | None:
    """The title of the licence an entry names (a known licence's full title), None if none."""
    found = licence(text)
    return found.title if found is not None else None
