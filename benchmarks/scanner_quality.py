"""Precision and recall of the personal-data scanner per kind, at column level.

Generates labelled tables (tests/support/personal_data.py: Faker fr_FR persons, computed
NIR/IBAN/SIRET, plates, decoy columns), writes each as a real file (CSV Windows-1252 with
`;`, CSV UTF-8, XLSX, JSON), reads it back and scans it; then times a 100,000-row CSV.

    python benchmarks/scanner_quality.py [--seeds 5] [--rows 400]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from patrimoine.protection.reader import read_table  # noqa: E402
from patrimoine.protection.scanner import KINDS, scan_rows  # noqa: E402
from tests.support.personal_data import (  # noqa: E402
    Generator,
    corpus,
    hard_corpus,
    score,
    write,
)

FORMATS = ("csv-1252", "csv", "xlsx", "json")


def report(title: str, tables: list, found: list, rows: int) -> None:
    scores, mistakes = score(tables, found)
    columns = sum(len(t.columns) for t in tables)
    print(f"{title}: {len(tables)} tables, {columns} columns, {rows} rows each\n")
    print(f"{'kind':12} {'precision':>9} {'recall':>7} {'tp':>4} {'fp':>4} {'fn':>4}")
    for kind in KINDS:
        s = scores[kind]
        print(f"{kind:12} {s.precision:9.3f} {s.recall:7.3f} {s.tp:4d} {s.fp:4d} {s.fn:4d}")
    if mistakes:
        print("\nMistakes:\n  " + "\n  ".join(mistakes))
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--rows", type=int, default=400)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for title, make in (("Labelled tables (column names as people write them)", corpus),
                            ("Blind tables (meaningless column names)", hard_corpus)):
            tables, found = [], []
            for seed in range(1, args.seeds + 1):
                for i, table in enumerate(make(seed=100 + seed, rows=args.rows)):
                    path = write(table, Path(tmp) / str(seed),
                                 FORMATS[(i + seed) % len(FORMATS)])
                    read = read_table(path)
                    tables.append(table)
                    found.append(scan_rows(read.columns, read.rows).kinds_by_column())
            report(title, tables, found, args.rows)

        big = Generator(5).persons(1000, 0)
        big.rows = big.rows * 100
        path = write(big, Path(tmp), "csv")
        start = time.perf_counter()
        read = read_table(path)
        middle = time.perf_counter()
        result = scan_rows(read.columns, read.rows)
        end = time.perf_counter()
        print(f"\n100,000 rows x {len(read.columns)} columns "
              f"({path.stat().st_size / 2**20:.1f} MB CSV): read {middle - start:.2f} s, "
              f"scan {end - middle:.2f} s, {len(result.findings)} findings")


if __name__ == "__main__":
    main()
