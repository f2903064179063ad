"""Reading the published versions of a dataset (the contract other modules build on)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from patrimoine.core.errors import NotFound
from patrimoine.core.settings import Settings
from patrimoine.datastore.models import DatasetVersion
from patrimoine.inventory.models import Dataset

VERSIONS_DIR = "versions"


def latest_version(session: Session, dataset: Dataset) -> DatasetVersion | None:
    return session.scalar(
        select(DatasetVersion)
        .where(DatasetVersion.dataset_id == dataset.id)
        .order_by(DatasetVersion.number.desc())
        .limit(1)
    )


def get_version(session: Session, dataset: Dataset, number: int) -> DatasetVersion:
    version = session.scalar(
        select(DatasetVersion).where(
            DatasetVersion.dataset_id == dataset.id, DatasetVersion.number == number
        )
    )
    if version is None:
        raise NotFound(f"La version {number} du jeu de données « {dataset.slug} » n'existe pas.")
    return version


def list_versions(session: Session, dataset: Dataset) -> list[DatasetVersion]:
    """Every version of the dataset, newest first."""
    return list(
        session.scalars(
            select(DatasetVersion)
            .where(DatasetVersion.dataset_id == dataset.id)
            .order_by(DatasetVersion.number.desc())
        )
    )


def version_path(settings: Settings, version: DatasetVersion) -> Path:
    """Absolute path of the version's Parquet file."""
    return (settings.data_dir / version.path).resolve()


def relative_path(dataset: Dataset, content_hash: str) -> str:
    return f"{VERSIONS_DIR}/{dataset.uid}/{content_hash}.parquet"


def dataset_folder(settings: Settings, dataset: Dataset) -> Path:
    return settings.data_dir / VERSIONS_DIR / dataset.uid
