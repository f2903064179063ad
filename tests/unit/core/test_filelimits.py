"""Hostile files refused before a parser sees them, with a French message naming the limit;
ordinary workbooks and JSON pass."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from patrimoine.core.errors import Invalid
from patrimoine.core.filelimits import FileLimits, check_workbook, json_depth, load_json
from patrimoine.core.settings import Settings
from patrimoine.core.tabular import read_table, read_tables
from patrimoine.inventory.audit_sheet import read_spreadsheet
from patrimoine.protection.reader import read_table as scan_table
from tests.support import hostile

LIMITS = FileLimits.of(Settings())


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return hostile.shared_string_bomb(400)


def test_a_shared_string_bomb_is_refused_by_its_compression_ratio(bomb: bytes) -> None:
    assert len(bomb) < 600_000  # 400 MB once inflated
    with pytest.raises(Invalid) as refused:
        check_workbook(bomb, "bombe.xlsx", LIMITS)
    assert "anormalement compressé" in refused.value.message
    assert "PATRIMOINE_MAX_COMPRESSION_RATIO" in refused.value.message


def test_the_total_size_is_bounded_whatever_the_ratio() -> None:
    data = hostile.shared_string_bomb(3)
    lenient = replace(LIMITS, max_compression_ratio=10_000, max_unpacked_bytes=2_000_000)
    with pytest.raises(Invalid) as refused:
        check_workbook(data, "bombe.xlsx", lenient)
    assert "plus de 2.0 Mo une fois décompressé" in refused.value.message
    check_workbook(data, "bombe.xlsx", replace(lenient, max_unpacked_bytes=10_000_000))


def test_every_import_refuses_the_bomb_before_reading_it(bomb: bytes, tmp_path: Path) -> None:
    for read in (lambda: read_table(bomb, "bombe.xlsx"),
                 lambda: read_spreadsheet(bomb, "bombe.xlsx"),
                 lambda: scan_table(hostile.save(tmp_path, "bombe.xlsx", bomb))):
        with pytest.raises(Invalid, match="anormalement compressé"):
            read()


def test_cells_far_apart_are_refused_before_the_reader_lays_them_out() -> None:
    # Read as is, XFD1048576 makes the reader allocate 17 billion cells and abort the process.
    rows_limit = "1\u202f048\u202f576 lignes.*PATRIMOINE_MAX_SPREADSHEET_ROWS"
    with pytest.raises(Invalid, match=rows_limit):
        check_workbook(hostile.far_cells_xlsx("XFD1048576"), "loin.xlsx", LIMITS)
    cells_limit = "60\u202f000 lignes sur 100 colonnes.*5\u202f000\u202f000 cellules"
    with pytest.raises(Invalid, match=cells_limit):
        read_tables(hostile.far_cells_xlsx("CV60000"), "loin.xlsx")
    check_workbook(hostile.far_cells_xlsx("CV40000"), "proche.xlsx", LIMITS)


def test_repeated_ods_cells_count_as_the_cells_they_stand_for() -> None:
    with pytest.raises(Invalid, match="100\u202f001 lignes sur 16\u202f384 colonnes"):
        read_tables(hostile.ods_repeated(100_000, 16_384), "répété.ods")
    # LibreOffice's empty rows to the end of the sheet are not cells.
    table = read_table(hostile.ods_repeated(3, 2), "petit.ods")
    assert table.headers == ["nom", "valeur"] and len(table.rows) == 3


def test_an_archive_lying_about_its_sizes_is_refused() -> None:
    lying = hostile.lying_sizes(hostile.real_xlsx(), "xl/sharedStrings.xml")
    with pytest.raises(Invalid, match="archive incohérente"):
        check_workbook(lying, "menteur.xlsx", LIMITS)


def test_a_dtd_in_a_workbook_is_refused() -> None:
    laughs = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
              b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><sst>&lol2;</sst>')
    data = hostile.with_part(hostile.real_xlsx(), "xl/sharedStrings.xml", laughs)
    with pytest.raises(Invalid, match="DTD"):
        read_table(data, "entités.xlsx")


def test_an_ordinary_workbook_passes() -> None:
    rows: list[list[object]] = [["commune", "population"]]
    rows += [[f"Commune {i}", i] for i in range(2_000)]
    data = hostile.real_xlsx(rows)
    check_workbook(data, "communes.xlsx", LIMITS)
    assert len(read_table(data, "communes.xlsx").rows) == 2_000


def test_json_nesting_is_bounded_before_parsing() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    assert json_depth(deep) == 100_000
    with pytest.raises(Invalid) as refused:
        load_json(deep, "profond.json", LIMITS)
    assert refused.value.message == (
        "Le fichier JSON « profond.json » imbrique ses valeurs sur 100\u202f000 niveaux (au "
        "plus 64, limite réglée par PATRIMOINE_MAX_JSON_DEPTH) : refusé.")
    # Brackets inside strings do not count.
    assert json_depth(b'{"a": "[[[[\\"[[", "b": [[1, 2], [3]]}') == 3
    assert load_json('{"a": "[[["}', "plat.json", LIMITS) == {"a": "[[["}


def test_json_size_and_syntax_errors_are_french() -> None:
    with pytest.raises(Invalid, match="dépasse 0.0 Mo.*PATRIMOINE_MAX_JSON_BYTES"):
        load_json(b"[1, 2, 3]", "gros.json", replace(LIMITS, max_json_bytes=5))
    with pytest.raises(Invalid, match="JSON invalide ligne 2, colonne 1"):
        load_json(b'[1,\n}', "cassé.json", LIMITS)


def test_the_personal_data_scan_refuses_deep_json(tmp_path: Path) -> None:
    path = tmp_path / "profond.json"
    path.write_text(json.dumps([{"a": 1}])[:-1] + ", " + "[" * 50_000 + "]" * 50_000 + "]")
    with pytest.raises(Invalid, match="imbrique ses valeurs sur 50\u202f001 niveaux"):
        scan_table(path)
