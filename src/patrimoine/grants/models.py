"""A grant lets an account, every member of an organisation, or a partner account read one
restricted dataset, for a stated purpose, between two instants, optionally limited to some
rows (a datastore filter) and without some columns (hidden)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from patrimoine.core.clock import now
from patrimoine.core.db import Base, UTCDateTime


class GranteeKind(StrEnum):
    ACCOUNT = "account"
    ORGANISATION = "organisation"
    PARTNER = "partner"


GRANTEE_LABELS = {
    GranteeKind.ACCOUNT: "Compte",
    GranteeKind.ORGANISATION: "Organisation entière",
    GranteeKind.PARTNER: "Compte partenaire",
}


class DatasetGrant(Base):
    __tablename__ = "dataset_grant"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("dataset.id", ondelete="CASCADE"), index=True)
    grantee_kind: Mapped[GranteeKind] = mapped_column(
        Enum(GranteeKind, native_enum=False, length=16,
             values_callable=lambda e: [m.value for m in e]))
    # The account (kinds account and partner) or the organisation (kind organisation).
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    grantee_label: Mapped[str] = mapped_column(String(300))
    purpose: Mapped[str] = mapped_column(Text)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime())
    # A filter tree in the datastore's JSON grammar ({"and": [...]}, {"column": …});
    # None = every row.
    row_filter: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    hidden_columns: Mapped[list[str]] = mapped_column(JSON, default=list)
    granted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"))
    granted_by_label: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by_label: Mapped[str | None] = mapped_column(String(300))
    revoke_reason: Mapped[str | None] = mapped_column(Text)

    def is_active(self, at: datetime) -> bool:
        return self.revoked_at is None and self.valid_from <= at < self.valid_until

    def state(self, at: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if at < self.valid_from:
            return "scheduled"
        if at >= self.valid_until:
            return "expired"
        return "active"


STATE_LABELS = {"active": "En vigueur", "scheduled": "À venir", "expired": "Expirée",
                "revoked": "Révoquée"}
