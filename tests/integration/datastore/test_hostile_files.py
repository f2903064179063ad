"""Hostile and odd files loaded as a new version: refused with a French message (the previous
version intact), or read correctly; never a wrong reading, never an English DuckDB message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from patrimoine.bootstrap import Services
from patrimoine.core.errors import Invalid
from patrimoine.datastore.ingest import sniff
from patrimoine.datastore.versions import latest_version
from patrimoine.inventory.models import Dataset
from tests.factories import load, new_dataset, rows, write
from tests.support import hostile

NANTES = Path(__file__).parents[2] / "data" / "nantes-cantines"  # tests/data/nantes-cantines


@pytest.fixture
def dataset(services: Services) -> Dataset:
    entry = new_dataset(services)
    load(services, entry, write(Path(services.settings.data_dir), "v1.csv", "nom;valeur\na;1\n"))
    return entry


def _refused(services: Services, dataset: Dataset, path: Path) -> str:
    with pytest.raises(Invalid) as refused:
        load(services, dataset, path)
    with services.db.unit_of_work() as session:
        latest = latest_version(session, session.get(Dataset, dataset.id))  # type: ignore[arg-type]
        assert latest is not None and latest.number == 1
        assert rows(services, latest) == [{"_row": 1, "nom": "a", "valeur": 1}]
    message = refused.value.message
    assert "Error" not in message and "/" not in message.replace(" / ", "")
    return message


# ---------------------------------------------------------------------------------- workbooks


def test_a_shared_string_bomb_is_refused_and_the_previous_version_kept(
        services: Services, dataset: Dataset, tmp_path: Path) -> None:
    path = hostile.save(tmp_path, "bombe.xlsx", hostile.shared_string_bomb(400))
    message = _refused(services, dataset, path)
    assert message.startswith("Le classeur « bombe.xlsx » est anormalement compressé")
    with pytest.raises(Invalid, match="anormalement compressé"):
        sniff(path)


def test_cells_far_apart_are_refused(services: Services, dataset: Dataset,
                                     tmp_path: Path) -> None:
    path = hostile.save(tmp_path, "loin.xlsx", hostile.far_cells_xlsx("CV60000"))
    assert "PATRIMOINE_MAX_SPREADSHEET_CELLS" in _refused(services, dataset, path)


def test_the_operator_sets_the_workbook_limits(services: Services, dataset: Dataset,
                                               tmp_path: Path) -> None:
    data = hostile.real_xlsx([["nom", "valeur"], *[[f"n{i}", i] for i in range(50)]])
    path = hostile.save(tmp_path, "moyen.xlsx", data)
    services.settings.max_spreadsheet_rows = 20
    assert "au plus 20, limite réglée par PATRIMOINE_MAX_SPREADSHEET_ROWS" in _refused(
        services, dataset, path)
    services.settings.max_spreadsheet_rows = 1_000_000
    assert load(services, dataset, path).row_count == 50


# ---------------------------------------------------------------------------------- JSON


def test_deep_geojson_is_refused_in_french(services: Services, dataset: Dataset,
                                           tmp_path: Path) -> None:
    deep = ('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
            '{"a": ' + "[" * 100_000 + "]" * 100_000 + '}, "geometry": null}]}')
    message = _refused(services, dataset, write(tmp_path, "profond.geojson", deep))
    assert "imbrique ses valeurs sur 100\u202f004 niveaux" in message


def test_deep_and_malformed_json_read_by_duckdb_are_told_in_french(
        services: Services, dataset: Dataset, tmp_path: Path) -> None:
    deep = '[{"a": ' + "[" * 100_000 + "]" * 100_000 + "}]"
    assert _refused(services, dataset, write(tmp_path, "profond.json", deep)) == (
        "profond.json : fichier JSON imbriqué sur plus de 128 niveaux.")
    broken = write(tmp_path, "cassé.json", '[{"a": 1}, {"a": 2,,}]')
    assert _refused(services, dataset, broken) == (
        "cassé.json : fichier JSON invalide à l'octet 9 de l'enregistrement 3 "
        "(caractère inattendu).")
    not_parquet = write(tmp_path, "faux.parquet", "PAR1 ceci n'est pas un fichier Parquet")
    assert _refused(services, dataset, not_parquet) == (
        "faux.parquet : fichier Parquet endommagé ou d'un autre format.")


# ---------------------------------------------------------------------------------- long fields


def test_a_45_mb_field_in_the_only_row_is_read(services: Services, dataset: Dataset,
                                              tmp_path: Path) -> None:
    big = "é" + "x" * 45_000_000
    path = write(tmp_path, "long.csv", f"nom;valeur\n{big};2\n")
    assert sniff(path).first_rows[0][1] == "2"
    version = load(services, dataset, path)
    assert version.row_count == 1
    [row] = rows(services, version)
    assert row["nom"] == big and row["valeur"] == 2


def test_a_long_field_among_many_rows_is_read(services: Services, dataset: Dataset,
                                             tmp_path: Path) -> None:
    lines = [f"n{i};{i}" for i in range(2_000)]
    lines[1_500] = "y" * 5_000_000 + ";1500"
    version = load(services, dataset,
                   write(tmp_path, "long.csv", "nom;valeur\n" + "\n".join(lines) + "\n"))
    assert version.row_count == 2_000
    assert len(rows(services, version)[1_500]["nom"]) == 5_000_000


def test_a_record_longer_than_the_limit_is_refused_with_its_line(
        services: Services, dataset: Dataset, tmp_path: Path) -> None:
    services.settings.max_csv_line_bytes = 1_000_000
    lines = [f"n{i};{i}" for i in range(100)]
    lines[40] = "z" * 2_000_000 + ";40"
    path = write(tmp_path, "long.csv", "nom;valeur\n" + "\n".join(lines) + "\n")
    assert _refused(services, dataset, path) == (
        "long.csv, ligne 42 : un enregistrement de 2.0 Mo dépasse la taille maximale d'une "
        "ligne (1.0 Mo, réglée par PATRIMOINE_MAX_CSV_LINE_BYTES) ; un guillemet est-il mal "
        "fermé ?.")


# ---------------------------------------------------------------------------------- encodings


def test_a_utf8_file_with_a_stray_byte_is_read_as_utf8_and_the_line_reported(
        services: Services, dataset: Dataset, tmp_path: Path) -> None:
    text = "commune;équipement\nTroyes;Piscine Lucien-Zins\nSainte-Savine;Théâtre\n"
    data = text.encode("utf-8") + b"Rosi\xe8res;Gymnase\n" + "Brévonnes;Stade\n".encode()
    path = tmp_path / "equipements.csv"
    path.write_bytes(data)
    plan = sniff(path)
    assert plan.encoding == "utf-8"
    assert any("1 octet(s) invalide(s) en UTF-8" in p and "ligne 4" in p for p in plan.problems)
    version = load(services, dataset, path)
    assert [r["commune"] for r in rows(services, version)] == [
        "Troyes", "Sainte-Savine", "Rosi\ufffdres", "Brévonnes"]
    assert version.columns[1]["source_name"] == "équipement"
    assert version.ingest_settings["invalid_utf8"] == {"bytes": 1, "lines": [4]}


def test_two_encodings_in_one_file_are_refused_with_the_lines(
        services: Services, dataset: Dataset, tmp_path: Path) -> None:
    utf8 = "".join(f"Équipement {i};{i}\n" for i in range(50)).encode()
    cp1252 = "".join(f"Équipement {i};{i}\n" for i in range(50, 250)).encode("cp1252")
    path = tmp_path / "mixte.csv"
    path.write_bytes("nom;numéro\n".encode() + utf8 + cp1252)
    message = _refused(services, dataset, path)
    assert message.startswith("mixte.csv : le fichier mélange deux encodages")
    assert "lignes 52, 53, 54" in message


def test_real_cp1252_files_are_still_read_as_cp1252(services: Services, dataset: Dataset,
                                                    tmp_path: Path) -> None:
    # Nantes' menus, byte for byte as published (cp1252).
    menus = load(services, dataset, NANTES / "menus_2011-2015.csv")
    assert menus.ingest_settings["encoding"] == "cp1252"
    dishes = [r["menu"] for r in rows(services, menus)]
    assert "Crêpe au fromage" in dishes
    assert "eminc\u00e9 de volaille \u00e0 la foresti\u00e8re" in dishes
    # Nantes' pupils per school, re-encoded as a Windows export would give it.
    source = (NANTES / "Effectifs_ecoles.csv").read_text(encoding="utf-8")
    pupils = load(services, dataset, write(tmp_path, "effectifs.csv", source, "cp1252"))
    assert [c["source_name"] for c in pupils.columns] == ["Ecole", "Année scolaire", "Effectif"]
    assert pupils.row_count == len(source.splitlines()) - 1


def test_json_errors_keep_no_path(services: Services, dataset: Dataset, tmp_path: Path) -> None:
    path = write(tmp_path, "lignes.ndjson", json.dumps({"a": 1}) + "\n{\"a\": \n")
    message = _refused(services, dataset, path)
    assert message.startswith("lignes.ndjson : fichier NDJSON invalide à l'octet")
    assert str(tmp_path) not in message
