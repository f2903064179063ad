"""Published versions of a dataset's data: one immutable Parquet file each."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from patrimoine.core.clock import now
from patrimoine.core.db import Base, UTCDateTime
from patrimoine.inventory.models import Dataset

# The column types a version may hold, and their DuckDB / Parquet storage types.
COLUMN_TYPES: dict[str, str] = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "number": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "datetime": "TIMESTAMP",
    "geometry": "VARCHAR",
}


class DatasetVersion(Base):
    """One published state of a dataset's table; never modified once written."""

    __tablename__ = "dataset_version"
    __table_args__ = (UniqueConstraint("dataset_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("dataset.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    # sha256 (hex) of the Parquet file's bytes.
    content_hash: Mapped[str] = mapped_column(String(64))
    # Relative to settings.data_dir: versions/<dataset.uid>/<content_hash>.parquet
    path: Mapped[str] = mapped_column(String(300))
    row_count: Mapped[int] = mapped_column(BigInteger)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    # [{"name", "type", "source_name"}], in file order (after the leading `_row`).
    columns: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # {"lat": column, "lon": column} when the version has positions.
    positions: Mapped[dict[str, str] | None] = mapped_column(JSON, nullable=True)
    source_filename: Mapped[str] = mapped_column(String(500), default="")
    source_format: Mapped[str] = mapped_column(String(20), default="")
    # The file as it was loaded, kept byte for byte (versions/<dataset.uid>/originals/<sha256>),
    # with its media type and size; None for versions derived from another (anonymised,
    # purged), which have no file of their own.
    source_path: Mapped[str | None] = mapped_column(String(300), nullable=True)
    source_media_type: Mapped[str] = mapped_column(String(100), default="", server_default="")
    source_size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    ingest_settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"), nullable=True
    )

    dataset: Mapped[Dataset] = relationship()

    # Not stored: set by ingest when the uploaded content equals this (latest) version.
    unchanged = False

    @property
    def stored_bytes(self) -> int:
        """What the version keeps in the store: its Parquet file and the original it was
        loaded from (what destroying it frees, at most: files may be shared)."""
        return int(self.size_bytes) + int(self.source_size or 0)

    def column_names(self) -> list[str]:
        return [c["name"] for c in self.columns]

    def column_type(self, name: str) -> str | None:
        for c in self.columns:
            if c["name"] == name:
                return str(c["type"])
        return None
