"""The register spreadsheet's cell syntax: escapes and structured items survive any text."""

from __future__ import annotations

import random

import pytest

from patrimoine.protection.register import spreadsheet as sp
from patrimoine.protection.register.spreadsheet import COLUMN_BY_FIELD, ITEM_SPECS

_PIECES = ["|", "\\", "\n", ":", ";", " | ", "\\n", "\\|", "a", "É", "contrat : x", "«»", " "]


def _texts(count: int, seed: int) -> list[str]:
    """Texts made of the characters the syntax reserves, as people might type them."""
    rng = random.Random(seed)
    out = []
    while len(out) < count:
        text = "".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 8))).strip()
        if text:
            out.append(text)
    return out


@pytest.mark.parametrize("seed", range(20))
def test_text_lists_round_trip(seed: int) -> None:
    values = [" ".join(v.split()) for v in _texts(4, seed)]  # the service normalises spaces
    values = [v for v in values if v]
    cell = "\n".join(sp._escape(v) for v in values)
    assert sp._parse_cell(COLUMN_BY_FIELD["sub_purposes"], cell) == values
    # And through CSV's one-line form.
    assert "\n" not in sp._csv_cell(cell)
    assert sp._csv_uncell(sp._csv_cell(cell)) == cell


@pytest.mark.parametrize("seed", range(20))
def test_processor_items_round_trip(seed: int) -> None:
    name, contract = _texts(2, seed)
    item = {"name": name, "contract_reference": contract}
    text = sp._item_text(ITEM_SPECS["processors"], item, "processors")
    assert "\n" not in text
    parsed = sp._item(ITEM_SPECS["processors"], text, "processors")
    assert parsed == {"name": name.strip(), "contract_reference": contract.strip()}


def test_retention_cell() -> None:
    cell = ("Toutes les données | durée : 18 mois | à compter de : la fin du contrat | "
            "sort final : Anonymisation | référence : art. L. 212-2")
    assert sp._parse_cell(COLUMN_BY_FIELD["retention_rules"], cell) == [{
        "data_category": None, "duration": 18, "unit": "months",
        "start_event": "relationship_end", "final_fate": "anonymisation",
        "legal_reference": "art. L. 212-2"}]
    # The French label of a starting event, and a usual wording around it, are understood.
    for said, event in (("la clôture du dossier", "file_closed"),
                        ("Fin de la relation ou du contrat", "relationship_end"),
                        ("à compter de la dernière mise à jour", "updated")):
        cell = f"Toutes les données | durée : 1 an | à compter de : {said} | sort final : Tri"
        assert sp._parse_cell(COLUMN_BY_FIELD["retention_rules"], cell)[0]["start_event"] == event
    with pytest.raises(sp._CellError, match="valeur « selon l'humeur » non reconnue ; valeurs "
                                            "acceptées : « la création de l'enregistrement »"):
        sp._parse_cell(COLUMN_BY_FIELD["retention_rules"], "Toutes les données | durée : 1 an | "
                       "à compter de : selon l'humeur | sort final : Tri")
    with pytest.raises(sp._CellError, match="il manque « sort final »"):
        sp._parse_cell(COLUMN_BY_FIELD["retention_rules"],
                       "Toutes les données | durée : 3 ans | à compter de : la clôture")
    with pytest.raises(sp._CellError, match="unité « siècles » inconnue"):
        sp._parse_cell(COLUMN_BY_FIELD["retention_rules"],
                       "Toutes les données | durée : 3 siècles")
    with pytest.raises(sp._CellError, match="partie « durée 3 ans » non reconnue"):
        sp._parse_cell(COLUMN_BY_FIELD["retention_rules"], "Toutes les données | durée 3 ans")


def test_enum_lists_accept_lines_or_semicolons() -> None:
    column = COLUMN_BY_FIELD["special_categories"]
    assert sp._parse_cell(column, "Données de santé ; NIR\nInfractions") == [
        "health", "nir", "criminal"]
    with pytest.raises(sp._CellError, match="valeurs acceptées"):
        sp._parse_cell(column, "Pointure")
