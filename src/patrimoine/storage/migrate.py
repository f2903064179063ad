"""Schema migrations through Alembic; the app refuses to run on an out-of-date schema.

Each capability may keep its own branch of migrations (rooted on the foundation), so the
schema is current when every head is applied.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from patrimoine.core.db import Database
from patrimoine.core.errors import SchemaOutOfDate

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(database: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = database.engine
    return config


def head_revisions(database: Database) -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config(database)).get_heads())


def current_revisions(database: Database) -> set[str]:
    with database.engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def upgrade(database: Database) -> None:
    command.upgrade(alembic_config(database), "heads")


def describe(revisions: set[str]) -> str:
    return ", ".join(sorted(revisions)) or "aucune"


def ensure_current(database: Database) -> None:
    """Raise with the command to run when the schema is not at the latest migrations."""
    current, heads = current_revisions(database), head_revisions(database)
    if current != heads:
        state = "vide" if not current else f"à la révision {describe(current)}"
        raise SchemaOutOfDate(
            f"La base de données est {state} alors que Patrimoine attend la révision "
            f"{describe(heads)}. Lancez « patrimoine db upgrade » pour la mettre à jour."
        )
