"""A notification sent to one account, and the account's choice per kind of notification."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from patrimoine.core.clock import now
from patrimoine.core.db import Base, UTCDateTime


class Kind(StrEnum):
    BREACH = "breach"
    PUBLICATION_REQUESTED = "publication_requested"
    PUBLICATION_REFUSED = "publication_refused"
    PUBLICATION_DONE = "publication_done"


KIND_LABELS = {
    Kind.BREACH: "Violation de données enregistrée",
    Kind.PUBLICATION_REQUESTED: "Demande de publication à examiner",
    Kind.PUBLICATION_REFUSED: "Demande de publication refusée",
    Kind.PUBLICATION_DONE: "Jeu de données publié",
}


class Delivery(StrEnum):
    """How a person wants a kind of notification by e-mail (in the application, always)."""

    IMMEDIATE = "immediate"
    DIGEST = "digest"
    NONE = "none"


DELIVERY_LABELS = {
    Delivery.IMMEDIATE: "Courriel immédiat",
    Delivery.DIGEST: "Résumé quotidien par courriel",
    Delivery.NONE: "Pas de courriel",
}

# Without a choice: a breach is urgent (72 hours to notify the CNIL), the rest can wait a day.
DEFAULT_DELIVERY = {Kind.BREACH: Delivery.IMMEDIATE}


def default_delivery(kind: Kind) -> Delivery:
    return DEFAULT_DELIVERY.get(kind, Delivery.DIGEST)


class Notification(Base):
    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_account_unread", "account_id", "read_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text, default="")
    # The back-office page where the thing is done (a path, never an outside address).
    link: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set once the notification went out by e-mail (immediately or in a digest).
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class NotificationPreference(Base):
    __tablename__ = "notification_preference"
    __table_args__ = (UniqueConstraint("account_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"),
                                            index=True)
    kind: Mapped[str] = mapped_column(String(40))
    delivery: Mapped[str] = mapped_column(String(20))
