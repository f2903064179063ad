"""JSON shapes of the API, built from the same service objects the pages use."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel

from patrimoine.core.vocabulary import label
from patrimoine.inventory.models import Dataset, Organisation


class DepartmentOut(BaseModel):
    id: int
    slug: str
    name: str


class OrganisationOut(BaseModel):
    id: int
    slug: str
    name: str
    kind: str
    parent_id: int | None
    departments: list[DepartmentOut]

    @classmethod
    def of(cls, org: Organisation) -> OrganisationOut:
        return cls(
            id=org.id, slug=org.slug, name=org.name, kind=org.kind.value, parent_id=org.parent_id,
            departments=[DepartmentOut(id=d.id, slug=d.slug, name=d.name) for d in org.departments],
        )


class DatasetOut(BaseModel):
    uid: str
    slug: str
    title: str
    description: str
    organisation: str
    organisation_id: int
    department: str | None
    department_id: int | None
    theme: str | None
    source: str | None
    source_label: str | None
    producer: str | None
    confidentiality: str
    sharing: str
    access_level: str
    contains_personal_data: bool | None
    cost_per_year: Decimal | None
    update_frequency: str
    licence: str | None
    keywords: list[str]
    spatial_coverage: str | None
    temporal_start: date | None
    temporal_end: date | None
    contact_name: str | None
    contact_email: str | None
    lifecycle_stage: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, d: Dataset) -> DatasetOut:
        return cls(
            uid=d.uid, slug=d.slug, title=d.title, description=d.description,
            organisation=d.organisation.name, organisation_id=d.organisation_id,
            department=d.department.name if d.department else None, department_id=d.department_id,
            theme=d.theme, source=d.source.value if d.source else None,
            source_label=label(d.source) if d.source else None, producer=d.producer,
            confidentiality=d.confidentiality.value, sharing=d.sharing.value,
            access_level=d.access_level.value, contains_personal_data=d.contains_personal_data,
            cost_per_year=d.cost_per_year, update_frequency=d.update_frequency.value,
            licence=d.licence, keywords=list(d.keywords or []), spatial_coverage=d.spatial_coverage,
            temporal_start=d.temporal_start, temporal_end=d.temporal_end,
            contact_name=d.contact_name, contact_email=d.contact_email,
            lifecycle_stage=d.lifecycle_stage.value, created_at=d.created_at,
            updated_at=d.updated_at,
        )


class FacetValueOut(BaseModel):
    value: str
    label: str
    count: int


class DatasetPageOut(BaseModel):
    total: int
    page: int
    per_page: int
    items: list[DatasetOut]
    facets: dict[str, list[FacetValueOut]]


class ChangeOut(BaseModel):
    at: datetime
    actor: str
    action: str
    changes: dict[str, list[object]]


class StatRowOut(BaseModel):
    value: str
    count: int
    percent: float


class StatsOut(BaseModel):
    by: str
    total: int
    rows: list[StatRowOut]
