"""One of several processes racing on the same store (tests/integration/test_several_processes.py).

`python -m tests.support.contender TASK GO_FILE N [ID]`, with the store in PATRIMOINE_*
variables: waits until GO_FILE exists (so that every contender starts together), then does
TASK N times: `audit` appends entries to the audit chain, each in its own transaction;
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
from patrimoine.bootstrap import bootstrap
from patrimoine.datastore import engine, versions
from patrimoine.datastore.models import DatasetVersion
from patrimoine.inventory.models import Dataset
from patrimoine.usage.service import UsageCounts
from tests.factories import write_parquet


def main(task: str, go: Path, n: int, ident: int | None) -> None:
    services = bootstrap(check_schema=False)
    me = Principal.system(f"contender {os.getpid()}")
    while not go.exists():
        time.sleep(0.01)
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
    services.db.dispose()


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]),
         int(sys.argv[4]) if len(sys.argv) > 4 else None)
