"""`patrimoine protection scan FILE` on real files."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Cli
from tests.support.personal_data import Generator, write


def test_scan_prints_findings_as_json(cli: Cli, tmp_path: Path) -> None:
    path = write(Generator(3).persons(200, 1), tmp_path, "csv-1252")
    run = cli("protection", "scan", str(path), "--json")
    assert run.returncode == 0, run.stderr
    findings = json.loads(run.stdout)
    assert {(f["column"], f["kind"]) for f in findings} >= {
        ("Prénom", "name"), ("Courriel", "email"), ("Portable", "phone"),
        ("NumeroSecu", "nir"), ("RIB_IBAN", "iban"), ("DateNaissance", "birth_date"),
        ("Plaque", "plate"), ("lat_domicile", "position")}
    assert not any(f["column"] in {"code_insee", "code_postal", "siret", "montant"}
                   for f in findings)
    for f in findings:
        assert set(f) >= {"column", "kind", "share", "count", "examples"}
        assert 0 < f["share"] <= 1


def test_scan_prints_a_french_table(cli: Cli, tmp_path: Path) -> None:
    path = write(Generator(4).facilities(100, 0), tmp_path, "xlsx")
    run = cli("protection", "scan", str(path), "--sample-rows", "50")
    assert run.returncode == 0, run.stderr
    assert "Données personnelles détectées" in run.stdout
    assert "50 lignes examinées sur 100" in run.stdout
    assert "Adresse électronique" in run.stdout and "faible" in run.stdout


def test_scan_reads_every_sheet_of_a_workbook(cli: Cli, tmp_path: Path) -> None:
    import xlsxwriter

    gen = Generator(8)
    path = tmp_path / "classeur.xlsx"
    book = xlsxwriter.Workbook(str(path))
    budget = book.add_worksheet("Budget")
    budget.write_row(0, 0, ["annee", "montant"])
    budget.write_row(1, 0, [2024, 1200.5])
    people = book.add_worksheet("Inscrits")
    people.write_row(0, 0, ["nom_prenom", "nir"])
    for i in range(1, 30):
        people.write_row(i, 0, [gen.full_name(), gen.nir()])
    book.close()
    run = cli("protection", "scan", str(path), "--json")
    assert run.returncode == 0, run.stderr
    found = {(f["sheet"], f["column"], f["kind"]) for f in json.loads(run.stdout)}
    assert found == {("Inscrits", "nom_prenom", "name"), ("Inscrits", "nir", "nir")}


def test_scan_of_a_file_without_personal_data(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "budget.csv"
    path.write_text("annee;montant\n2024;1 200,50\n2025;980,00\n", encoding="utf-8")
    run = cli("protection", "scan", str(path))
    assert run.returncode == 0, run.stderr
    assert "Aucune donnée personnelle détectée" in run.stdout


def test_bad_files_give_a_french_message_not_a_traceback(cli: Cli, tmp_path: Path) -> None:
    missing = cli("protection", "scan", str(tmp_path / "absent.csv"))
    assert missing.returncode != 0 and "Fichier introuvable" in missing.stderr
    broken = tmp_path / "abime.xlsx"
    broken.write_bytes(b"PK\x03\x04 pas un vrai classeur")
    run = cli("protection", "scan", str(broken))
    assert run.returncode != 0 and "Lecture impossible" in run.stderr
    other = tmp_path / "image.png"
    other.write_bytes(b"\x89PNG")
    run = cli("protection", "scan", str(other))
    assert run.returncode != 0 and "Format non pris en charge" in run.stderr
    for r in (missing, run):
        assert "Traceback" not in r.stderr
