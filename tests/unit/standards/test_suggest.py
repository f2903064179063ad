"""Schema suggestions from a file's column names."""

import csv

from patrimoine.standards.schemas import SCHEMAS_DIR
from patrimoine.standards.suggest import suggest_schemas


def _header(relative: str) -> list[str]:
    with (SCHEMAS_DIR / relative).open(encoding="utf-8-sig", newline="") as f:
        return next(csv.reader(f))


def test_the_scdl_example_is_offered_its_schema_first() -> None:
    header = _header("scdl-subventions/exemples/exemple_valide.csv")
    best = suggest_schemas(header)[0]
    assert best.schema.name == "scdl-subventions" and best.share == 1.0
    assert best.as_dict()["fields"] == len(header)


def test_names_match_whatever_their_spelling() -> None:
    # As ingest normalises them (snake_case), and a few fields missing.
    header = ["nom_attribuant", "id_attribuant", "date_convention", "reference_decision",
              "nom_beneficiaire", "id_beneficiaire", "objet", "montant", "nature"]
    best = suggest_schemas(header)[0]
    assert best.schema.name == "scdl-subventions"
    assert "nomAttribuant" in best.matched and 0.5 <= best.share < 1


def test_unrelated_columns_get_no_suggestion() -> None:
    assert suggest_schemas(["compteur", "date", "passages", "latitude", "longitude"]) == []
    assert suggest_schemas([]) == []
