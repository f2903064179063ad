"""Schema migrations through Alembic; the app refuses to run on an out-of-date schema.

Each capability may keep its own branch of migrations (rooted on the foundation), so the
schema is current when every head is applied.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import inspect, text

from patrimoine.core.db import Database
from patrimoine.core.errors import SchemaOutOfDate

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version"  # Alembic's default, which env.py keeps
_FIRST_DEFINITION = re.compile(r"^(?:def|async def|class|@)", re.MULTILINE)

# Checking the schema (every command, every start) reads the revision graph from the
# migration files and the applied revisions from the version table, without importing
# Alembic (a tenth of a second); Alembic itself runs the migrations, and answers when a
# file spells its revisions in a way this reading does not follow.


def alembic_config(database: Database) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = database.engine
    return config


def _revision_graph() -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]] | None:
    """revision -> (down revisions, dependencies), from the migration files' module-level
    literals above their first function; None when a file does not give them so, as plain
    revision ids."""
    graph: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
    for path in sorted((MIGRATIONS_DIR / "versions").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        header = _FIRST_DEFINITION.split(source, maxsplit=1)[0]
        try:
            body = ast.parse(header).body
        except SyntaxError:
            return None
        values: dict[str, Any] = {}
        targets: list[ast.expr]
        for node in body:
            if isinstance(node, ast.AnnAssign) and node.value is not None:
                targets, value = [node.target], node.value
            elif isinstance(node, ast.Assign):
                targets, value = node.targets, node.value
            else:
                continue
            for target in targets:
                if isinstance(target, ast.Name) and target.id in (
                        "revision", "down_revision", "depends_on"):
                    try:
                        values[target.id] = ast.literal_eval(value)
                    except (ValueError, TypeError):
                        return None
        revision = values.get("revision")
        down, depends = _ids(values.get("down_revision")), _ids(values.get("depends_on"))
        if not isinstance(revision, str) or revision in graph or down is None or depends is None:
            return None
        graph[revision] = (down, depends)
    if not graph or any(r not in graph for down, depends in graph.values()
                        for r in (*down, *depends)):
        return None  # e.g. a dependency named by branch label: Alembic resolves it
    return graph


def _ids(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (tuple, list)) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None


def head_revisions(database: Database) -> set[str]:
    graph = _revision_graph()
    if graph is None:
        return alembic_heads(database)
    below = {r for down, _ in graph.values() for r in down}
    return set(graph) - below


def alembic_heads(database: Database) -> set[str]:
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory.from_config(alembic_config(database)).get_heads())


def current_revisions(database: Database) -> set[str]:
    """The revisions recorded in the version table (none when it does not exist yet)."""
    with database.engine.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return set()
        return {row[0] for row in conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))}


def upgrade(database: Database) -> None:
    from alembic import command

    command.upgrade(alembic_config(database), "heads")


def describe(revisions: set[str]) -> str:
    return ", ".join(sorted(revisions)) or "aucune"


def applied_revisions(database: Database, current: set[str]) -> set[str]:
    """Every revision the database has: its recorded heads and all they stand on.

    Alembic records only the heads; a branch that another one `depends_on` is applied
    without being recorded, so comparing recorded heads with script heads is not enough."""
    graph = _revision_graph()
    if graph is not None:
        applied: set[str] = set()
        # A revision this code does not know is not current.
        stack = [r for r in current if r in graph]
        while stack:
            revision = stack.pop()
            if revision not in applied:
                applied.add(revision)
                down, depends = graph[revision]
                stack.extend([*down, *depends])
        return applied
    return alembic_applied(database, current)


def alembic_applied(database: Database, current: set[str]) -> set[str]:
    """applied_revisions as Alembic resolves the graph."""
    from alembic.script import ScriptDirectory
    from alembic.script.revision import RevisionError
    from alembic.util import CommandError

    script = ScriptDirectory.from_config(alembic_config(database))
    applied: set[str] = set()
    stack = list(current)
    while stack:
        try:
            revision = script.get_revision(stack.pop())
        except (RevisionError, CommandError):  # a revision this code does not know: not current
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
