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
from alembic.script.revision import RevisionError

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


def applied_revisions(database: Database, current: set[str]) -> set[str]:
    """Every revision the database has: its recorded heads and all they stand on.

    Alembic records only the heads; a branch that another one `depends_on` is applied
    without being recorded, so comparing recorded heads with script heads is not enough."""
    script = ScriptDirectory.from_config(alembic_config(database))
    applied: set[str] = set()
    stack = list(current)
    while stack:
        try:
            revision = script.get_revision(stack.pop())
        except RevisionError:  # a revision this code does not know: not current
            revision = None
        if revision is None or revision.revision in applied:
            continue
        applied.add(revision.revision)
        for parents in (revision.down_revision, revision.dependencies):
            if parents:
                stack.extend([parents] if isinstance(parents, str) else parents)
    return applied


def ensure_current(database: Database) -> None:
    """Raise with the command to run when the schema is not at the latest migrations."""
    current, heads = current_revisions(database), head_revisions(database)
    if not heads <= applied_revisions(database, current) or not current <= heads:
        state = "vide" if not current else f"à la révision {describe(current)}"
        raise SchemaOutOfDate(
            f"La base de données est {state} alors que Patrimoine attend la révision "
            f"{describe(heads)}. Lancez « patrimoine db upgrade » pour la mettre à jour."
        )
