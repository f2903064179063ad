"""Time in one place so tests can reason about it; always timezone-aware UTC. People read
it in Paris time (PARIS: the pages, the legal deadlines, the audit's publication day)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def now() -> datetime:
    return datetime.now(UTC)
