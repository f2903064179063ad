"""Reading spreadsheets and parsing French values, without a database."""

from __future__ import annotations

from decimal import Decimal

import pytest

from patrimoine.core.errors import Invalid
from patrimoine.inventory import french
from patrimoine.inventory.audit_sheet import match_header, read_spreadsheet
from patrimoine.inventory.models import Source, UpdateFrequency
from tests.support import spreadsheets as sheets

SMALL = sheets.audit_rows(12)


@pytest.mark.parametrize(("header", "field"), [
    ("Collectivité", "organisation"),
    ("  COLLECTIVITES ", "organisation"),
    ("Organisation", "organisation"),
    ("Entité", "organisation"),
    ("Direction/Service", "department"),
    ("Service", "department"),
    ("Nom du tableau\nde suivi", "title"),
    ("NOM DU TABLEAU DE SUIVI", "title"),
    ("Titre", "title"),
    ("Jeu de données", "title"),
    ("Thème", "theme"),
    ("Thématiques", "theme"),
    ("SOURCE DES DONNEES", "source"),
    ("Partage", "sharing"),
    ("Partage des données", "sharing"),
    ("Confidentialite", "confidentiality"),
    ("Coût annuel (€)", "cost_per_year"),
    ("Coût", "cost_per_year"),
    ("Fréquence MAJ", "update_frequency"),
    ("Fréquence de mise à jour", "update_frequency"),
    ("Mots clefs", "keywords"),
    ("Données personnelles", "contains_personal_data"),
    ("Niveau d'accès", "access_level"),
    ("Producteur", "producer"),
    ("Licence", "licence"),
    ("Contact", "contact_name"),
    ("Description", "description"),
    ("Nb de tbx de suivi", None),
    ("", None),
])
def test_headers_match_whatever_the_spelling(header: str, field: str | None) -> None:
    assert match_header(header) == field


@pytest.mark.parametrize(("raw", "expected"), [
    ("1 200 €", Decimal("1200.00")),
    ("1\u202f200\u00a0€", Decimal("1200.00")),
    ("1200,50", Decimal("1200.50")),
    ("1.200,50 € HT", Decimal("1200.50")),
    ("1,200.50", Decimal("1200.50")),
    ("1.200", Decimal("1200.00")),
    ("350", Decimal("350.00")),
    ("12 k€", Decimal("12000.00")),
    ("1200.5", Decimal("1200.50")),
    ("Gratuit", Decimal("0.00")),
    ("0", Decimal("0.00")),
    ("", None),
    ("NC", None),
    ("À définir", None),
    ("-", None),
])
def test_costs_in_french(raw: str, expected: Decimal | None) -> None:
    assert french.cost(raw) == expected


@pytest.mark.parametrize("raw", ["beaucoup", "12 et 13", "-50 €"])
def test_unreadable_costs(raw: str) -> None:
    with pytest.raises(french.Unreadable):
        french.cost(raw)


@pytest.mark.parametrize(("raw", "expected"), [
    ("Interne", (Source.INTERNAL, None)),
    ("Externe", (Source.EXTERNAL, None)),
    ("Interne/Externe", (Source.BOTH, None)),
    ("interne / externe", (Source.BOTH, None)),
    ("Externe (Ecovélo)", (Source.EXTERNAL, "Ecovélo")),
    ("Externe - Engie", (Source.EXTERNAL, "Engie")),
    ("", (None, None)),
])
def test_sources(raw: str, expected: tuple[Source | None, str | None]) -> None:
    assert french.source(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("Mensuelle", UpdateFrequency.MONTHLY),
    ("mensuel", UpdateFrequency.MONTHLY),
    ("Tous les mois", UpdateFrequency.MONTHLY),
    ("Annuelle (janvier)", UpdateFrequency.ANNUAL),
    ("1 fois par an", UpdateFrequency.ANNUAL),
    ("Au fil de l'eau", UpdateFrequency.CONTINUOUS),
    ("Hebdo", UpdateFrequency.WEEKLY),
    ("Mise à jour mensuelle", UpdateFrequency.MONTHLY),
    ("Une fois par jour", UpdateFrequency.DAILY),
    ("", UpdateFrequency.UNKNOWN),
    ("À définir", UpdateFrequency.UNKNOWN),
])
def test_frequencies(raw: str, expected: UpdateFrequency) -> None:
    assert french.frequency(raw) == expected


def test_unknown_frequency_is_an_error() -> None:
    with pytest.raises(french.Unreadable, match="Fréquence « parfois » non reconnue"):
        french.frequency("parfois")


@pytest.mark.parametrize(("encoding", "delimiter"), [
    ("cp1252", ";"), ("utf-8-sig", ","), ("utf-8", "\t"), ("utf-8", "|"), ("latin-1", ";"),
    ("utf-16", "\t"),
])
def test_csv_in_any_common_encoding_and_delimiter(encoding: str, delimiter: str) -> None:
    text = sheets.csv_text(SMALL, delimiter=delimiter)
    if encoding == "latin-1":  # it has no euro sign nor dashes
        text = text.replace("€", "EUR").replace("–", "-")
    data = text.encode(encoding)
    table = read_spreadsheet(data, "audit.csv")
    assert table.format == "csv" and table.delimiter == delimiter
    assert table.headers == sheets.HEADERS
    assert len(table.rows) == 12
    assert table.rows[0][0] == 2
    assert table.rows[0][1][:3] == [SMALL[0][h] for h in sheets.HEADERS[:3]]


def test_cp1252_accents_survive() -> None:
    rows = [dict(SMALL[0], **{"Nom du tableau de suivi": "Élèves – œuvres “prêtées” à Noël"})]
    table = read_spreadsheet(sheets.csv_text(rows).encode("cp1252"), "audit.csv")
    assert table.encoding in ("cp1252", "iso8859_15")
    assert table.rows[0][1][2] == "Élèves – œuvres “prêtées” à Noël"


def test_header_row_found_below_a_title_row(tmp_path) -> None:  # type: ignore[no-untyped-def]
    for path in (tmp_path / "a.xlsx", tmp_path / "a.ods", tmp_path / "a.csv"):
        sheets.write_audit(path, SMALL, title_row=True, odd_headers=True)
        table = read_spreadsheet(path.read_bytes(), path.name)
        assert table.header_line == 3, path
        assert table.headers[0] == "COLLECTIVITES"
        assert table.rows[0][0] == 4
        assert len(table.rows) == 12
        assert table.format == path.suffix[1:]


def test_numbers_from_workbooks_are_plain_text(tmp_path) -> None:  # type: ignore[no-untyped-def]
    rows = [dict(SMALL[0], **{"Coût": "1200"})]
    for path in (tmp_path / "a.xlsx", tmp_path / "a.ods"):
        sheets.write_audit(path, rows)
        table = read_spreadsheet(path.read_bytes(), path.name)
        assert table.rows[0][1][7] == "1200"


@pytest.mark.parametrize(("data", "name", "message"), [
    (b"", "vide.csv", "est vide"),
    (b"   \n\n", "vide.csv", "est vide"),
    (b"PK\x03\x04garbage", "a.xlsx", "endommagé"),
    (b"\x00\x01\x02\x03binary", "a.csv", "ni un classeur"),
    (b"not really a workbook", "a.xlsx", "endommagé"),
])
def test_unreadable_files_give_a_french_message(data: bytes, name: str, message: str) -> None:
    with pytest.raises(Invalid, match=message):
        read_spreadsheet(data, name)


def test_excel_sep_hint_line_is_honoured() -> None:
    data = ("sep=;\r\n" + sheets.csv_text(SMALL[:2])).encode("cp1252")
    table = read_spreadsheet(data, "audit.csv")
    assert table.delimiter == ";" and table.header_line == 2
    assert [line for line, _ in table.rows] == [3, 4]


def test_the_generator_follows_the_troyes_audit_and_is_deterministic() -> None:
    from collections import Counter

    rows = sheets.audit_rows()
    assert len(rows) == 653 and rows == sheets.audit_rows()
    for column, expected in (("Collectivité", sheets.ORGANISATIONS),
                             ("Direction", sheets.DIRECTIONS), ("Thématique", sheets.THEMES),
                             ("Partage des données", sheets.SHARING),
                             ("Confidentialité des données", sheets.CONFIDENTIALITY)):
        assert Counter(r[column] for r in rows) == expected, column
    sources = Counter(r["Source des données"].split(" (")[0] for r in rows)
    assert sources == sheets.SOURCES
    assert all(r["Direction"] == "CMAS (Direction Générale)"
               for r in rows if r["Collectivité"] == "C.M.A.S.")


def test_merged_cells_give_their_value_to_every_row(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Collectivité", "Direction", "Nom du tableau de suivi"])
    ws.append(["Ville de Troyes", "Sports", "Piscines"])
    ws.append([None, None, "Gymnases"])
    ws.append(["C.M.A.S.", "CMAS (Direction Générale)", "Aides"])
    ws.merge_cells("A2:A3")
    ws.merge_cells("B2:B3")
    wb.save(tmp_path / "merged.xlsx")
    table = read_spreadsheet((tmp_path / "merged.xlsx").read_bytes(), "merged.xlsx")
    assert [cells for _, cells in table.rows] == [
        ["Ville de Troyes", "Sports", "Piscines"], ["Ville de Troyes", "Sports", "Gymnases"],
        ["C.M.A.S.", "CMAS (Direction Générale)", "Aides"]]
