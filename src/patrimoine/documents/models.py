"""A document kept in the data folder (a register entry's attachment: an algorithm's
technical document, a signed agreement), stored once per content."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from patrimoine.core.clock import now
from patrimoine.core.db import Base, UTCDateTime


class Document(Base):
    __tablename__ = "stored_document"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True, default=lambda: uuid.uuid4().hex)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    # The file is data_dir/documents/<sha256[:2]>/<sha256>: one copy per content.
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    # Set by the register holding it: true while the entry is public (a published algorithm).
    public: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    uploaded_by: Mapped[str] = mapped_column(String(300))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
