"""Import of the Troyes-like audit spreadsheet: formats, plans, all-or-nothing, history,
permissions, the command line and the JSON API, against a real store."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from patrimoine.access import service as accounts
from patrimoine.access.models import AuditEvent, Role
from patrimoine.access.principal import Principal
from patrimoine.core.db import Database
from patrimoine.core.errors import Forbidden, Invalid
from patrimoine.inventory import queries
from patrimoine.inventory import service as inventory
from patrimoine.inventory.audit_sheet import ImportPlan, plan_import, read_spreadsheet
from patrimoine.inventory.importer import ImportResult, apply_import, import_spreadsheet
from patrimoine.inventory.models import (
    Dataset,
    DatasetChange,
    Department,
    Organisation,
    OrganisationKind,
    Source,
    YesNoUndefined,
)
from tests import factories as f
from tests.support import spreadsheets as sheets

SYSTEM = Principal.system("tests")
ROWS_60 = sheets.audit_rows(60)


def _plan(session: Session, data: bytes, name: str, principal: Principal = SYSTEM
          ) -> ImportPlan:
    return plan_import(session, principal, read_spreadsheet(data, name))


def _import(db: Database, data: bytes, name: str, principal: Principal = SYSTEM
            ) -> tuple[ImportPlan, ImportResult]:
    with db.unit_of_work() as s:
        plan = _plan(s, data, name, principal)
        assert plan.ok, plan.error_lines()[:5]
        return plan, apply_import(s, principal, plan)


def _count(db: Database, model: Any) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def _stats(db: Database, by: str) -> dict[str, int]:
    with db.session() as s:
        return {r.value: r.count for r in queries.statistics(s, SYSTEM, by)}


def test_the_troyes_audit_imports_with_its_counts_and_reimports_unchanged(db: Database) -> None:
    data = sheets.audit_bytes("xlsx", title_row=True)
    plan, result = _import(db, data, "audit-troyes.xlsx")
    assert plan.header_line == 3
    assert result.counts == {"create": 653, "update": 0, "unchanged": 0}
    assert sorted(result.new_organisations) == sorted(sheets.ORGANISATIONS)
    assert _stats(db, "organisation") == sheets.ORGANISATIONS
    assert _stats(db, "department") == sheets.DIRECTIONS
    assert _stats(db, "theme") == sheets.THEMES
    assert _stats(db, "source") == sheets.SOURCES
    assert _stats(db, "sharing") == sheets.SHARING
    assert _stats(db, "confidentiality") == sheets.CONFIDENTIALITY
    with db.session() as s:
        kinds = {o.name: o.kind for o in s.scalars(select(Organisation))}
        assert kinds["Ville de Troyes"] == OrganisationKind.VILLE
        assert kinds["Troyes Champagne Métropole"] == OrganisationKind.METROPOLE
        assert kinds["C.M.A.S."] == OrganisationKind.CCAS
        # History and audit are kept for every created entry.
        assert s.scalar(select(func.count()).select_from(DatasetChange)
                        .where(DatasetChange.action == "imported")) == 653
        assert s.scalar(select(func.count()).select_from(AuditEvent)
                        .where(AuditEvent.action == "inventory.import")) == 1
    events = _count(db, AuditEvent)
    # The same file again, even as another format with odd headers: nothing changes.
    for again, name in ((data, "audit-troyes.xlsx"),
                        (sheets.audit_bytes("csv", odd_headers=True), "audit.csv")):
        plan, result = _import(db, again, name)
        assert plan.counts == {"create": 0, "update": 0, "unchanged": 653}
        assert result.counts == {"create": 0, "update": 0, "unchanged": 653}
    assert _count(db, Dataset) == 653
    assert _count(db, DatasetChange) == 653
    assert _count(db, AuditEvent) == events + 2  # one summary event per import, nothing else


@pytest.mark.parametrize(("fmt", "options"), [
    ("xlsx", {}),
    ("xlsx", {"title_row": True, "odd_headers": True}),
    ("ods", {}),
    ("ods", {"title_row": True, "odd_headers": True}),
    ("csv", {"encoding": "cp1252", "delimiter": ";"}),
    ("csv", {"encoding": "utf-8-sig", "delimiter": ",", "title_row": True}),
    ("csv", {"encoding": "utf-8", "delimiter": "\t", "odd_headers": True}),
    ("csv", {"encoding": "cp1252", "delimiter": "|", "title_row": True, "odd_headers": True}),
])
def test_every_format_encoding_and_delimiter_gives_the_same_inventory(
        db: Database, fmt: str, options: dict[str, Any]) -> None:
    data = sheets.audit_bytes(fmt, ROWS_60, **options)
    plan, result = _import(db, data, f"audit.{fmt}")
    assert result.counts["create"] == 60
    assert plan.header_line == (3 if options.get("title_row") else 1)
    with db.session() as s:
        entries = {(d.organisation.name, d.department.name if d.department else None, d.title): d
                   for d in s.scalars(select(Dataset))}
        for row in ROWS_60:
            d = entries[(row["Collectivité"], row["Direction"], row["Nom du tableau de suivi"])]
            assert d.theme == row["Thématique"]
            assert d.source is not None
            assert row["Source des données"].startswith(
                {Source.INTERNAL: "Interne", Source.EXTERNAL: "Externe",
                 Source.BOTH: "Interne/Externe"}[d.source])
    # Same content from the reference format: all unchanged.
    plan = _plan_only(db, sheets.audit_bytes("xlsx", ROWS_60), "ref.xlsx")
    assert plan.counts == {"create": 0, "update": 0, "unchanged": 60}


def _plan_only(db: Database, data: bytes, name: str, principal: Principal = SYSTEM
               ) -> ImportPlan:
    with db.session() as s:
        return _plan(s, data, name, principal)


def test_values_are_parsed_in_french(db: Database) -> None:
    rows = [dict(ROWS_60[0], **{
        "Coût": "1 200 €", "Source des données": "Externe (Ecovélo)",
        "Partage des données": "oui", "Confidentialité des données": "A DEFINIR",
        "Fréquence de mise à jour": "Mensuelle"}),
        dict(ROWS_60[1], **{"Coût": "1200,50", "Source des données": "Interne / Externe"})]
    _import(db, sheets.audit_bytes("csv", rows), "a.csv")
    with db.session() as s:
        a = s.scalar(select(Dataset).where(Dataset.title == rows[0]["Nom du tableau de suivi"]))
        b = s.scalar(select(Dataset).where(Dataset.title == rows[1]["Nom du tableau de suivi"]))
        assert a is not None and b is not None
        assert str(a.cost_per_year) == "1200.00" and str(b.cost_per_year) == "1200.50"
        assert a.source == Source.EXTERNAL and a.producer == "Ecovélo"
        assert a.sharing == YesNoUndefined.YES
        assert a.confidentiality == YesNoUndefined.UNDEFINED
        assert a.update_frequency.value == "monthly"
        assert b.source == Source.BOTH


def test_optional_columns_are_imported(db: Database) -> None:
    text = ("Organisation;Service;Titre;Thème;Description;Licence;Mots-clés;Contact;"
            "Données personnelles;Niveau d'accès;Producteur;Début;Fin\n"
            "Ville de Test;Finances;Budget primitif;Administration;Le budget **voté**.;"
            "Licence Ouverte 2.0;budget, finances;Anne Martin <anne.martin@ville.fr>;Non;"
            "Ouvert;;2020;2024\n")
    _import(db, text.encode("utf-8"), "a.csv")
    with db.session() as s:
        d = s.scalar(select(Dataset))
        assert d is not None
        assert (d.description, d.licence, d.keywords) == (
            "Le budget **voté**.", "Licence Ouverte 2.0", ["budget", "finances"])
        assert (d.contact_name, d.contact_email) == ("Anne Martin", "anne.martin@ville.fr")
        assert d.contains_personal_data is False and d.access_level.value == "open"
        assert (d.temporal_start.isoformat(), d.temporal_end.isoformat()) == (  # type: ignore[union-attr]
            "2020-01-01", "2024-12-31")


def test_dry_run_writes_nothing(db: Database) -> None:
    data = sheets.audit_bytes("xlsx", ROWS_60)
    with db.unit_of_work() as s:
        plan = import_spreadsheet(s, SYSTEM, data, "audit.xlsx", dry_run=True)
        assert isinstance(plan, ImportPlan) and plan.ok
        assert plan.counts["create"] == 60
        assert len(plan.new_organisations) == len({r["Collectivité"] for r in ROWS_60})
        body = json.loads(json.dumps(plan.as_dict()))
        assert body["counts"] == plan.counts and body["rows"][0]["action"] == "create"
    for model in (Dataset, Organisation, Department, AuditEvent, DatasetChange):
        assert _count(db, model) == 0, model


def test_errors_per_row_and_column_and_nothing_written(db: Database) -> None:
    rows = [dict(r) for r in ROWS_60]
    rows[3]["Coût"] = "beaucoup"
    rows[5]["Partage des données"] = "peut-être"
    rows[7]["Nom du tableau de suivi"] = ""
    rows[9]["Fréquence de mise à jour"] = "de temps en temps"
    rows[11]["Collectivité"] = ""
    rows[12] = dict(rows[10])  # the same dataset twice
    data = sheets.audit_bytes("csv", rows, title_row=True)  # headers on line 3, data from 4
    with db.unit_of_work() as s:
        plan = _plan(s, data, "audit.csv")
        assert not plan.ok
        found = {(e.line, e.column) for e in plan.errors}
        assert found == {
            (7, "Coût"), (9, "Partage des données"), (11, "Nom du tableau de suivi"),
            (13, "Fréquence de mise à jour"), (15, "Collectivité"),
            (16, "Nom du tableau de suivi"),
        }
        by_line = {e.line: e for e in plan.errors}
        assert by_line[7].value == "beaucoup" and "illisible" in by_line[7].message
        assert "« Oui », « Non », « À définir »" in by_line[9].message
        assert "ligne 14" in by_line[16].message
        assert str(by_line[7]).startswith("Ligne 7, colonne « Coût » : ")
        with pytest.raises(Invalid) as caught:
            apply_import(s, SYSTEM, plan)
        assert "rien n'a été importé" in caught.value.message
        assert len(caught.value.errors) == 6
    for model in (Dataset, Organisation, Department, AuditEvent):
        assert _count(db, model) == 0


def test_the_best_named_column_wins_and_others_are_ignored(db: Database) -> None:
    data = ("Pôle;Collectivité;Direction;Nom;Nb de tbx de suivi\n"
            "Pôle Famille;Ville de Troyes;Sports;Piscines;3\n").encode()
    plan = _plan_only(db, data, "a.csv")
    assert plan.ok and plan.rows[0].department == "Sports"
    assert plan.columns == {"Collectivité": "organisation", "Direction": "department",
                            "Nom": "title"}
    assert plan.ignored_columns == ["Pôle", "Nb de tbx de suivi"]


def test_missing_required_columns_are_reported(db: Database) -> None:
    data = "Direction;Thématique\nSports;Sports\n".encode()
    plan = _plan_only(db, data, "a.csv")
    assert {e.column for e in plan.errors} == {"Collectivité", "Nom du tableau de suivi"}
    assert all("Colonne obligatoire introuvable" in e.message for e in plan.errors)


def test_updates_are_planned_field_by_field_and_kept_in_history(db: Database) -> None:
    _import(db, sheets.audit_bytes("xlsx", ROWS_60), "audit.xlsx")
    rows = [dict(r) for r in ROWS_60]
    rows[0]["Partage des données"] = "Non" if rows[0]["Partage des données"] != "Non" else "Oui"
    rows[0]["Coût"] = "9 999 €"
    rows[1]["Nom du tableau de suivi"] = rows[1]["Nom du tableau de suivi"].upper()
    rows.append(dict(rows[2], **{"Nom du tableau de suivi": "Un tableau tout neuf"}))
    plan, result = _import(db, sheets.audit_bytes("ods", rows), "audit-v2.ods")
    assert result.counts == {"create": 1, "update": 2, "unchanged": 58}
    first = next(r for r in plan.rows if r.line == 2)
    assert first.action == "update"
    assert set(first.changes) == {"sharing", "cost_per_year"}
    assert first.changes["cost_per_year"][1] == "9999.00"
    second = next(r for r in plan.rows if r.line == 3)
    assert set(second.changes) == {"title"}  # same natural key, new spelling
    with db.session() as s:
        dataset = inventory.get_dataset(s, SYSTEM, first.slug or "")
        entries = inventory.history(s, SYSTEM, dataset)
        assert [e.action for e in entries] == ["import_updated", "imported"]
        assert set(entries[0].changes) == {"sharing", "cost_per_year"}
        assert entries[0].changes["cost_per_year"][1] == "9999.00"


def test_known_organisations_are_matched_loosely_and_unknown_ones_created(db: Database) -> None:
    with db.unit_of_work() as s:
        troyes = f.organisation(s, "Ville de Troyes")
        f.department(s, troyes, "Sports")
        f.dataset(s, troyes, "Fréquentation des piscines",
                  department=s.scalar(select(Department)))
    text = ("Collectivité;Direction;Nom du tableau de suivi;Partage des données\n"
            "VILLE DE TROYES;sports;Fréquentation des piscines;Oui\n"
            "ville de troyes;Ressources Humaines;Effectifs;Non\n"
            "CCAS de Troyes;Action sociale;Aides facultatives;À définir\n")
    with db.unit_of_work() as s:
        plan = _plan(s, text.encode("cp1252"), "a.csv")
        assert plan.new_organisations == ["CCAS de Troyes"]
        assert plan.new_departments == [("Ville de Troyes", "Ressources Humaines"),
                                        ("CCAS de Troyes", "Action sociale")]
        assert [r.action for r in plan.rows] == ["update", "create", "create"]
        assert plan.rows[0].organisation == "Ville de Troyes"
        result = apply_import(s, SYSTEM, plan)
        assert result.new_organisations == ["CCAS de Troyes"]
    with db.session() as s:
        assert _count(db, Organisation) == 2
        ccas = inventory.find_organisation(s, "CCAS de Troyes")
        assert ccas is not None and ccas.kind == OrganisationKind.CCAS
        assert [d.name for d in ccas.departments] == ["Action sociale"]


def test_agents_cannot_import_and_referents_only_in_their_department(db: Database) -> None:
    with db.unit_of_work() as s:
        troyes = f.organisation(s, "Ville de Troyes")
        sports = f.department(s, troyes, "Sports")
        f.department(s, troyes, "Mobilités")
        agent = Principal.of(f.account(s, "agent@troyes.fr",
                                       roles=[(troyes, Role.AGENT, sports)]))
        referent = Principal.of(f.account(s, "ref@troyes.fr",
                                          roles=[(troyes, Role.DATA_REFERENT, sports)]))
        cdo = Principal.of(f.account(s, "cdo@troyes.fr",
                                     roles=[(troyes, Role.CHIEF_DATA_OFFICER, None)]))
    text = ("Collectivité;Direction;Nom du tableau de suivi\n"
            "Ville de Troyes;Sports;Piscines\n"
            "Ville de Troyes;Mobilités;Vélos\n"
            "Ville de Troyes;Culture;Musées\n"
            "Ville de Paris;Sports;Stades\n").encode()
    with db.session() as s:
        with pytest.raises(Forbidden):
            _plan(s, text, "a.csv", agent)
        with pytest.raises(Forbidden):
            import_spreadsheet(s, agent, text, "a.csv", dry_run=True)
        plan = _plan(s, text, "a.csv", referent)
        assert [(e.line, e.column) for e in plan.errors] == [
            (3, "Direction"), (4, "Direction"), (5, "Collectivité")]
        assert "n'a pas le droit" in plan.errors[0].message
        assert "seul un administrateur" in plan.errors[2].message
        plan = _plan(s, text, "a.csv", cdo)
        assert [(e.line, e.column) for e in plan.errors] == [(5, "Collectivité")]
    with db.unit_of_work() as s:
        ok = text.decode().rsplit("\n", 2)[0].encode()  # without the unknown organisation
        plan = _plan(s, ok, "a.csv", cdo)
        assert plan.ok and plan.new_departments == [("Ville de Troyes", "Culture")]
        assert apply_import(s, cdo, plan).counts["create"] == 3
    assert _count(db, Dataset) == 3


# Command line ------------------------------------------------------------------------------


def test_cli_import_dry_run_json_and_errors(cli, db: Database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = sheets.write_csv(tmp_path / "audit.csv", ROWS_60, title_row=True)
    dry = cli("inventory", "import", str(path), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "Simulation" in dry.stdout and "60 à créer" in dry.stdout
    assert _count(db, Dataset) == 0
    as_json = cli("inventory", "import", str(path), "--dry-run", "--json")
    body = json.loads(as_json.stdout)
    assert body["counts"] == {"create": 60, "update": 0, "unchanged": 0}
    assert body["encoding"] == "cp1252" and body["delimiter"] == ";"
    done = cli("inventory", "import", str(path))
    assert done.returncode == 0, done.stderr
    assert "Import terminé : 60 créé(s)" in done.stdout
    assert _count(db, Dataset) == 60
    again = cli("inventory", "import", str(path), "--json")
    assert json.loads(again.stdout)["counts"] == {"create": 0, "update": 0, "unchanged": 60}
    assert _stats(db, "organisation") == dict(Counter(r["Collectivité"] for r in ROWS_60))

    rows = [dict(r) for r in ROWS_60]
    rows[0]["Coût"] = "beaucoup"
    rows[1]["Nom du tableau de suivi"] = "Nouveau tableau"
    bad = sheets.write_xlsx(tmp_path / "bad.xlsx", rows)
    failed = cli("inventory", "import", str(bad))
    assert failed.returncode == 2
    assert "1 erreur(s)" in failed.stderr and "rien n'a été importé" in failed.stderr
    assert "beaucoup" in failed.stderr and "Traceback" not in failed.stderr
    failed_json = cli("inventory", "import", str(bad), "--json")
    assert failed_json.returncode == 2
    assert json.loads(failed_json.stdout)["errors"][0]["line"] == 2
    assert _count(db, Dataset) == 60


def test_cli_unreadable_or_missing_file(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    broken = tmp_path / "audit.xlsx"
    broken.write_bytes(b"PK\x03\x04 not a workbook")
    for path, message in ((broken, "endommagé"), (tmp_path / "absent.ods", "introuvable")):
        done = cli("inventory", "import", str(path))
        assert done.returncode == 2
        assert "Erreur" in done.stderr and message in done.stderr
        assert "Traceback" not in done.stderr
    helped = cli("inventory", "import", "--help")
    assert "--dry-run" in helped.stdout and "--json" in helped.stdout


# JSON API ----------------------------------------------------------------------------------


def _token(db: Database, email: str = "admin@troyes.fr", *, superadmin: bool = True,
           role: Role | None = None) -> dict[str, str]:
    with db.unit_of_work() as s:
        roles = []
        if role is not None:
            roles = [(f.organisation(s, "Ville de Troyes"), role, None)]
        account = f.account(s, email, superadmin=superadmin, roles=roles)
        _, secret = accounts.create_api_token(s, account, "import")
    return {"Authorization": f"Bearer {secret}"}


def test_api_import_dry_run_then_import(client: TestClient, db: Database) -> None:
    auth = _token(db)
    data = sheets.audit_bytes("xlsx", ROWS_60, title_row=True)
    files = {"file": ("audit.xlsx", data, "application/octet-stream")}
    r = client.post("/api/v1/inventory/import", headers=auth, files=files,
                    data={"dry_run": "true"})
    assert r.status_code == 200, r.text
    assert r.json()["dry_run"] is True and r.json()["counts"]["create"] == 60
    assert _count(db, Dataset) == 0
    r = client.post("/api/v1/inventory/import?dry_run=true", headers=auth, files=files)
    assert r.json()["dry_run"] is True and _count(db, Dataset) == 0
    r = client.post("/api/v1/inventory/import", headers=auth, files=files)
    assert r.status_code == 200, r.text
    assert r.json()["counts"] == {"create": 60, "update": 0, "unchanged": 0}
    assert _count(db, Dataset) == 60
    r = client.post("/api/v1/inventory/import", headers=auth, files=files)
    assert r.json()["counts"] == {"create": 0, "update": 0, "unchanged": 60}


def test_api_import_errors(client: TestClient, db: Database, services: Any) -> None:
    auth = _token(db)
    rows = [dict(r) for r in ROWS_60]
    rows[4]["Confidentialité des données"] = "bof"
    files = {"file": ("audit.csv", sheets.audit_bytes("csv", rows), "text/csv")}
    r = client.post("/api/v1/inventory/import", headers=auth, files=files)
    assert r.status_code == 422
    body = r.json()
    assert set(body) == {"ok", "status", "error", "errors"}
    assert body["errors"] == ["Ligne 6, colonne « Confidentialité des données » : Valeur « bof » "
                              "non reconnue ; valeurs acceptées : « Oui », « Non », "
                              "« À définir »."]
    assert _count(db, Dataset) == 0
    preview = client.post("/api/v1/inventory/import", headers=auth, files=files,
                          data={"dry_run": "1"}).json()
    assert preview["ok"] is False and preview["errors"][0]["line"] == 6
    r = client.post("/api/v1/inventory/import", headers=auth,
                    files={"file": ("x.xlsx", b"garbage", "application/octet-stream")})
    assert r.status_code == 422 and "endommagé" in r.json()["error"]
    r = client.post("/api/v1/inventory/import", headers=auth, data={"dry_run": "1"})
    assert r.status_code == 422 and "Aucun fichier" in r.json()["error"]
    services.settings.max_upload_bytes = 1000
    r = client.post("/api/v1/inventory/import", headers=auth, files=files)
    assert r.status_code == 413 and "trop volumineux" in r.json()["error"]
    assert "1000 octets" in r.json()["error"]


def test_api_import_needs_a_right_to_import(client: TestClient, db: Database) -> None:
    files = {"file": ("audit.csv", sheets.audit_bytes("csv", ROWS_60[:3]), "text/csv")}
    assert client.post("/api/v1/inventory/import", files=files).status_code == 401
    agent = _token(db, "agent@troyes.fr", superadmin=False, role=Role.AGENT)
    r = client.post("/api/v1/inventory/import", headers=agent, files=files)
    assert r.status_code == 403 and "importer un inventaire" in r.json()["error"]
    assert _count(db, Dataset) == 0
