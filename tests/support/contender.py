"""One of several processes racing on the same store (tests/integration/test_several_processes.py).

`python -m tests.support.contender BARRIER CONTENDERS TASK:N[:ID] ...`, with the store in
PATRIMOINE_* variables: does each TASK N times, in order; before each task it waits until every
contender has reached it (a file per contender in the BARRIER folder), so that all start the
task together. `audit` appends entries to the audit chain, each in its own transaction;
`versions` adds versions of dataset ID; `usage` counts views of dataset ID and flushes every
ten; `layout` builds the layout of version ID.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from pathlib import Path

from patrimoine.access import audit
from patrimoine.access.principal import Principal
from patrimoine.bootstrap import Services, bootstrap
from patrimoine.datastore import engine, versions
from patrimoine.datastore.models import DatasetVersion
from patrimoine.inventory.models import Dataset
from patrimoine.usage.service import UsageCounts
from tests.factories import write_parquet


def _wait_for_all(barrier: Path, task: str, contenders: int) -> None:
    (barrier / f"{task}-{os.getpid()}").touch()
    while sum(1 for p in barrier.iterdir() if p.name.startswith(f"{task}-")) < contenders:
        time.sleep(0.01)


def _run(services: Services, task: str, n: int, ident: int | None) -> None:
    me = Principal.system(f"contender {os.getpid()}")
    if task == "audit":
        for i in range(n):
            with services.db.unit_of_work() as s:
                audit.record(s, me, "test.race", f"race:{os.getpid()}:{i}")
    elif task == "versions":
        for i in range(n):
            with services.db.unit_of_work() as s:
                dataset = s.get(Dataset, ident)
                assert dataset is not None
                tmp = versions.temporary_path(services.settings, dataset, "race")
                write_parquet(tmp, f"SELECT i::BIGINT AS _row, '{os.getpid()}-{i}' AS v "
                                   "FROM range(1, 3) t(i)")
                versions.add_version(
                    s, services.settings, dataset, tmp,
                    content_hash=hashlib.sha256(tmp.read_bytes()).hexdigest(), row_count=2,
                    columns=[{"name": "v", "type": "string"}], positions=None,
                    source_filename="race.csv", source_format="csv", ingest_settings={},
                    created_by=None)
    elif task == "usage":
        counts = UsageCounts()
        assert ident is not None
        for i in range(n):
            counts.view(ident)
            if i % 10 == 9:
                counts.flush(services.db)
        counts.flush(services.db)
    elif task == "layout":
        with services.db.session() as s:
            version = s.get(DatasetVersion, ident)
        assert version is not None
        engine.prepare_version(services.settings, version)
    else:
        raise SystemExit(f"unknown task {task}")


def main(barrier: Path, contenders: int, tasks: list[str]) -> None:
    services = bootstrap(check_schema=False)
    for spec in tasks:
        task, n, *ident = spec.split(":")
        _wait_for_all(barrier, task, contenders)
        _run(services, task, int(n), int(ident[0]) if ident else None)
    services.db.dispose()


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3:])
