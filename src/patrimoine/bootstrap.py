"""The composition root: settings -> data folder, database, schema check."""

from __future__ import annotations

from dataclasses import dataclass, field

from patrimoine.core.db import Database
from patrimoine.core.settings import Settings
from patrimoine.storage import migrate
from patrimoine.usage.service import UsageCounts


@dataclass
class Services:
    settings: Settings
    db: Database
    usage: UsageCounts = field(default_factory=UsageCounts)  # flushed by the web app


def bootstrap(settings: Settings | None = None, *, check_schema: bool = True) -> Services:
    settings = settings or Settings()
    settings.ensure_data_dir()
    db = Database(settings.resolved_database_url, settings.db_connections)
    if check_schema:
        migrate.ensure_current(db)
    return Services(settings=settings, db=db)
