"""Every record accounted for: never fewer records than Python's `csv` reads without saying
so, valid but unusual CSVs loaded, accounting amounts read as numbers (with the unreadable
cells listed), header-less files and dBase headers."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from patrimoine.bootstrap import Services
from patrimoine.core.errors import Invalid
from patrimoine.datastore.ingest import sniff
from patrimoine.inventory.models import Dataset
from tests import factories
from tests.conftest import Cli
from tests.factories import columns, load, new_dataset, rows, write


@pytest.fixture
def dataset(services: Services) -> Dataset:
    return new_dataset(services)


def python_records(text: str, delimiter: str) -> list[list[str]]:
    return [r for r in csv.reader(io.StringIO(text), delimiter=delimiter) if "".join(r).strip()]


MULTILINE_HEADER = (
    'Bénéficiaire;"Montant\nde la subvention (1)";"Objet\n(2)"\n'
    "Association A;1200;Fête\nAssociation B;800;Sport\nAssociation C;50;Jeux\n"
)


def test_header_cells_with_line_breaks_lose_no_record(services: Services, dataset: Dataset,
                                                      tmp_path: Path) -> None:
    assert len(python_records(MULTILINE_HEADER, ";")) == 4  # the header and 3 records
    version = load(services, dataset, write(tmp_path, "subventions.csv", MULTILINE_HEADER))
    assert version.row_count == 3
    assert [r["beneficiaire"] for r in rows(services, version)] == [
        "Association A", "Association B", "Association C"]
    assert version.columns[1]["source_name"] == "Montant\nde la subvention (1)"
    settings = version.ingest_settings
    assert settings["records_read"] == 3 and settings["records_loaded"] == 3
    assert settings["rejected_records"] == [] and settings["rejected_cells"] == []
    assert settings["encoding"] == "utf-8" and settings["delimiter"] == ";"


# All fields quoted, descriptions over many physical lines, an empty first line, a line
# holding a single space, a trailing empty header cell, HTML entities, a space after a
# closing quote: Python's csv reads it.
QUOTED = (
    '\n \n"id","titre","description",""\n'
    '"1","Parc","Un parc\nau bord\n\nde l\'eau",""\n'
    '"2","Salle &amp; scène","Salle de &quot;spectacle&quot;","" \n'
    '"3","Halle","Marché\ncouvert",""\n'
    '"4","Kiosque"\n'
)


def test_valid_csv_with_quoted_multiline_cells_loads(services: Services, dataset: Dataset,
                                                     tmp_path: Path) -> None:
    assert len(python_records(QUOTED, ",")) == 5
    version = load(services, dataset, write(tmp_path, "equipements.csv", QUOTED))
    assert version.row_count == 4
    data = rows(services, version)
    assert [r["titre"] for r in data] == ["Parc", "Salle &amp; scène", "Halle", "Kiosque"]
    assert data[0]["description"] == "Un parc\nau bord\n\nde l'eau"
    assert data[3]["description"] is None  # the short row completed with nulls
    assert version.ingest_settings["records_read"] == 4


def accounting_file(bad_cell: str = "N   82 584,28") -> str:
    lines = ["Compte;Libellé;Montant;Crédits"]
    for n in range(1, 1601):
        # padded, narrow no-break space thousands, "-" for nothing
        amount = "          -   " if n % 7 == 0 else (
            "  " + f"{n * 1000 + 584:,}".replace(",", "\u202f") + ",28 ")
        credit = " - " if n % 5 == 0 else f"{n % 900 + 1}\u00a0{n % 1000:03d},{n % 100:02d}"
        lines.append(f"C{n};Ligne {n};{amount};{credit}")
    lines[1000] = lines[1000].split(";")[0] + f";Ligne corrompue;{bad_cell};12"
    return "\n".join(lines) + "\n"


def test_account_codes_with_a_leading_zero_stay_text(services: Services, dataset: Dataset,
                                                     tmp_path: Path) -> None:
    # SCDL budget of Saint-Malo Agglomération (corpus holdout): BGT_NATURE holds a hundred
    # account numbers, one of them « 021 ». A leading zero marks a code, not a corrupted
    # amount: the column stays text and nothing is rejected.
    lines = ["BGT_NATURE;BGT_MTPREV"] + [f"{6000 + n};{n * 100}.00" for n in range(100)]
    lines.insert(40, "021;5000.00")
    version = load(services, dataset, write(tmp_path, "budget.csv", "\n".join(lines) + "\n"))
    assert columns(version) == {"bgt_nature": "string", "bgt_mtprev": "number"}
    assert version.ingest_settings["rejected_cells"] == []
    assert rows(services, version)[39]["bgt_nature"] == "021"


def test_accounting_amounts_are_numbers_and_bad_cells_are_listed(
        services: Services, dataset: Dataset, tmp_path: Path) -> None:
    path = write(tmp_path, "balance.csv", accounting_file())
    assert columns_of(sniff(path)) == {"compte": "string", "libelle": "string",
                                       "montant": "number", "credits": "number"}
    with pytest.raises(Invalid) as caught:
        load(services, dataset, path)
    message = caught.value.message
    assert "ligne 1001, colonne « Montant » : « N   82 584,28 »" in message
    assert "--accept-rejects" in message
    version = load(services, dataset, path, accept_rejects=True)
    assert columns(version)["montant"] == "number" and columns(version)["credits"] == "number"
    data = rows(services, version)
    assert len(data) == 1600
    assert data[0]["montant"] == 1584.28 and data[0]["credits"] == 2001.01
    assert data[6]["montant"] is None  # "-": nothing
    assert data[4]["credits"] is None  # " - ": nothing
    assert data[999]["montant"] is None and data[999]["credits"] == 12
    assert version.ingest_settings["rejected_cells"] == [
        {"record": 1000, "line": 1001, "column": "Montant", "value": "N   82 584,28"}]


def columns_of(plan: object) -> dict[str, str]:
    return {c.name: c.type for c in plan.columns}  # type: ignore[attr-defined]


def test_file_without_header_gets_numbered_columns(services: Services, dataset: Dataset,
                                                   tmp_path: Path) -> None:
    text = ("Mandats 2021\n\n12/03/2021;Réfection de la toiture de l'école maternelle "
            "Jules Ferry et de son préau;45 000,50\n"
            "02/04/2021;Achat de mobilier;1 200,00\n05/05/2021;Travaux de voirie;830,10\n")
    path = write(tmp_path, "sans-entete.csv", text)
    plan = sniff(path)
    assert plan.header_row == 0
    assert any("Pas de ligne d'en-tête" in p for p in plan.problems)
    version = load(services, dataset, path)
    assert columns(version) == {"colonne_1": "date", "colonne_2": "string",
                                "colonne_3": "number"}
    assert version.row_count == 3
    assert rows(services, version)[0]["colonne_3"] == 45000.5
    assert version.ingest_settings["title_rows"] == ["Mandats 2021"]
    assert version.ingest_settings["records_read"] == 3
    assert version.ingest_settings["header_row"] == 0


def test_header_with_another_delimiter_is_refused(services: Services, dataset: Dataset,
                                                  tmp_path: Path) -> None:
    path = write(tmp_path, "casse.csv",
                 "nom;ville;code\nA,Paris,75001\nB,Lyon,69001\nC,Nice,06000\n")
    with pytest.raises(Invalid) as caught:
        load(services, dataset, path)
    assert caught.value.message == (
        "Ligne 1 : l'en-tête est séparé par « point-virgule » (3 champs) mais les lignes de "
        "données par « virgule » ; corrigez le fichier pour qu'il n'utilise qu'un séparateur.")


def test_long_rows_are_refused_with_their_line_and_counts(services: Services, dataset: Dataset,
                                                         tmp_path: Path) -> None:
    path = write(tmp_path, "long.csv", "a;b;c\n1;2;3\n4;5;6;7;8\n9;10;11\n")
    with pytest.raises(Invalid, match=r"long\.csv, ligne 3 : 5 champs alors que l'en-tête en "
                                      r"compte 3\."):
        load(services, dataset, path)


def test_dbase_type_suffixes_are_removed_from_the_header(services: Services, dataset: Dataset,
                                                        tmp_path: Path) -> None:
    path = write(tmp_path, "couche.csv",
                 '"Nom,C,254";"Id,N,9,0";"Surface,N,19,11"\nParc;1;12.5\nJardin;2;3.25\n')
    version = load(services, dataset, path)
    assert [c["source_name"] for c in version.columns] == ["Nom", "Id", "Surface"]
    assert columns(version) == {"nom": "string", "id": "integer", "surface": "number"}


def test_cli_refuses_rejects_by_default_and_reports_them_when_accepted(
        services: Services, cli: Cli, tmp_path: Path) -> None:
    with services.db.unit_of_work() as session:
        factories.organisation(session, "Ville de Test")
    path = write(tmp_path, "balance.csv", accounting_file())
    refused = cli("datastore", "load", str(path), "--dataset", "balance", "--json")
    assert refused.returncode == 2
    assert "ligne 1001, colonne « Montant » : « N   82 584,28 »" in refused.stderr
    done = cli("datastore", "load", str(path), "--dataset", "balance", "--json",
               "--accept-rejects")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)["ingest"]
    assert report["records_read"] == report["records_loaded"] == 1600
    assert report["rejected_records"] == []
    assert report["rejected_cells"] == [
        {"record": 1000, "line": 1001, "column": "Montant", "value": "N   82 584,28"}]
    assert report["encoding"] == "utf-8" and report["delimiter"] == ";"
