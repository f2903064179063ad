from __future__ import annotations

from pathlib import Path

import pytest

from patrimoine.bootstrap import bootstrap
from patrimoine.core.errors import SchemaOutOfDate
from patrimoine.core.settings import Settings
from patrimoine.storage import migrate


def test_app_refuses_an_out_of_date_schema(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, secret_key="k")
    with pytest.raises(SchemaOutOfDate, match="patrimoine db upgrade"):
        bootstrap(settings)
    svc = bootstrap(settings, check_schema=False)
    migrate.upgrade(svc.db)
    bootstrap(settings)  # now accepted
    with svc.db.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
