"""CSV files as French administrations really produce them: encodings, delimiters, decimal
commas, thousands separators, dates, booleans, title rows, odd headers, ragged rows."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from patrimoine.bootstrap import Services
from patrimoine.core.errors import Invalid
from patrimoine.datastore.ingest import sniff
from patrimoine.datastore.versions import latest_version
from patrimoine.inventory.models import Dataset
from tests.factories import (
    columns,
    load,
    new_dataset,
    parquet_types,
    rows,
    write,
)

FRENCH = (
    "Code INSEE;Commune;Montant (€);Population;Date de signature;Versé le;Actif;Horodatage\n"
    "01053;Bourg-en-Bresse;1 234,50;41\u202f248;05/03/2023;2023-04-01;oui;05/03/2023 14:30\n"
    "2A004;Ajaccio;12\u00a0000;1.234;31/12/2022;;non;01/01/2023 08:00:15\n"
    "10387;Troyes;-0,75;61 000;01/01/2024;2024-02-29;oui;\n"
)


@pytest.fixture
def dataset(services: Services) -> Dataset:
    return new_dataset(services)


def test_french_csv_is_typed_and_stored(services: Services, dataset: Dataset,
                                        tmp_path: Path) -> None:
    version = load(services, dataset, write(tmp_path, "subventions.csv", FRENCH))
    assert version.number == 1 and version.row_count == 3
    assert columns(version) == {
        "code_insee": "string", "commune": "string", "montant": "number",
        "population": "integer", "date_de_signature": "date", "verse_le": "date",
        "actif": "boolean", "horodatage": "datetime",
    }
    assert version.columns[2]["source_name"] == "Montant (€)"
    assert parquet_types(services, version) == {
        "_row": "BIGINT", "code_insee": "VARCHAR", "commune": "VARCHAR", "montant": "DOUBLE",
        "population": "BIGINT", "date_de_signature": "DATE", "verse_le": "DATE",
        "actif": "BOOLEAN", "horodatage": "TIMESTAMP",
    }
    data = rows(services, version)
    assert [r["_row"] for r in data] == [1, 2, 3]
    assert data[0]["code_insee"] == "01053"  # leading zero kept: a code, not a number
    assert [r["montant"] for r in data] == [1234.5, 12000.0, -0.75]
    # narrow no-break space, dot and space as thousands separators
    assert [r["population"] for r in data] == [41248, 1234, 61000]
    assert data[0]["date_de_signature"] == date(2023, 3, 5)
    assert data[1]["verse_le"] is None and data[2]["verse_le"] == date(2024, 2, 29)
    assert [r["actif"] for r in data] == [True, False, True]
    assert data[1]["horodatage"] == datetime(2023, 1, 1, 8, 0, 15)
    assert data[2]["horodatage"] is None
    settings = version.ingest_settings
    assert settings["encoding"] == "utf-8" and settings["delimiter"] == ";"
    assert settings["decimal"] == ","
    assert version.source_filename == "subventions.csv" and version.source_format == "csv"


def test_sniff_shows_settings_types_samples_and_first_rows(tmp_path: Path) -> None:
    plan = sniff(write(tmp_path, "s.csv", FRENCH))
    assert (plan.format, plan.encoding, plan.delimiter, plan.decimal) == ("csv", "utf-8", ";", ",")
    assert plan.header_row == 1
    montant = next(c for c in plan.columns if c.name == "montant")
    assert montant.type == "number" and montant.source_name == "Montant (€)"
    assert montant.sample[:2] == ["1 234,50", "12\u00a0000"]
    assert plan.first_rows[0][:2] == ["01053", "Bourg-en-Bresse"]
    assert plan.problems == []
    assert plan.as_dict()["columns"][0]["name"] == "code_insee"


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp1252", "latin-1"])
def test_encodings(services: Services, dataset: Dataset, tmp_path: Path, encoding: str) -> None:
    text = "nom;ville\nL'Haÿ-les-Roses;Évry\nÇa;Orléans\n"
    if encoding == "cp1252":
        text += "Œuvre l’été;5 €\n"
    path = write(tmp_path, "e.csv", text, encoding)
    plan = sniff(path)
    assert plan.encoding == {"latin-1": "cp1252"}.get(encoding, encoding)
    version = load(services, dataset, path)
    data = rows(services, version)
    assert data[0]["nom"] == "L'Haÿ-les-Roses" and data[1]["ville"] == "Orléans"
    assert list(columns(version)) == ["nom", "ville"]  # the BOM is not part of the name
    if encoding == "cp1252":
        assert data[2] == {"_row": 3, "nom": "Œuvre l’été", "ville": "5 €"}


def test_encoding_override(services: Services, dataset: Dataset, tmp_path: Path) -> None:
    path = write(tmp_path, "e.csv", "nom\nÉlise\n", "latin-1")
    version = load(services, dataset, path, {"encoding": "latin-1"})
    assert rows(services, version)[0]["nom"] == "Élise"
    assert version.ingest_settings["encoding"] == "iso8859-1"  # the codec's own name


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiters(services: Services, dataset: Dataset, tmp_path: Path,
                    delimiter: str) -> None:
    body = "\n".join(delimiter.join(r) for r in [
        ["nom", "montant", "quand"], ["a", "1.5", "2024-01-02"], ["b", "2", "2024-01-03"],
        ['"c, d; e | f"', "3.25", "2024-01-04"]]) + "\n"
    path = write(tmp_path, "d.tsv" if delimiter == "\t" else "d.csv", body)
    assert sniff(path).delimiter == delimiter
    version = load(services, dataset, path)
    assert columns(version) == {"nom": "string", "montant": "number", "quand": "date"}
    assert rows(services, version)[2]["nom"] == "c, d; e | f"


def test_delimiter_and_header_overrides(services: Services, dataset: Dataset,
                                        tmp_path: Path) -> None:
    path = write(tmp_path, "o.csv", "a|b\n1|2\n")
    version = load(services, dataset, path, {"delimiter": ";", "header_row": 0})
    assert columns(version) == {"colonne_1": "string"}
    assert [r["colonne_1"] for r in rows(services, version)] == ["a|b", "1|2"]


def test_title_rows_above_the_header(services: Services, dataset: Dataset,
                                     tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv",
                 "Subventions versées en 2023;;\nSource : direction des finances;;\n\n"
                 "Bénéficiaire;Montant;Date\nClub;100,5;01/02/2023\nChorale;20;03/04/2023\n")
    plan = sniff(path)
    assert plan.header_row == 4
    assert plan.title_rows == ["Subventions versées en 2023", "Source : direction des finances"]
    assert "ligne(s) de titre" in plan.problems[0]
    version = load(services, dataset, path)
    assert columns(version) == {"beneficiaire": "string", "montant": "number", "date": "date"}
    assert [r["montant"] for r in rows(services, version)] == [100.5, 20.0]
    # the user may point at another header line
    plan = sniff(path, {"header_row": 5})
    assert [c.source_name for c in plan.columns] == ["Club", "100,5", "01/02/2023"]


def test_labels_under_a_header_of_codes(services: Services, dataset: Dataset,
                                        tmp_path: Path) -> None:
    # INSEE's CSV files: title rows, a row of variable codes, then a row of their labels.
    path = write(tmp_path, "insee.csv",
                 '"Revenus fiscaux (2008)",,,\n,,,\n"REG","dc","nom","NbMen"\n'
                 '"Code région","Code commune","Nom de la zone","Ménages fiscaux "\n'
                 '"91","34057","Castelnau-le-Lez","6060,5"\n"91","34172","Montpellier",108561\n')
    plan = sniff(path)
    assert plan.header_row == 3
    assert any("Deux lignes d'en-tête (lignes 3 et 4)" in p and "NbMen = « Ménages fiscaux »" in p
               for p in plan.problems)
    version = load(services, dataset, path)
    assert version.row_count == 2
    assert columns(version)["nbmen"] == "number"
    assert [r["nbmen"] for r in rows(services, version)] == [6060.5, 108561.0]


def test_a_first_data_row_of_words_stays_data(services: Services, dataset: Dataset,
                                              tmp_path: Path) -> None:
    path = write(tmp_path, "w.csv", "REG;nom;montant\nn.c.;Total;n.c.\n91;Lattes;12\n")
    version = load(services, dataset, path)
    assert version.row_count == 2 and columns(version)["montant"] == "string"


def test_titles_broken_over_bare_line_feeds_are_refused_with_lines(
        services: Services, dataset: Dataset, tmp_path: Path) -> None:
    # Ville de Montpellier's délibérations (UTF-16, records ended by CRLF): titles hold
    # unquoted line feeds, so most physical lines have one field and no delimiter wins.
    body = ("2012-06-25;Mise a disposition\nAutorisation de signer\nApprobation;0000056204;\r\n"
            "2012-06-25;Mandat special;0000056207;\r\n"
            "2012-06-25;Attribution\na l association\nExercice 2012;0000056209;\r\n")
    path = write(tmp_path, "delibs.txt", body, encoding="utf-16")
    assert sniff(path).delimiter == ";"
    with pytest.raises(Invalid) as caught:
        load(services, dataset, path)
    assert caught.value.message.startswith("delibs.txt, ligne 1 : 2 champs")


def test_comma_separated_records_with_a_semicolon_tail(services: Services, dataset: Dataset,
                                                       tmp_path: Path) -> None:
    # Département de la Vendée's subventions: every line ends with `;;` after its commas, and
    # unquoted decimal commas split amounts: refused with the lines, never read as one column.
    path = write(tmp_path, "vendee.csv",
                 "nomAttribuant,idAttribuant,objet,montant;;\n"
                 "Vendée,22850001300658,festival,46\u00a0600,00;;\n"
                 "Vendée,22850001300658,salon,39\u00a0000,00;;\n"
                 "Vendée,22850001300658,musique,1500;;\n")
    plan = sniff(path)
    assert plan.delimiter == ","
    assert any(p.startswith("Ligne 2 : 5 champs") for p in plan.problems)
    with pytest.raises(Invalid, match=r"vendee\.csv, ligne 2 : 5 champs alors que l'en-tête "
                                      r"en compte 4"):
        load(services, dataset, path)


def test_duplicated_and_blank_headers(services: Services, dataset: Dataset,
                                      tmp_path: Path) -> None:
    path = write(tmp_path, "h.csv", "Nom;nom;;Montant;Montant;\nA;B;C;1;2;x\n")
    version = load(services, dataset, path)
    assert [(c["name"], c["source_name"]) for c in version.columns] == [
        ("nom", "Nom"), ("nom_2", "nom"), ("colonne_3", ""), ("montant", "Montant"),
        ("montant_2", "Montant"), ("colonne_6", ""),
    ]
    assert rows(services, version)[0]["nom_2"] == "B"


def test_short_rows_are_padded_and_reported(services: Services, dataset: Dataset,
                                            tmp_path: Path) -> None:
    path = write(tmp_path, "r.csv", "a;b;c\n1;2;3\n4;5\n6\n")
    plan = sniff(path)
    assert plan.pad_short_rows
    assert any("plus courtes" in p and "3, 4" in p for p in plan.problems)
    version = load(services, dataset, path)
    assert [(r["a"], r["b"], r["c"]) for r in rows(services, version)] == [
        (1, 2, 3), (4, 5, None), (6, None, None)]
    assert version.ingest_settings["pad_short_rows"] is True


def test_short_rows_beyond_the_sample_are_padded_too(services: Services, dataset: Dataset,
                                                     tmp_path: Path) -> None:
    body = "a;b\n" + "une valeur assez longue;1\n" * 60_000 + "y\n"
    path = write(tmp_path, "late.csv", body)
    assert not sniff(path).pad_short_rows  # the sample ends before the short row
    version = load(services, dataset, path)
    assert version.row_count == 60_001
    assert version.ingest_settings["pad_short_rows"] is True


def test_long_row_is_refused_with_its_line(services: Services, dataset: Dataset,
                                          tmp_path: Path) -> None:
    path = write(tmp_path, "long.csv", "a;b\n1;2\n3;4;5\n")
    assert any("Ligne 3 : 3 champs" in p for p in sniff(path).problems)
    with pytest.raises(Invalid) as caught:
        load(services, dataset, path)
    assert caught.value.message == "long.csv, ligne 3 : 3 champs alors que l'en-tête en compte 2."


def test_unterminated_quote(services: Services, dataset: Dataset, tmp_path: Path) -> None:
    path = write(tmp_path, "q.csv", 'a;b\n1;"2\n3;4\n')
    with pytest.raises(Invalid, match=r"q\.csv, ligne 2 : un guillemet ouvert"):
        load(services, dataset, path)


def test_empty_strings_nulls_and_blank_lines(services: Services, dataset: Dataset,
                                            tmp_path: Path) -> None:
    path = write(tmp_path, "n.csv", 'nom;commentaire;n\n"";;1\nA;"";\n\n;;\nB; ;  \n')
    version = load(services, dataset, path)
    data = rows(services, version)
    assert version.row_count == 3  # the blank line and the line of empty cells are skipped
    # quoted empty: empty string; unquoted empty: null; typed columns: empty and blank are null
    assert [(r["nom"], r["commentaire"], r["n"]) for r in data] == [
        ("", None, 1), ("A", "", None), ("B", " ", None)]


def test_bad_value_with_type_override_is_precise(services: Services, dataset: Dataset,
                                                tmp_path: Path) -> None:
    first = load(services, dataset, write(tmp_path, "v1.csv", "code;montant\nA;1\n"))
    path = write(tmp_path, "v2.csv", "code;montant\nA;1\nB;2,5\nC;beaucoup\nD;3\n")
    with pytest.raises(Invalid) as caught:
        load(services, dataset, path, {"types": {"montant": "number"}})
    assert caught.value.message == (
        "v2.csv, ligne 4, colonne « montant » : la valeur « beaucoup » n'est pas du type "
        "attendu (nombre décimal). Corrigez la valeur ou chargez cette colonne comme texte.")
    with services.db.unit_of_work() as session:
        entry = session.get(Dataset, dataset.id)
        assert entry is not None
        latest = latest_version(session, entry)
        assert latest is not None and latest.id == first.id
    assert rows(services, first) == [{"_row": 1, "code": "A", "montant": 1}]


def test_bad_value_after_the_sample(services: Services, dataset: Dataset,
                                    tmp_path: Path) -> None:
    path = write(tmp_path, "late.csv", "n\n" + "1\n" * 30_000 + "1,5x\n")
    with pytest.raises(Invalid) as caught:
        load(services, dataset, path)
    assert "late.csv, ligne 30002, colonne « n » : la valeur « 1,5x »" in caught.value.message
    assert "(entier)" in caught.value.message


def test_type_overrides(services: Services, dataset: Dataset, tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", "code;prix;quand;ok\n75001;1,5;01/02/2024;oui\n")
    version = load(services, dataset, path, {
        "types": {"code": "string", "Prix": "string", "quand": "string", "ok": "string"}})
    assert set(columns(version).values()) == {"string"}
    assert rows(services, version)[0]["prix"] == "1,5"
    version = load(services, dataset, path, {"types": {"code": "number", "quand": "datetime"}})
    assert columns(version)["code"] == "number" and columns(version)["quand"] == "datetime"
    assert rows(services, version)[0]["quand"] == datetime(2024, 2, 1)
    assert version.ingest_settings["overrides"] == {"code": "number", "quand": "datetime"}


def test_unknown_override_column_or_type(services: Services, dataset: Dataset,
                                         tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", "a\n1\n")
    with pytest.raises(Invalid,
                       match="Colonne\\(s\\) inconnue\\(s\\).*zzz.*Colonnes du fichier : a"):
        load(services, dataset, path, {"types": {"zzz": "string"}})
    with pytest.raises(Invalid) as caught:
        load(services, dataset, path, {"types": {"a": "entier"}})
    assert "type inconnu « entier »" in caught.value.errors[0]


def test_positions_from_lat_lon_columns(services: Services, dataset: Dataset,
                                        tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", "nom;Latitude;Longitude\nA;48,85;2,35\nB;45,76;4,83\n")
    version = load(services, dataset, path)
    assert version.positions == {"lat": "latitude", "lon": "longitude"}
    assert rows(services, version)[1]["longitude"] == 4.83


def test_empty_and_missing_files(services: Services, dataset: Dataset, tmp_path: Path) -> None:
    with pytest.raises(Invalid, match="vide"):
        load(services, dataset, write(tmp_path, "vide.csv", ""))
    with pytest.raises(Invalid, match="introuvable"):
        load(services, dataset, tmp_path / "absent.csv")
    version = load(services, dataset, write(tmp_path, "entete.csv", "a;b\n"))
    assert version.row_count == 0 and columns(version) == {"a": "string", "b": "string"}


def test_identifier_columns_stay_text(services: Services, dataset: Dataset,
                                      tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", "Code postal;SIRET;Téléphone;Nombre\n75001;21100387400017;"
                                    "325000000;3\n")
    version = load(services, dataset, path)
    assert columns(version) == {"code_postal": "string", "siret": "string",
                                "telephone": "string", "nombre": "integer"}
    assert rows(services, version)[0]["siret"] == "21100387400017"


def test_windows_line_endings(services: Services, dataset: Dataset, tmp_path: Path) -> None:
    version = load(services, dataset, write(tmp_path, "crlf.csv", "nom;n\r\nA;1,5\r\nB;2\r\n"))
    assert [(r["nom"], r["n"]) for r in rows(services, version)] == [("A", 1.5), ("B", 2.0)]


def test_mixed_line_endings_are_read_as_python_csv_reads_them(
        services: Services, dataset: Dataset, tmp_path: Path) -> None:
    # An LF file with a CRLF line in the middle, a multi-line cell and a blank CRLF line at
    # the end (as the diagnostiqueurs annuaire of the corpus): DuckDB alone refuses it
    # without naming a line, and its lenient mode would drop fields of long rows.
    body = ('"nom";"note";"n"\n"A";"deux\r\nlignes";"1"\r\n"B";"x";"2"\n'
            + '"C";"y";"3"\n' * 70_000 + "\n\r\n")
    path = tmp_path / "melange.csv"
    path.write_bytes(body.encode())
    assert "Fins de ligne mélangées" in " ".join(sniff(path).problems)
    version = load(services, dataset, path)
    data = rows(services, version)
    assert len(data) == 70_002 == version.ingest_settings["records_read"]
    assert [(r["nom"], r["note"], r["n"]) for r in data[:3]] == [
        ("A", "deux\nlignes", 1), ("B", "x", 2), ("C", "y", 3)]
    # The same beyond the sniffed start: only the blank CRLF line at the end mixes them.
    late = tmp_path / "fin.csv"
    late.write_bytes(('"nom";"n"\n' + '"C";"3"\n' * 200_000 + "\n\r\n").encode())
    assert not any("Fins de ligne" in p for p in sniff(late).problems)
    version = load(services, new_dataset(services, "Fin"), late)
    assert version.row_count == 200_000 == version.ingest_settings["records_read"]
    # A lone CR (an old Mac line end) among LF ends, as Python's csv reads it: a line end.
    cr = write(tmp_path, "cr.csv", "nom;n\nA;1\rB;2\nC;3\n")
    version = load(services, new_dataset(services, "CR"), cr)
    assert [(r["nom"], r["n"]) for r in rows(services, version)] == [("A", 1), ("B", 2),
                                                                      ("C", 3)]


def test_utf8_file_with_a_stray_cp1252_byte(services: Services, dataset: Dataset,
                                            tmp_path: Path) -> None:
    # A stray byte is read as « \ufffd » and its line reported with the version; every other
    # accented letter stays right (read as cp1252, all of them would change).
    head = "nom;ville\n" + "Élodie;Orléans\n" * 80_000  # more than the sniffed start
    path = tmp_path / "melange.csv"
    path.write_bytes(head.encode() + "Hélène;Troyes\n".encode("cp1252"))
    assert sniff(path).encoding == "utf-8"
    version = load(services, dataset, path)
    assert version.ingest_settings["invalid_utf8"] == {"bytes": 2, "lines": [80002]}
    data = rows(services, version)
    assert data[0]["nom"] == "Élodie" and data[-1]["nom"] == "H\ufffdl\ufffdne"


def test_byte_impossible_in_the_chosen_encoding(services: Services, dataset: Dataset,
                                               tmp_path: Path) -> None:
    path = tmp_path / "cp.csv"
    path.write_bytes(b"nom\nA\n\x81B\n")
    with pytest.raises(Invalid) as caught:
        load(services, dataset, path, {"encoding": "cp1252"})
    assert caught.value.message == ("cp.csv, ligne 3 : octet 0x81 impossible à lire dans "
                                    "l'encodage cp1252. Précisez le bon encodage.")


def test_row_ids_follow_the_file_order_across_row_groups(services: Services, dataset: Dataset,
                                                         tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from patrimoine.datastore.versions import version_path

    n = 300_000
    path = write(tmp_path, "ordre.csv", "id;v\n" + "".join(f"{i};{i % 7},5\n"
                                                          for i in range(1, n + 1)))
    version = load(services, dataset, path)
    file = pq.ParquetFile(version_path(services.settings, version))
    assert file.metadata.num_row_groups == 3
    assert file.metadata.row_group(0).num_rows == 122_880
    table = file.read(columns=["_row", "id"])
    assert table.column("_row").to_pylist() == table.column("id").to_pylist()
    assert table.column("_row").to_pylist()[-1] == n


def test_boolean_words_and_iso_datetimes(services: Services, dataset: Dataset,
                                         tmp_path: Path) -> None:
    path = write(tmp_path, "b.csv",
                 "a;b;c;iso;utc;jour\n"
                 "Vrai;TRUE;oui;2024-03-01T10:15:00;2024-03-01T10:15:00+01:00;1.2.2024\n"
                 "faux;false;NON;2024-03-02 08:00;2024-03-02T08:00:00Z;29.02.2024\n")
    version = load(services, dataset, path)
    assert columns(version) == {"a": "boolean", "b": "boolean", "c": "boolean",
                                "iso": "datetime", "utc": "datetime", "jour": "date"}
    data = rows(services, version)
    assert [(r["a"], r["b"], r["c"]) for r in data] == [(True, True, True), (False, False, False)]
    assert data[0]["iso"] == datetime(2024, 3, 1, 10, 15)
    assert data[0]["utc"] == datetime(2024, 3, 1, 9, 15)  # converted to UTC
    assert data[1]["utc"] == datetime(2024, 3, 2, 8, 0)
    assert data[1]["jour"] == date(2024, 2, 29)


def test_positions_from_a_lat_lon_pair_column(services: Services, dataset: Dataset,
                                              tmp_path: Path) -> None:
    path = write(tmp_path, "ods.csv", 'nom;geo_point_2d\nA;"48.8566, 2.3522"\nB;\nC;45.76,4.83\n')
    assert sniff(path).first_rows[0] == ["A", "48.8566, 2.3522", 48.8566, 2.3522]
    version = load(services, dataset, path)
    assert columns(version) == {"nom": "string", "geo_point_2d": "string",
                                "latitude": "number", "longitude": "number"}
    assert version.columns[2]["source_name"] == "geo_point_2d"
    assert version.positions == {"lat": "latitude", "lon": "longitude"}
    data = rows(services, version)
    assert [(r["latitude"], r["longitude"]) for r in data] == [
        (48.8566, 2.3522), (None, None), (45.76, 4.83)]
