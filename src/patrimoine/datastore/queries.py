"""Read-only records of the datastore for the tiers above (the charter, staff pages): the
versions of datasets, whether their files are there, the bytes of the DuckDB layouts built
from them and whether each version's layout is built (or why its build failed)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from patrimoine.core.settings import Settings
from patrimoine.datastore.engine import CACHE_DIR, LayoutState, layout_state
from patrimoine.datastore.models import DatasetVersion


@dataclass(frozen=True)
class VersionFacts:
    """A published version, read-only: the fields its readers above use."""

    id: int
    dataset_id: int
    number: int
    path: str  # relative to settings.data_dir
    columns: tuple[Mapping[str, Any], ...]  # {"name", "type", "source_name"}, in file order
    created_at: datetime
    ingest_settings: Mapping[str, Any]  # what the load recorded, meanings of columns included


@dataclass(frozen=True)
class StoredVersion:
    """What a version weighs in the store (its Parquet file and its original)."""

    dataset_id: int
    content_hash: str
    size_bytes: int
    created_at: datetime


def latest_versions(session: Session, dataset_ids: Collection[int]) -> dict[int, VersionFacts]:
    """The newest version of each dataset that has one (dataset id -> version), one query."""
    if not dataset_ids:
        return {}
    v = DatasetVersion
    newest = (select(v.dataset_id, func.max(v.number).label("n"))
              .where(v.dataset_id.in_(list(dataset_ids))).group_by(v.dataset_id).subquery())
    rows = session.execute(
        select(v.id, v.dataset_id, v.number, v.path, v.columns, v.created_at, v.ingest_settings)
        .join(newest, and_(v.dataset_id == newest.c.dataset_id, v.number == newest.c.n)))
    return {r.dataset_id: VersionFacts(r.id, r.dataset_id, r.number, r.path,
                                       tuple(r.columns or ()), r.created_at,
                                       r.ingest_settings or {}) for r in rows}


def stored_versions(session: Session, dataset_ids: Collection[int]) -> list[StoredVersion]:
    """Every version of these datasets, with its size and content hash."""
    if not dataset_ids:
        return []
    v = DatasetVersion
    return [StoredVersion(*row) for row in session.execute(
        select(v.dataset_id, v.content_hash, v.size_bytes + func.coalesce(v.source_size, 0),
               v.created_at)
        .where(v.dataset_id.in_(list(dataset_ids))))]


def has_file(settings: Settings, path: str) -> bool:
    """Whether a version's Parquet file (its `path`, relative to data_dir) is in the store."""
    return (Path(settings.data_dir) / path).is_file()


def layout_bytes(settings: Settings) -> dict[str, int]:
    """Bytes of the DuckDB layouts in the cache, per content hash (all layout versions)."""
    out: dict[str, int] = defaultdict(int)
    root = Path(settings.data_dir) / CACHE_DIR
    if root.is_dir():
        for p in root.glob("*-v*.duckdb"):
            out[p.name.split("-v", 1)[0]] += p.stat().st_size
    return dict(out)


def layout_states(settings: Settings, versions: Iterable[DatasetVersion]
                  ) -> dict[int, LayoutState]:
    """Per version id: whether its query layout is built and, if not, its last failure."""
    return {v.id: layout_state(settings, v) for v in versions}
