"""The one reader of spreadsheets and CSV files, on files shaped like those people hand in."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from pathlib import Path

import pytest

from patrimoine.core.errors import Invalid
from patrimoine.core.tabular import HeaderNames, read_table, read_tables
from tests.support import spreadsheets as sheets

ROWS = sheets.audit_rows(5)
NAMES = HeaderNames({
    "organisation": ("Collectivité", "Organisation"),
    "department": ("Direction", "Service", "Pôle"),
    "title": ("Nom du tableau de suivi", "Titre"),
    "cost": ("Coût", "Coût annuel"),
})


def test_cp1252_semicolon_csv_below_a_title_row() -> None:
    rows = [dict(ROWS[0], **{"Nom du tableau de suivi": "Élèves – œuvres “prêtées” à Noël"}),
            *ROWS[1:]]
    data = sheets.csv_text(rows, title_row=True).encode("cp1252")
    table = read_table(data, "audit.csv", NAMES)
    assert (table.format, table.encoding, table.delimiter) == ("csv", "cp1252", ";")
    assert table.sheet is None and table.recognised == 4
    assert table.header_line == 3 and table.headers == sheets.HEADERS
    assert [row.line for row in table.rows] == [4, 5, 6, 7, 8]
    assert table.rows[0].cells[2] == "Élèves – œuvres “prêtées” à Noël"


@pytest.mark.parametrize(("encoding", "delimiter", "name"), [
    ("utf-16", "\t", "utf-16"), ("utf-8-sig", ",", "utf-8-sig"), ("utf-8", "|", "utf-8")])
def test_utf16_and_byte_order_marks(encoding: str, delimiter: str, name: str) -> None:
    data = sheets.csv_text(ROWS, delimiter=delimiter).encode(encoding)
    table = read_table(data, "audit.csv", NAMES)
    assert (table.encoding, table.delimiter) == (name, delimiter)
    assert table.headers[0] == "Collectivité"  # no byte-order mark left in the first header
    assert [row.cells[:3] for row in table.rows] == [
        [r[h] for h in sheets.HEADERS[:3]] for r in ROWS]


def test_quoted_cells_may_span_lines_and_hold_the_delimiter() -> None:
    text = ('Collectivité,Nom du tableau de suivi,Description\r\n'
            'Ville,"Piscines","Fréquentation\r\nmensuelle; par bassin"\r\n'
            'Ville,"Gymnases, salles","Réservations"\r\n')
    table = read_table(text.encode("cp1252"), "a.csv", NAMES)
    assert table.delimiter == ","
    assert [row.cells for row in table.rows] == [
        ["Ville", "Piscines", "Fréquentation\r\nmensuelle; par bassin"],
        ["Ville", "Gymnases, salles", "Réservations"]]
    assert [row.line for row in table.rows] == [2, 3]  # spreadsheet rows, not text lines


def test_excel_sep_line_and_the_first_row_with_several_cells_without_names() -> None:
    data = b"sep=,\r\nListe des usagers\r\nnom,ville\r\nDurand,Troyes\r\n"
    table = read_table(data, "a.csv")
    assert table.delimiter == "," and table.header_line == 3
    assert table.headers == ["nom", "ville"] and table.rows[0] == (4, ["Durand", "Troyes"])


def test_xlsx_below_a_title_row_numbers_as_text_or_typed(tmp_path: Path) -> None:
    rows = [dict(r, **{"Coût": "1200"}) for r in ROWS]
    path = sheets.write_xlsx(tmp_path / "audit.xlsx", rows, title_row=True, odd_headers=True)
    table = read_table(path.read_bytes(), path.name, NAMES)
    assert (table.format, table.sheet, table.header_line) == ("xlsx", "Audit", 3)
    assert table.headers[:3] == ["COLLECTIVITES", "Direction/Service", "Nom du tableau de suivi"]
    assert table.rows[0].line == 4 and table.rows[0].cells[7] == "1200"
    typed = read_tables(path.read_bytes(), path.name, NAMES, typed=True)[0]
    assert typed.rows[0].cells[7] == 1200 and typed.rows[0].cells[0] == ROWS[0]["Collectivité"]


def test_ods_below_a_title_row(tmp_path: Path) -> None:
    path = sheets.write_ods(tmp_path / "audit.ods", ROWS, title_row=True, odd_headers=True)
    table = read_table(path.read_bytes(), path.name, NAMES)
    assert (table.format, table.sheet, table.header_line) == ("ods", "Audit", 3)
    assert table.headers[2] == "Nom du tableau de suivi"  # a line break inside the header
    assert len(table.rows) == 5 and table.rows[-1].line == 8


def test_the_sheet_holding_the_names_is_chosen_and_empty_columns_dropped(tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    guide = wb.active
    guide.title = "Mode d'emploi"
    guide.append(["Colonne", "Signification"])
    guide.append(["Collectivité", "le nom de la collectivité"])
    data = wb.create_sheet("Inventaire")
    data.cell(row=2, column=2, value="Collectivité")
    data.cell(row=2, column=4, value="Titre")
    data.cell(row=3, column=2, value="Ville de Troyes")
    data.cell(row=3, column=4, value="Piscines")
    data.cell(row=4, column=3, value=datetime(2024, 3, 1))
    wb.save(tmp_path / "a.xlsx")
    raw = (tmp_path / "a.xlsx").read_bytes()
    table = read_table(raw, "a.xlsx", NAMES)
    assert (table.sheet, table.header_line, table.recognised) == ("Inventaire", 2, 2)
    # Column A (no header, no value) is dropped; column C has a value, so it stays.
    assert table.headers == ["Collectivité", "", "Titre"]
    assert [row.cells for row in table.rows] == [["Ville de Troyes", "", "Piscines"],
                                                 ["", "2024-03-01", ""]]
    assert [t.sheet for t in read_tables(raw, "a.xlsx")] == ["Mode d'emploi", "Inventaire"]
    assert read_table(raw, "a.xlsx").sheet == "Mode d'emploi"  # no names: the first one


def test_header_names_prefer_the_first_name_and_read_through_brackets() -> None:
    assert NAMES.match("  DIRECTIONS ") == ("department", 0)
    assert NAMES.match("Pôle") == ("department", 2)
    assert NAMES.field("Coût annuel (en € TTC)") == "cost"
    assert NAMES.field("Coût (en €") == "cost"
    assert NAMES.field("Nb de tableaux") is None and NAMES.field("") is None


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


@pytest.mark.parametrize(("data", "name", "message"), [
    (b"", "a.csv", "est vide"),
    (b" \r\n\r\n", "a.csv", "aucune colonne"),
    (b";;\r\n;;\r\n", "a.csv", "aucune donnée"),
    (b"\x00\x01\x02\x03binaire", "a.csv", "pas un fichier texte"),
    (b"PK\x03\x04abime", "a.xlsx", "Lecture impossible du classeur « a.xlsx » : fichier endommagé"),
    (b"texte", "a.ods", "endommagé"),
    (_zip({"mimetype": "application/vnd.oasis.opendocument.text"}), "a.odt", "pas un classeur"),
    (_zip({"readme.txt": "x"}), "a.zip", "archive ZIP"),
    (_zip({"xl/workbook.xml": "<pas du xml"}), "a.xlsx", "(XLSX) : fichier endommagé"),
])
def test_unreadable_files_give_a_french_message(data: bytes, name: str, message: str) -> None:
    with pytest.raises(Invalid, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_tables(data, name)


def test_a_utf8_file_with_a_stray_byte_is_refused_with_its_line_not_read_as_cp1252() -> None:
    data = sheets.csv_text(ROWS, delimiter=";").encode("utf-8")
    lines = data.split(b"\n")
    lines[3] = lines[3].replace(b";", b"\xe9;", 1)
    with pytest.raises(Invalid) as refused:
        read_table(b"\n".join(lines), "audit.csv", NAMES)
    assert refused.value.message == (
        "Le fichier « audit.csv » est en UTF-8 sauf 1 octet(s) invalide(s) (ligne 4) : "
        "corrigez ces caractères ou enregistrez de nouveau le fichier en UTF-8.")


def test_a_cell_longer_than_the_csv_reader_accepts_is_told_in_french() -> None:
    import csv

    # The limit is the process's (the datastore's reader raises it on import): a small one
    # here, so that the test does not build a cell of the raised size.
    previous = csv.field_size_limit(131_072)
    try:
        data = ("Titre;Coût\n\"" + "x" * (131_072 + 10) + "\";3\n").encode()
        with pytest.raises(Invalid, match="a une cellule de plus de .* caractères"):
            read_table(data, "long.csv", NAMES)
    finally:
        csv.field_size_limit(previous)
