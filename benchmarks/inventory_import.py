"""Time the import of a 653-row Troyes-like audit spreadsheet (XLSX) into a fresh SQLite store.

    .venv/bin/python benchmarks/inventory_import.py [--runs 3]

Each run builds a new data folder, migrates it, then times read + plan + apply (one unit of
work, as `patrimoine inventory import` does) and a second, idempotent re-import. The goal
set by issue 2: under 2 seconds for the first import.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from patrimoine.access.principal import Principal  # noqa: E402
from patrimoine.bootstrap import bootstrap  # noqa: E402
from patrimoine.core.settings import Settings  # noqa: E402
from patrimoine.inventory.importer import apply_import, plan_import, read_spreadsheet  # noqa: E402
from patrimoine.storage import migrate  # noqa: E402
from tests.support.spreadsheets import write_xlsx  # noqa: E402


def one_run(folder: Path, data: bytes) -> tuple[float, float, float, float, dict[str, int]]:
    settings = Settings(data_dir=folder / "data", secret_key="bench")
    svc = bootstrap(settings, check_schema=False)
    migrate.upgrade(svc.db)
    principal = Principal.system("benchmark")
    try:
        start, cpu_start = time.perf_counter(), time.process_time()
        with svc.db.unit_of_work() as session:
            table = read_spreadsheet(data, "audit.xlsx")
            read = time.perf_counter() - start
            plan = plan_import(session, principal, table)
            assert plan.ok, plan.error_lines()[:5]
            result = apply_import(session, principal, plan)
        first, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        start = time.perf_counter()
        with svc.db.unit_of_work() as session:
            again = plan_import(session, principal, read_spreadsheet(data, "audit.xlsx"))
            apply_import(session, principal, again)
        second = time.perf_counter() - start
        assert again.counts == {"create": 0, "update": 0, "unchanged": 653}, again.counts
        return read, first, cpu, second, result.counts
    finally:
        svc.db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        xlsx = write_xlsx(Path(tmp) / "audit.xlsx", title_row=True)
        data = xlsx.read_bytes()
        firsts, cpus, seconds = [], [], []
        for i in range(args.runs):
            read, first, cpu, second, counts = one_run(Path(tmp) / f"run{i}", data)
            firsts.append(first)
            cpus.append(cpu)
            seconds.append(second)
            print(f"run {i + 1}: read {read:.3f} s, read+plan+apply {first:.3f} s "
                  f"(CPU {cpu:.3f} s; {counts}), re-import {second:.3f} s")
    print(f"median first import of 653 rows: {statistics.median(firsts):.3f} s wall, "
          f"{statistics.median(cpus):.3f} s CPU (goal < 2 s); "
          f"median re-import: {statistics.median(seconds):.3f} s")


if __name__ == "__main__":
    main()
