"""The public catalog as the standards see it: what anonymous visitors may read, with the
latest version of each dataset, its download formats and the stable identifiers built from
the dataset's `uid` (never from its slug or title, which may change).

Shared by the DCAT-AP catalog (dcat.py) and the CKAN-compatible API (ckan.py). What is public
is decided once, by the portal (`access.permissions.public_clause`) for an anonymous principal;
the CKAN API passes the principal of a caller's API token instead, who may see more.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, selectinload

from patrimoine.access.permissions import public_clause
from patrimoine.access.principal import Principal
from patrimoine.core.errors import NotFound
from patrimoine.core.settings import Settings
from patrimoine.datastore.models import DatasetVersion
from patrimoine.inventory.models import Dataset, Organisation
from patrimoine.protection import gate
from patrimoine.reading import language

ANONYMOUS = Principal.anonymous()
# Resource ids are UUIDs derived from the dataset uid and the format (stable, never stored).
RESOURCE_NAMESPACE = uuid.UUID("0b5c3f0e-6a52-4d3e-9f7c-5d1f0c2a7e41")
FORMAT_LABELS = {"csv": "CSV", "json": "JSON", "ndjson": "NDJSON", "geojson": "GeoJSON",
                 "parquet": "Parquet", "xlsx": "XLSX"}


@dataclass
class PublicDataset:
    dataset: Dataset
    version: DatasetVersion | None

    @property
    def formats(self) -> list[str]:
        return export_formats(self.version) if self.version else []

    @property
    def modified(self) -> datetime:
        times = [aware(self.dataset.updated_at)]
        if self.version is not None:
            times.append(aware(self.version.created_at))
        return max(times)


def aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def export_formats(version: DatasetVersion) -> list[str]:
    """The formats a version downloads in (GeoJSON only when it has positions or shapes)."""
    geo = bool(version.positions) or any(c["type"] == "geometry" for c in version.columns)
    return [f for f in language.FORMATS if f != "geojson" or geo]


def dataset_uuid(dataset: Dataset) -> str:
    """The dataset's uid written as a UUID (CKAN clients expect that shape)."""
    try:
        return str(uuid.UUID(hex=dataset.uid))
    except ValueError:
        return str(uuid.uuid5(RESOURCE_NAMESPACE, dataset.uid))


def resource_uuid(dataset: Dataset, fmt: str) -> str:
    return str(uuid.uuid5(RESOURCE_NAMESPACE, f"{dataset.uid}/{fmt}"))


def public_query(principal: Principal = ANONYMOUS) -> Select[Dataset]:
    return (select(Dataset).where(public_clause(principal))
            .options(selectinload(Dataset.organisation)))


def latest_versions(session: Session, datasets: list[Dataset],
                    settings: Settings | None = None,
                    principal: Principal = ANONYMOUS) -> dict[int, DatasetVersion]:
    """The newest version of each dataset that anonymous visitors may read: protection's
    gate (`gate.newest_readable_versions`) keeps back versions holding unresolved personal
    data, never scanned (scanned now when `settings` is given) or anonymised since."""
    return gate.newest_readable_versions(session, principal, datasets, settings)


def with_versions(session: Session, datasets: list[Dataset],
                  settings: Settings | None = None,
                  principal: Principal = ANONYMOUS) -> list[PublicDataset]:
    found = latest_versions(session, datasets, settings, principal)
    return [PublicDataset(d, found.get(d.id)) for d in datasets]


def count(session: Session) -> int:
    return session.scalar(select(func.count(Dataset.id)).where(public_clause(ANONYMOUS))) or 0


def page(session: Session, offset: int, limit: int,
         settings: Settings | None = None) -> list[PublicDataset]:
    """Public datasets in a stable order (creation), for paged catalogs."""
    rows = session.scalars(public_query().order_by(Dataset.id).offset(offset).limit(limit))
    return with_versions(session, list(rows), settings)


def everything(session: Session, settings: Settings | None = None,
               principal: Principal = ANONYMOUS) -> list[PublicDataset]:
    rows = session.scalars(public_query(principal).order_by(Dataset.id))
    return with_versions(session, list(rows), settings, principal)


def with_data(session: Session, settings: Settings | None = None,
              principal: Principal = ANONYMOUS) -> list[PublicDataset]:
    """Public datasets that have at least one version the public may read."""
    has_version = select(DatasetVersion.dataset_id)
    rows = session.scalars(public_query(principal).where(Dataset.id.in_(has_version))
                           .order_by(Dataset.id))
    return [e for e in with_versions(session, list(rows), settings, principal)
            if e.version is not None]


def find(session: Session, ident: str, settings: Settings | None = None,
         principal: Principal = ANONYMOUS) -> PublicDataset:
    """A public dataset by slug, uid, or uid written as a UUID; NotFound otherwise (closed
    datasets are not found, so that their existence stays hidden)."""
    ident = ident.strip()
    keys = [ident]
    try:
        keys.append(uuid.UUID(ident).hex)
    except ValueError:
        pass
    dataset = session.scalar(public_query(principal).where(
        or_(Dataset.slug == ident, Dataset.uid.in_(keys))))
    if dataset is None:
        raise NotFound(f"Jeu de données « {ident} » introuvable.")
    return with_versions(session, [dataset], settings, principal)[0]


def last_modified(session: Session) -> datetime | None:
    """When the public catalog last changed (an entry or a published version)."""
    entry = session.scalar(select(func.max(Dataset.updated_at)).where(public_clause(ANONYMOUS)))
    version = session.scalar(
        select(func.max(DatasetVersion.created_at))
        .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
        .where(public_clause(ANONYMOUS)))
    times = [aware(t) for t in (entry, version) if t is not None]
    return max(times) if times else None


def first_issued(session: Session) -> datetime | None:
    """When the oldest public dataset was entered."""
    first = session.scalar(select(func.min(Dataset.created_at)).where(public_clause(ANONYMOUS)))
    return aware(first) if first is not None else None


def root_organisation(session: Session) -> Organisation | None:
    """The organisation at the top of the territory (the catalog's publisher)."""
    return session.scalar(select(Organisation).where(Organisation.parent_id.is_(None))
                          .order_by(Organisation.id).limit(1))
