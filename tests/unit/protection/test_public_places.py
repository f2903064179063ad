"""The scanner tells public places from persons: the address, telephone, e-mail and name of
a school, a fountain, a charging station or a car-pooling area are suggested as not personal
(the finding stays: the DPO decides); a directory of persons keeps its findings whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from patrimoine.protection.reader import read_table
from patrimoine.protection.scanner import ScanResult, scan_rows

FILES = Path(__file__).parents[2] / "corpus" / "files"


def _scan(name: str, subject: str = "") -> ScanResult:
    table = read_table(FILES / name)
    return scan_rows(table.columns, table.rows, subject=subject)


def _found(result: ScanResult) -> dict[tuple[str, str], str | None]:
    return {f.key: f.suggestion for f in result.findings}


@pytest.mark.parametrize(("name", "expected"), [
    # Paris's drinking fountains: the fountain's street address.
    ("fontaine-eau.csv", {("adresse", "address")}),
    # Car-pooling areas (lieux de covoiturage): the area's address.
    ("lieux-covoiturage.csv", {("ad_lieu", "address")}),
    # Charging stations (IRVE): the operators' switchboard and service e-mails, the address.
    ("irve-statique.csv", {("contact_amenageur", "email"), ("contact_operateur", "email"),
                           ("telephone_operateur", "phone"), ("adresse_station", "address")}),
    # Nantes's school canteens: the canteens' names, read as persons' names.
    ("nantes-cantines.csv", {("cantine_nom", "name")}),
    # Acceslibre's public buildings: the street, and no precise position of a home.
    ("acceslibre-base.csv", {("voie", "address"), ("cheminement_ext_devers", "name")}),
])
def test_public_places_are_suggested_not_personal(name: str,
                                                  expected: set[tuple[str, str]]) -> None:
    result = _scan(name)
    found = _found(result)
    assert set(found) == expected
    assert set(found.values()) == {"not_personal"}
    for f in result.findings:
        assert f.severity == "low"
        assert "lieu public probable" in f.reason and "le DPO décide" in f.reason


def test_a_directory_of_persons_is_not_a_list_of_places() -> None:
    """The diagnosticians' directory names persons (a first-name column): nothing is
    suggested, even with a subject naming places."""
    found = _found(_scan("annuaire-diagnostiqueurs.csv", subject="Diagnostiqueurs des écoles"))
    assert found[("Prenom", "name")] is None
    assert found[("Adresse", "address")] is None
    assert found[("Tel1", "phone")] is None


DEFIBRILLATORS = [["Gymnase Léo Lagrange", "12 rue des Écoles 45000 Orléans", "02 38 79 20 00"],
                  ["Mairie annexe", "3 place du Martroi 45000 Orléans", "02 38 79 22 22"],
                  ["Piscine du Palais", "1 allée Pierre Chevallier 45000 Orléans",
                   "02 38 79 23 45"]] * 10


def test_the_subject_says_what_a_plain_table_lists() -> None:
    columns = ["nom", "adresse", "telephone"]
    plain = _found(scan_rows(columns, DEFIBRILLATORS))
    assert plain[("adresse", "address")] is None
    assert plain[("telephone", "phone")] is None
    places = _found(scan_rows(columns, DEFIBRILLATORS,
                              subject="Défibrillateurs (DAE) de la ville"))
    assert places[("adresse", "address")] == "not_personal"
    assert places[("telephone", "phone")] == "not_personal"
    # A table about persons stays one, whatever its subject says.
    persons = _found(scan_rows(["prenom", *columns],
                               [["Marie", *r] for r in DEFIBRILLATORS],
                               subject="Défibrillateurs de la ville"))
    assert set(persons.values()) == {None}
