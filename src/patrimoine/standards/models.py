"""Table Schema declarations of datasets and versions, and the validations already run."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from patrimoine.core.clock import now
from patrimoine.core.db import Base, UTCDateTime


class SchemaDeclaration(Base):
    """A dataset (version_id empty) or one of its versions declares the Table Schema its data
    follows: a shipped schema by name, or an uploaded descriptor."""

    __tablename__ = "schema_declaration"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("dataset.id", ondelete="CASCADE"), index=True
    )
    version_id: Mapped[int | None] = mapped_column(
        ForeignKey("dataset_version.id", ondelete="CASCADE"), nullable=True, index=True
    )
    # The name of a shipped schema (standards/schemas), or None for an uploaded one.
    schema_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    descriptor: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    title: Mapped[str] = mapped_column(String(500), default="")
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    declared_by: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"), nullable=True
    )


class SchemaValidation(Base):
    """The result of validating one version against one schema (keyed by its digest);
    versions never change, so a result stays true."""

    __tablename__ = "schema_validation"
    __table_args__ = (UniqueConstraint("version_id", "schema_digest"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("dataset_version.id", ondelete="CASCADE"), index=True
    )
    # sha256 of the schema descriptor in canonical JSON.
    schema_digest: Mapped[str] = mapped_column(String(64))
    schema_title: Mapped[str] = mapped_column(String(500), default="")
    valid: Mapped[bool] = mapped_column(Boolean)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    # The report as the API returns it (errors capped, see validation.py).
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    validated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
