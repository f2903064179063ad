"""Files read for `patrimoine protection scan`: encodings, delimiters, sheets, JSON shapes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from patrimoine.core.errors import Invalid
from patrimoine.protection.reader import read_table, read_tables


def test_windows_1252_csv_with_semicolons(tmp_path: Path) -> None:
    path = tmp_path / "usagers.csv"
    path.write_bytes("prénom;ville\nÉlodie;Orléans\nJérôme;Rezé\n".encode("cp1252"))
    table = read_table(path)
    assert table.columns == ["prénom", "ville"]
    assert table.rows == [["Élodie", "Orléans"], ["Jérôme", "Rezé"]]


def test_utf8_bom_csv_with_commas_quotes_and_duplicate_headers(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes('\ufeffnom,nom,\n"Dupont, Jean",a,b\n\n'.encode())
    table = read_table(path)
    assert table.columns == ["nom", "nom_2", "colonne_3"]
    assert table.rows == [["Dupont, Jean", "a", "b"]]


def test_workbook_sheets_keep_their_names(tmp_path: Path) -> None:
    import xlsxwriter

    path = tmp_path / "c.xlsx"
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("Vide")
    sheet = book.add_worksheet("Inscrits")
    sheet.write_row(0, 0, ["nom", "age"])
    sheet.write_row(1, 0, ["Durand", 42])
    book.close()
    tables = read_tables(path)
    assert [(t.sheet, t.columns) for t in tables] == [("Inscrits", ["nom", "age"])]
    assert tables[0].rows[0][0] == "Durand" and tables[0].rows[0][1] == 42


def test_json_shapes(tmp_path: Path) -> None:
    records = tmp_path / "a.json"
    records.write_text(json.dumps({"results": [{"nom": "Durand", "contact": {"tel": "0612"}}]}))
    table = read_table(records)
    assert table.columns == ["nom", "contact.tel"] and table.rows == [["Durand", "0612"]]
    geo = tmp_path / "b.geojson"
    geo.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"nom": "Stade"},
         "geometry": {"type": "Point", "coordinates": [1.90932, 47.90291]}}]}))
    assert read_table(geo).rows == [["Stade", "47.90291, 1.90932"]]
    lines = tmp_path / "c.jsonl"
    lines.write_text('{"a": 1}\n{"b": 2}\n')
    assert read_table(lines).columns == ["a", "b"]


@pytest.mark.parametrize(("name", "content", "message"), [
    ("absent.csv", None, "Fichier introuvable"),
    ("vide.csv", b"", "aucune colonne"),
    ("x.json", b"{ pas du json", "JSON invalide ligne 1, colonne 3"),
    ("x.pdf", b"%PDF", "Format non pris en charge"),
    ("x.xlsx", b"PK\x03\x04 abime", "Lecture impossible"),
    ("x.csv", b"\x00\x01\x02", "pas un fichier texte"),
])
def test_unreadable_files_give_french_messages(tmp_path: Path, name: str,
                                               content: bytes | None, message: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(Invalid) as caught:
        read_table(path)
    assert message in caught.value.message
