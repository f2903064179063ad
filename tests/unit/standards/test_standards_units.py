"""Pure parts of standards: example naming, French messages, score arithmetic and criteria."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from patrimoine.charter import quality
from patrimoine.inventory.models import Dataset, UpdateFrequency
from patrimoine.standards import schemas, tableschema


@pytest.mark.parametrize(("name", "valid"), [
    ("exemple-valide.csv", True), ("exemple_valide.csv", True), ("exemple.csv", True),
    ("exemple-valide-statique.csv", True), ("exemple_invalide_erreurs_cellules.csv", False),
    ("exemple-duplicate-column.csv", False), ("Deliberations_coll_siret_ko.csv", False),
    ("prenoms-nouveaux-nes_exemple-invalide.csv", False),
])
def test_examples_are_classified_as_their_publishers_name_them(name: str, valid: bool) -> None:
    assert schemas.expected_valid(Path(name)) is valid


SCHEMA = {"fields": [
    {"name": "code", "type": "string", "constraints": {"required": True, "unique": True}},
    {"name": "etat", "type": "string", "constraints": {"enum": ["oui", "non"]}},
    {"name": "nom", "type": "string", "constraints": {"minLength": 2, "maxLength": 5}},
    {"name": "n", "type": "integer", "constraints": {"minimum": 1}},
    {"name": "jour", "type": "date", "format": "%d/%m/%Y"},
]}


def _report(tmp_path: Path, text: str) -> tableschema.ValidationReport:
    path = tmp_path / "t.csv"
    path.write_text(text, encoding="utf-8")
    return tableschema.validate_file(path, SCHEMA)


def test_every_kind_of_cell_error_is_said_in_french(tmp_path: Path) -> None:
    report = _report(tmp_path, "code,etat,nom,n,jour\n"
                               "A,peut-être,x,0,2024-01-31\n"
                               "A,oui,abcdef,deux,31/01/2024\n"
                               ",non,ab,3,01/02/2024\n")
    messages = [(e.row, e.field, e.constraint, e.message) for e in report.errors]
    assert messages == [
        (2, "etat", "enum", "« peut-être » ne fait pas partie des valeurs autorisées : « oui », "
                            "« non »."),
        (2, "nom", "minLength", "« x » est trop court (2 caractères au moins)."),
        (2, "n", "minimum", "« 0 » est inférieur au minimum autorisé (1)."),
        (2, "jour", "type", "« 2024-01-31 » n'est pas une valeur de type date au format "
                            "« %d/%m/%Y »."),
        (3, "nom", "maxLength", "« abcdef » est trop long (5 caractères au plus)."),
        (3, "n", "type", "« deux » n'est pas une valeur de type nombre entier."),
        (3, "code", "unique", "Valeur « A » en double dans la colonne « code » : elle doit être "
                              "unique."),
        (4, "code", "required", "Valeur obligatoire manquante."),
    ]
    assert [e.record for e in report.errors][:1] == [1]


def test_header_errors_have_no_row(tmp_path: Path) -> None:
    report = _report(tmp_path, "code,etat,nom,n,jour,extra\nA,oui,ab,1,01/01/2024,x\n")
    assert [(e.kind, e.row, e.message) for e in report.errors] == [
        ("extra-label", None, "La colonne « extra » (n° 6) n'est pas dans le schéma."),
    ]
    short = _report(tmp_path, "code,etat,nom,n,jour\nA,oui,ab,1,01/01/2024,x\nB,oui\n")
    assert [(e.kind, e.row, e.field, e.message) for e in short.errors] == [
        ("extra-cell", 2, None, "La ligne a une cellule de trop (colonne n° 6 : « x »)."),
        ("missing-cell", 3, "nom", "La ligne n'a pas de cellule pour la colonne « nom »."),
        ("missing-cell", 3, "n", "La ligne n'a pas de cellule pour la colonne « n »."),
        ("missing-cell", 3, "jour", "La ligne n'a pas de cellule pour la colonne « jour »."),
    ]


def test_errors_are_capped_and_said_so(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("code,etat,nom,n,jour\n" + "A,x,ab,1,01/01/2024\n" * 30, encoding="utf-8")
    report = tableschema.validate_file(path, SCHEMA, limit_errors=10)
    assert len(report.errors) == 10 and report.truncated


def test_schema_digest_ignores_key_order() -> None:
    assert schemas.schema_digest({"a": 1, "b": [1, 2]}) == \
        schemas.schema_digest({"b": [1, 2], "a": 1})
    assert tableschema.schema_title({"title": "T", "version": "1.0"}) == "T (1.0)"


def test_bands() -> None:
    assert [quality.band_of(v) for v in (100, 75, 74, 50, 49, 0)] == [
        "bonne", "bonne", "moyenne", "moyenne", "faible", "faible"]


def _dataset(**fields: object) -> Dataset:
    values: dict[str, object] = {"title": "T", "description": "", "keywords": [], "extra": {},
                                 "update_frequency": UpdateFrequency.UNKNOWN,
                                 "updated_at": datetime(2025, 1, 1, tzinfo=UTC)}
    values.update(fields)
    return Dataset(**values)


def test_on_time_follows_the_frequency() -> None:
    at = datetime(2025, 3, 1, tzinfo=UTC)
    monthly = _dataset(update_frequency=UpdateFrequency.MONTHLY,
                       updated_at=at - timedelta(days=20))
    assert quality._on_time(monthly, None, at).met is True
    monthly.updated_at = at - timedelta(days=40)
    late = quality._on_time(monthly, None, at)
    assert late.met is False and late.reason.startswith("En retard de 9 jour(s)")
    punctual = _dataset(update_frequency=UpdateFrequency.PUNCTUAL)
    assert quality._on_time(punctual, None, at).met is True
    assert quality._on_time(_dataset(), None, at).met is False


def test_documentation_comes_from_a_link_or_a_schema() -> None:
    assert quality._documentation(_dataset(extra={"landing_page": "https://x.fr"}), None).met
    assert not quality._documentation(_dataset(), None).met


def test_french_identifiers() -> None:
    assert tableschema.siret_is_valid("18006701900430")  # IGN, the catalogue's example
    assert not tableschema.siret_is_valid("18006701900431")
    assert not tableschema.siret_is_valid("1800670190043")
    assert tableschema.siren_is_valid("180067019") and not tableschema.siren_is_valid("180067018")
