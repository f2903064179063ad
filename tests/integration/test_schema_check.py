"""The schema check reads the revision graph without Alembic: same answers as Alembic."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import pytest
from sqlalchemy import text

from patrimoine.bootstrap import bootstrap
from patrimoine.core.errors import SchemaOutOfDate
from patrimoine.core.settings import Settings
from patrimoine.storage import migrate


def test_revision_graph_matches_alembic(tmp_path: Path) -> None:
    svc = bootstrap(Settings(data_dir=tmp_path, secret_key="k"), check_schema=False)
    graph = migrate._revision_graph()
    assert graph is not None, "every migration file names its revisions as plain literals"
    assert migrate.head_revisions(svc.db) == migrate.alembic_heads(svc.db)
    recorded_sets = [set(c) for n in (1, 2) for c in combinations(sorted(graph), n)]
    for current in [set(), {"zz9999"}, *recorded_sets]:
        assert migrate.applied_revisions(svc.db, current) == migrate.alembic_applied(
            svc.db, current), current


def test_check_follows_the_version_table(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, secret_key="k")
    svc = bootstrap(settings, check_schema=False)
    assert migrate.current_revisions(svc.db) == set()  # no version table yet
    migrate.upgrade(svc.db)
    current = migrate.current_revisions(svc.db)
    assert current and current <= migrate.head_revisions(svc.db)
    bootstrap(settings)

    def record(*revisions: str) -> None:
        with svc.db.engine.begin() as conn:
            conn.execute(text("DELETE FROM alembic_version"))
            for revision in revisions:
                conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"),
                             {"v": revision})

    record("0001")  # only the foundation
    with pytest.raises(SchemaOutOfDate, match="à la révision 0001"):
        bootstrap(settings)
    record(*current, "zz9999")  # a revision this code does not know
    with pytest.raises(SchemaOutOfDate, match="patrimoine db upgrade"):
        bootstrap(settings)
    record(*current)
    bootstrap(settings)
