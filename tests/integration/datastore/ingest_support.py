"""Shared helpers of the ingest tests: a dataset to load into, and reading a version back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from patrimoine.access.principal import Principal
from patrimoine.bootstrap import Services
from patrimoine.datastore.ingest import ingest
from patrimoine.datastore.models import DatasetVersion
from patrimoine.datastore.versions import version_path
from patrimoine.inventory.models import Dataset
from tests import factories

SYSTEM = Principal.system("tests")


def new_dataset(services: Services, title: str = "Subventions aux associations") -> Dataset:
    with services.db.unit_of_work() as session:
        org = factories.organisation(session)
        return factories.dataset(session, org, title=title)


def load(services: Services, dataset: Dataset, path: Path, overrides: Any = None,
         principal: Principal = SYSTEM) -> DatasetVersion:
    with services.db.unit_of_work() as session:
        entry = session.get(Dataset, dataset.id)
        assert entry is not None
        return ingest(session, services.settings, principal, entry, path, overrides)


def rows(services: Services, version: DatasetVersion) -> list[dict[str, Any]]:
    path = version_path(services.settings, version)
    rel = duckdb.sql(f"SELECT * FROM read_parquet('{path}') ORDER BY _row")
    return [dict(zip(rel.columns, r, strict=True)) for r in rel.fetchall()]


def parquet_types(services: Services, version: DatasetVersion) -> dict[str, str]:
    path = version_path(services.settings, version)
    rel = duckdb.sql(f"SELECT * FROM read_parquet('{path}')")
    return {name: str(t) for name, t in zip(rel.columns, rel.types, strict=True)}


def columns(version: DatasetVersion) -> dict[str, str]:
    return {c["name"]: c["type"] for c in version.columns}


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path
