"""Export of the register as the CNIL spreadsheet model (XLSX, CSV) and import back:
the round trip keeps every field; errors name the line and the column in French."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from patrimoine.access.models import Role
from patrimoine.access.principal import Principal
from patrimoine.core.db import Database
from patrimoine.core.errors import Invalid
from patrimoine.protection.register import service as register
from patrimoine.protection.register import spreadsheet
from tests import factories as f
from tests.factories import full_activity

SYSTEM = Principal.system("tests")


def _register(db: Database) -> list[dict[str, object]]:
    with db.session() as s:
        return [register.activity_input(a).model_dump(mode="json")
                for a in register.list_activities(s, SYSTEM)]


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_round_trip_keeps_everything(db: Database, fmt: str) -> None:
    with db.unit_of_work() as s:
        org = f.organisation(s, "CCAS de Ligérac")
        ds = f.dataset(s, org, "Bénéficiaires")
        register.create_activity(s, SYSTEM, full_activity(
            org.id, linked_datasets=[ds.slug],
            description="Première ligne\nSeconde ligne ; avec « guillemets » et \\ barre",
            sub_purposes=["Un | deux", "Trois\\quatre"],
            processors=[{"name": "A | B", "contract_reference": "X:1"}], public=True))
        register.create_activity(s, SYSTEM, full_activity(
            org.id, reference="T-0002", name="Listes électorales", special_categories=[],
            art9_condition=None, transfers=[], joint_controllers=[], dpia_criteria=[],
            retention_rules=[{"duration": 1, "unit": "days", "start_event": "file_closed",
                              "final_fate": "sorting"}],
            estimated_data_subjects=None, legal_basis=None, status="draft"))
        data = spreadsheet.export_register(s, SYSTEM, org, fmt)
    before = _register(db)

    # Into the same register: nothing changes.
    with db.unit_of_work() as s:
        plan = spreadsheet.import_register(s, SYSTEM, data, f"registre.{fmt}", dry_run=True)
        assert plan["ok"], plan["errors"]
        assert plan["counts"] == {"create": 0, "update": 0, "unchanged": 2}

    # Into an empty register: the same entries come back.
    with db.unit_of_work() as s:
        for a in register.list_activities(s, SYSTEM):
            register.delete_activity(s, SYSTEM, a)
    with db.unit_of_work() as s:
        result = spreadsheet.import_register(s, SYSTEM, data, f"registre.{fmt}")
        assert result["counts"]["create"] == 2
    assert _register(db) == before


def test_xlsx_looks_like_the_cnil_model(db: Database) -> None:
    with db.unit_of_work() as s:
        org = f.organisation(s, "CCAS de Ligérac")
        register.create_activity(s, SYSTEM, full_activity(org.id))
        data = spreadsheet.export_register(s, SYSTEM, org, "xlsx")
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Registre", "Mode d'emploi"]
    sheet = book["Registre"]
    headers = [c.value for c in sheet[1]]
    assert headers[:3] == ["Organisation (responsable du traitement)", "Référence",
                           "Nom du traitement"]
    row = dict(zip(headers, [c.value for c in sheet[2]], strict=True))
    assert row["Sous-traitants"].splitlines()[0] == (
        "Éditeur Solis | contrat : MAR-2024-017 | contact : rgpd@solis.example")
    assert row["Durées de conservation"].splitlines()[0] == (
        "État civil, identité, données d'identification, images | durée : 5 ans | à compter "
        "de : la clôture du dossier | sort final : Versement aux archives | référence : "
        "Instruction DPACI/RES/2009/018")
    assert row["AIPD requise"] == "Oui" and row["État de l'AIPD"] == "Requise et manquante"
    assert row["Base légale (article 6)"] == "Mission d'intérêt public"


def test_import_errors_per_row_and_column_in_french(db: Database) -> None:
    with db.unit_of_work() as s:
        org = f.organisation(s, "Ville de Test")
        other = f.organisation(s, "Commune Voisine")
        dpo = Principal.of(f.account(s, "dpo@test.example", roles=[(org, Role.DPO, None)]))
    csv_text = "\n".join([
        "Organisation;Référence;Nom du traitement;Base légale;Durées de conservation;"
        "Données sensibles;Nombre estimé de personnes concernées",
        "Ville de Test;T-1;État civil;Mission d'intérêt public;"
        "Toutes les données | durée : 3 ans | à compter de : la fin du contrat "
        "| sort final : Destruction;;120",
        "Ville de Test;T-2;Cantine;Bon vouloir;"
        "Toutes les données | durée : trois ans après la fin;;",
        "Commune Voisine;T-3;Voirie;;;;",
        "Ville de Test;T-4;Santé scolaire;Obligation légale;;Données de santé;beaucoup",
        "Inconnue;T-5;X;;;;",
        "Ville de Test;T-1;Doublon;;;;",
        "Ville de Test;T-6;Piscine;;Toutes les données | durée : 3 ans | à compter de : "
        "la révision | sort final : Destruction;;",
    ]).encode("utf-8")
    with db.unit_of_work() as s:
        plan = spreadsheet.import_register(s, dpo, csv_text, "registre.csv", dry_run=True)
    errors = [f"{e['line']}|{e['column']}|{e['message']}" for e in plan["errors"]]
    assert not plan["ok"]
    assert any(e.startswith("3|Base légale (article 6)|valeur « Bon vouloir » non reconnue")
               for e in errors), errors
    assert any(e.startswith("3|Durées de conservation|durée « trois ans après la fin » "
                            "illisible") for e in errors), errors
    assert any(e.startswith("4|Organisation (responsable du traitement)|votre compte n'a pas "
                            "le droit") for e in errors), errors
    assert any(e.startswith("5|Nombre estimé de personnes concernées|nombre « beaucoup »")
               for e in errors), errors
    assert any(e.startswith("6|Organisation (responsable du traitement)|organisation "
                            "« Inconnue » inconnue") for e in errors), errors
    assert any(e.startswith("7|Référence|référence déjà utilisée ligne 2") for e in errors)
    assert any(e.startswith("8|Durées de conservation|valeur « la révision » non reconnue ; "
                            "valeurs acceptées : « la création de l'enregistrement »")
               for e in errors), errors
    assert plan["counts"] == {"create": 1, "update": 0, "unchanged": 0}
    with db.unit_of_work() as s, pytest.raises(Invalid, match="rien n'a été importé") as err:
        spreadsheet.import_register(s, dpo, csv_text, "registre.csv")
    assert any("Ligne 3, colonne « Base légale (article 6) »" in e for e in err.value.errors)
    assert _register(db) == []
    # Art. 9 data without a condition: a row-level message from the model's rule.
    bad = ("Organisation;Nom du traitement;Données sensibles\n"
           "Ville de Test;Santé scolaire;Données de santé\n").encode()
    with db.unit_of_work() as s:
        plan = spreadsheet.import_register(s, dpo, bad, "r.csv", dry_run=True)
    assert "condition de l'article 9.2" in plan["errors"][0]["message"]
    assert other.id != org.id
