"""Measured quality of the scanner over generated, labelled files (column level)."""

from __future__ import annotations

from pathlib import Path

import pytest

from patrimoine.protection.reader import read_table
from patrimoine.protection.scanner import scan_rows
from tests.support.personal_data import Generator, corpus, score, write

STRUCTURED = ("email", "phone", "nir", "iban", "plate", "birth_date")
FORMATS = ("csv-1252", "csv", "xlsx", "json")


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, list[str]]:
    folder = tmp_path_factory.mktemp("labelled")
    tables, found = [], []
    for seed in (1, 2, 3):
        for i, table in enumerate(corpus(seed=seed, rows=150)):
            # Every table goes through a real file, each format in turn.
            path = write(table, folder / str(seed), FORMATS[(i + seed) % len(FORMATS)])
            read = read_table(path)
            assert read.columns == table.columns
            tables.append(table)
            found.append(scan_rows(read.columns, read.rows).kinds_by_column())
    return score(tables, found)


@pytest.mark.parametrize("kind", STRUCTURED)
def test_structured_kinds_reach_the_target(measured: tuple[dict, list[str]], kind: str) -> None:
    scores, mistakes = measured
    s = scores[kind]
    assert s.tp > 0
    assert s.precision >= 0.95, mistakes
    assert s.recall >= 0.90, mistakes


@pytest.mark.parametrize("kind", ("name", "address", "position"))
def test_fuzzier_kinds_are_reasonable(measured: tuple[dict, list[str]], kind: str) -> None:
    scores, mistakes = measured
    s = scores[kind]
    assert s.tp > 0
    assert s.precision >= 0.85, mistakes
    assert s.recall >= 0.80, mistakes


def test_a_100k_row_file_is_scanned_whole(tmp_path: Path) -> None:
    table = Generator(5).persons(1000, 0)
    table.rows = table.rows * 100
    path = write(table, tmp_path, "csv")
    read = read_table(path)
    result = scan_rows(read.columns, read.rows)
    assert result.total_rows == 100_000
    assert {f.kind for f in result.findings} >= set(STRUCTURED)
