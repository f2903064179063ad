"""Column meanings at ingest: identifiers stay text, meanings are recorded with the version."""

from __future__ import annotations

import json
from pathlib import Path

from patrimoine.bootstrap import Services
from patrimoine.datastore.ingest import sniff
from tests.conftest import Cli
from tests.factories import columns, load, new_dataset, rows, write

# Real-looking: SIRET with right Luhn keys (no "siret" in the column name), INSEE codes
# under a column name that only core.meanings knows (depcom), a French phone, an e-mail.
SUBVENTIONS = (
    "Identifiant;DEPCOM;Courriel;Montant;Accessible\n"
    "21750001600019;75056;mairie@paris.fr;1 500,00;oui\n"
    "73282932000074;13055;contact@marseille.fr;12 000;non\n"
    "44306184100047;69123;accueil@lyon.fr;-;oui\n"
    "55210055400013;31555;info@toulouse.fr;820,5;non\n"
)


def test_identifiers_recognised_by_meaning_stay_text(services: Services, tmp_path: Path) -> None:
    dataset = new_dataset(services)
    version = load(services, dataset, write(tmp_path, "subventions.csv", SUBVENTIONS))
    types = columns(version)
    assert types["identifiant"] == "string" and types["depcom"] == "string"
    assert types["accessible"] == "boolean"
    assert rows(services, version)[0]["identifiant"] == "21750001600019"
    meanings = version.ingest_settings["meanings"]
    assert {name: m["meaning"] for name, m in meanings.items()} == {
        "identifiant": "siret", "depcom": "code_commune_insee", "courriel": "email",
        "montant": "montant", "accessible": "booleen"}
    assert meanings["identifiant"]["label"] == "SIRET"
    assert 0 < meanings["identifiant"]["confidence"] <= 1


def test_the_preview_shows_meanings(tmp_path: Path) -> None:
    plan = sniff(write(tmp_path, "s.csv", SUBVENTIONS))
    by_name = {c.name: c.meaning for c in plan.columns}
    assert by_name["depcom"] is not None and by_name["depcom"]["label"] == "code commune INSEE"
    # Wrong keys: fourteen digits that are not a SIRET are a plain number.
    broken = SUBVENTIONS.replace("21750001600019", "21750001600018").replace(
        "73282932000074", "73282932000075").replace("44306184100047", "44306184100048")
    plan = sniff(write(tmp_path, "b.csv", broken))
    identifiant = plan.columns[0]
    # Wrong keys: not a SIRET, but still an identifier of fixed width, kept as text.
    assert identifiant.meaning is not None and identifiant.meaning["meaning"] == "identifiant"
    assert identifiant.type == "string"


def test_cli_sniff_reports_meanings(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path, "s.csv", "siret;cp\n21750001600019;01000\n73282932000074;75001\n")
    shown = cli("datastore", "sniff", str(path))
    assert shown.returncode == 0 and "SIRET" in shown.stdout and "code postal" in shown.stdout
    plan = json.loads(cli("datastore", "sniff", str(path), "--json").stdout)
    assert [c["meaning"]["meaning"] for c in plan["columns"]] == ["siret", "code_postal"]
