"""Shipped schemas, their own example files, declarations, validation of versions, the
conformity badge, the JSON API and the back-office page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from patrimoine.access import service as accounts
from patrimoine.access.models import Role
from patrimoine.bootstrap import Services
from patrimoine.core.errors import Forbidden, Invalid, NotFound
from patrimoine.datastore.versions import get_version
from patrimoine.inventory.models import Dataset
from patrimoine.standards import queries, schemas, tableschema, validation
from patrimoine.standards.queries import CONFORM, NO_DATA, NO_SCHEMA, NOT_CHECKED, NOT_CONFORM
from tests import factories
from tests.factories import SYSTEM, load, login, write

SHARED = Path(__file__).resolve().parents[4] / "shared" / "standards" / "schemas"
SHIPPED = schemas.shipped_schemas()
SUBVENTIONS = schemas.SCHEMAS_DIR / "scdl-subventions"


def test_shipped_files_are_identical_to_the_publishers_copies() -> None:
    if not SHARED.is_dir():
        pytest.skip("../shared/standards/schemas is not present here")
    ours = {p.relative_to(schemas.SCHEMAS_DIR).as_posix(): p
            for p in schemas.SCHEMAS_DIR.rglob("*") if p.is_file()}
    theirs = {p.relative_to(SHARED).as_posix(): p for p in SHARED.rglob("*") if p.is_file()}
    assert ours.keys() == theirs.keys()
    different = [name for name, p in ours.items() if p.read_bytes() != theirs[name].read_bytes()]
    assert different == []


def test_every_folder_gives_its_schemas() -> None:
    names = {s.name for s in SHIPPED}
    assert {"scdl-subventions", "scdl-deliberations", "scdl-budget", "scdl-catalogue",
            "catalogue-donnees", "irve/statique", "irve/dynamique", "dae",
            "dispositif-aide/dispositif-aide-professionnels", "decp",
            "amenagements-cyclables"} <= names
    assert schemas.get_schema("decp").kind == schemas.JSON_SCHEMA
    assert schemas.get_schema("scdl-prenoms").scdl
    assert not schemas.get_schema("catalogue-donnees").scdl
    with pytest.raises(NotFound, match="Schéma inconnu"):
        schemas.get_schema("nope")


@pytest.mark.parametrize("shipped", SHIPPED, ids=[s.name for s in SHIPPED])
def test_each_schema_and_its_own_examples(shipped: schemas.ShippedSchema) -> None:
    descriptor = shipped.descriptor()
    if shipped.kind == schemas.JSON_SCHEMA:
        with pytest.raises(Invalid, match="JSON Schema"):
            tableschema.load_table_schema(descriptor)
        assert shipped.examples, "each JSON Schema here comes with examples"
        for example in shipped.examples:
            report = tableschema.validate_json_document(
                descriptor, json.loads(example.path.read_text(encoding="utf-8")))
            assert report.valid is example.expected_valid, (example.relative, report.errors[:3])
        return
    schema, _notes = tableschema.load_table_schema(descriptor)
    assert len(schema.fields) == len(descriptor["fields"])
    for example in shipped.examples:
        report = tableschema.validate_file(example.path, descriptor)
        assert report.valid is example.expected_valid, (example.relative, report.errors[:3])
        if example.expected_valid:
            assert report.error_count == 0
        else:
            assert report.errors
            for issue in report.errors:  # every error is located and said in French
                assert issue.message and "The " not in issue.message
                assert issue.row is not None or issue.field is not None


EXPECTED_KINDS = {
    # The kinds of error the publisher's README lists for each invalid example.
    "exemples/exemple_invalide_erreurs_cellules.csv":
        {"missing-label": 1, "constraint-error": 10, "type-error": 5},
    "exemples/exemple_invalide_erreurs_colonnes.csv":
        {"missing-label": 1, "incorrect-label": 3, "constraint-error": 38, "type-error": 5},
}


@pytest.mark.parametrize("name", sorted(EXPECTED_KINDS))
def test_invalid_subventions_examples_give_the_expected_errors(name: str) -> None:
    report = tableschema.validate_file(SUBVENTIONS / name,
                                      schemas.get_schema("scdl-subventions").descriptor())
    assert not report.valid
    kinds = report.error_kinds
    # The schema's own custom check (french-siret-value, as Validata runs it) adds cell
    # errors for the fictitious SIRETs of these files; the rest is what the README lists.
    siret = [e for e in report.errors if e.kind == "cell-error"]
    assert {e.constraint for e in siret} == {"french-siret-value"}
    assert {e.field for e in siret} <= {"idAttribuant", "idBeneficiaire"}
    kinds.pop("cell-error")
    assert kinds == EXPECTED_KINDS[name]
    assert report.error_count == sum(EXPECTED_KINDS[name].values()) + len(siret)


def test_duplicate_column_example_is_a_header_error() -> None:
    report = tableschema.validate_file(SUBVENTIONS / "exemple-duplicate-column.csv",
                                      schemas.get_schema("scdl-subventions").descriptor())
    kinds = report.error_kinds
    assert kinds["duplicate-label"] == 1 and kinds["incorrect-label"] == 7
    duplicate = next(e for e in report.errors if e.kind == "duplicate-label")
    assert duplicate.row is None and "figure deux fois" in duplicate.message


def test_cell_errors_carry_row_field_and_constraint() -> None:
    report = tableschema.validate_file(
        SUBVENTIONS / "exemples/exemple_invalide_erreurs_cellules.csv",
        schemas.get_schema("scdl-subventions").descriptor())
    first = next(e for e in report.errors if e.kind == "constraint-error")
    assert (first.row, first.record, first.field, first.constraint, first.expected, first.value) \
        == (2, 1, "pourcentageSubvention", "maximum", "1", "100")
    assert first.message == "« 100 » dépasse le maximum autorisé (1)."
    pattern = next(e for e in report.errors if e.constraint == "pattern")
    assert pattern.field == "rnaBeneficiaire" and "motif" in pattern.message
    date_error = next(e for e in report.errors if e.kind == "type-error" and e.field ==
                      "dateConvention")
    assert date_error.constraint == "type"
    assert date_error.message == "« 05/12/2016 » n'est pas une valeur de type date au format " \
                                 "AAAA-MM-JJ."
    missing = next(e for e in report.errors if e.kind == "missing-label")
    assert missing.field == "dispositifAide" and missing.row is None


def test_a_descriptor_strict_frictionless_refuses_is_used_with_a_note() -> None:
    shipped = schemas.get_schema("arbres-urbains")
    report = tableschema.validate_file(shipped.examples[0].path, shipped.descriptor())
    assert report.valid  # `;` delimiter and CRLF line endings
    assert "Arbres urbains" in report.notes[0] and "name" in report.notes[0]


def test_json_schema_remote_references_are_named_not_fetched() -> None:
    shipped = schemas.get_schema("amenagements-cyclables")
    report = tableschema.validate_json_document(
        shipped.descriptor(), json.loads(shipped.examples[0].path.read_text(encoding="utf-8")))
    assert report.valid
    assert report.notes == ["Référence externe non vérifiée (hors ligne) : "
                            "https://geojson.org/schema/FeatureCollection.json"]
    broken = tableschema.validate_json_document(schemas.get_schema("decp").descriptor(),
                                               {"marches": "pas une liste"})
    assert not broken.valid and broken.errors[0].message.startswith("À l'emplacement")


def test_unusable_descriptors_are_refused_in_french() -> None:
    with pytest.raises(Invalid, match="« fields »"):
        tableschema.load_table_schema({"name": "x"})
    with pytest.raises(Invalid, match="Table Schema invalide"):
        tableschema.load_table_schema({"fields": [{"name": "a", "type": "nope"}]})
    with pytest.raises(Invalid, match="JSON valide"):
        schemas.parse_uploaded(b"{", "mon-schema.json")


# ------------------------------------------------------------------ versions and declarations

SMALL_SCHEMA = {
    "name": "equipements-test",
    "title": "Équipements de test",
    "fields": [
        {"name": "Code", "type": "string", "constraints": {"required": True,
                                                            "pattern": "^\\d{5}$"}},
        {"name": "Nom", "type": "string", "constraints": {"required": True}},
        {"name": "Ouvert", "type": "string", "constraints": {"enum": ["oui", "non"]}},
        {"name": "Places", "type": "integer", "constraints": {"minimum": 0}},
        {"name": "Date de mise en service", "type": "date"},
    ],
}
GOOD = ("Code;Nom;Ouvert;Places;Date de mise en service\n"
        "01000;Piscine;oui;120;01/06/2015\n"
        "10000;Gymnase;non;0;01/09/2019\n")
BAD = ("Code;Nom;Ouvert;Places;Date de mise en service\n"
       "1000;Piscine;oui;120;2015-06-01\n"
       "10000;;non;-3;2019-09-01\n")


def _dataset(services: Services, **fields: object) -> Dataset:
    with services.db.unit_of_work() as session:
        org = factories.organisation(session)
        return factories.dataset(session, org, title="Équipements sportifs", **fields)


def test_a_version_is_validated_against_the_declared_schema(services: Services,
                                                            tmp_path: Path) -> None:
    dataset = _dataset(services)
    with services.db.unit_of_work() as session:
        entry = session.get(Dataset, dataset.id)
        assert validation.conformity(session, entry).status == NO_SCHEMA
        validation.declare_schema(session, SYSTEM, entry, descriptor=SMALL_SCHEMA)
        assert validation.conformity(session, entry).status == NO_DATA
    load(services, dataset, write(tmp_path, "equipements.csv", GOOD))
    with services.db.unit_of_work() as session:
        entry = session.get(Dataset, dataset.id)
        assert validation.conformity(session, entry).status == NOT_CHECKED
        report = validation.validate_version(session, services.settings,
                                             get_version(session, entry, 1))
        assert report.valid, report.errors
        badge = validation.conformity(session, entry)
        assert (badge.status, badge.conform, badge.version) == (CONFORM, True, 1)
        assert badge.label == "Conforme au schéma Équipements de test"

    load(services, dataset, write(tmp_path, "equipements-2.csv", BAD))
    with services.db.unit_of_work() as session:
        entry = session.get(Dataset, dataset.id)
        badge = validation.conformity(session, entry, services.settings)  # validates now
        assert (badge.status, badge.version, badge.error_count) == (NOT_CONFORM, 2, 3)
        report = validation.validate_version(session, services.settings,
                                             get_version(session, entry, 2))
        found = {(e.record, e.field, e.constraint) for e in report.errors}
        assert found == {(1, "Code", "pattern"), (2, "Nom", "required"),
                         (2, "Places", "minimum")}
        assert queries.conformities(session, [entry.id])[entry.id] == badge


def test_declarations_by_name_per_version_and_removal(services: Services, tmp_path: Path) -> None:
    dataset = _dataset(services)
    load(services, dataset, write(tmp_path, "equipements.csv", GOOD))
    with services.db.unit_of_work() as session:
        entry = session.get(Dataset, dataset.id)
        version = get_version(session, entry, 1)
        validation.declare_schema(session, SYSTEM, entry, name="scdl-equipements")
        declared = validation.declared_schema(session, entry, version)
        assert declared is not None and declared.shipped is not None
        assert declared.title.startswith("Équipements")
        report = validation.validate_version(session, services.settings, version)
        assert not report.valid and "missing-label" in report.error_kinds
        validation.declare_schema(session, SYSTEM, entry, descriptor=SMALL_SCHEMA,
                                  version=version)
        assert validation.declared_schema(session, entry, version).title == "Équipements de test"
        assert validation.validate_version(session, services.settings, version).valid
        assert validation.remove_declaration(session, SYSTEM, entry, version)
        assert validation.declared_schema(session, entry, version).shipped is not None
        with pytest.raises(Invalid, match="JSON Schema"):
            validation.declare_schema(session, SYSTEM, entry, name="decp")
        with pytest.raises(Invalid, match="soit le nom"):
            validation.declare_schema(session, SYSTEM, entry)
        reader = factories.account(session, "lecteur@example.fr",
                                   roles=[(entry.organisation, Role.AGENT, None)])
        from patrimoine.access.principal import Principal
        with pytest.raises(Forbidden):
            validation.declare_schema(session, Principal.of(reader), entry,
                                      name="scdl-equipements")


def _token(services: Services, email: str = "cdo@example.fr", superadmin: bool = True) -> str:
    with services.db.unit_of_work() as session:
        acc = factories.account(session, email, superadmin=superadmin)
        _, secret = accounts.create_api_token(session, acc, "tests")
    return secret


def test_api_declares_and_validates(services: Services, client: TestClient,
                                    tmp_path: Path) -> None:
    dataset = _dataset(services, **factories.PUBLIC)
    load(services, dataset, write(tmp_path, "equipements.csv", BAD))
    headers = {"Authorization": f"Bearer {_token(services)}"}
    slug = dataset.slug
    listed = client.get("/api/v1/schemas").json()
    assert any(s["name"] == "scdl-subventions" and s["scdl"] for s in listed)
    assert client.get("/api/v1/schemas/irve/statique").json()["descriptor"]["fields"]
    assert client.get(f"/api/v1/datasets/{slug}/versions/1/validation").status_code == 404
    assert client.put(f"/api/v1/datasets/{slug}/schema", json={"name": "scdl-budget"}
                      ).status_code == 401
    response = client.put(f"/api/v1/datasets/{slug}/schema", headers=headers,
                          json={"descriptor": SMALL_SCHEMA})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["declaration"]["title"] == "Équipements de test"
    assert body["conformity"]["status"] == NOT_CONFORM
    report = client.get(f"/api/v1/datasets/{slug}/versions/1/validation").json()
    assert report["valid"] is False and report["error_count"] == 3
    assert report["errors"][0] | {"message": ""} == {
        "kind": "constraint-error", "message": "", "row": 2, "record": 1, "field": "Code",
        "field_number": 1, "constraint": "pattern", "expected": "^\\d{5}$", "value": "1000",
        "in_files": ["csv", "xlsx"]}  # found in both downloads, listed once
    assert report["files"] == {"csv": 3, "xlsx": 3}
    bad = client.put(f"/api/v1/datasets/{slug}/schema", headers=headers, json={"name": "decp"})
    assert bad.status_code == 422 and "JSON Schema" in bad.json()["error"]
    unknown = client.put(f"/api/v1/datasets/{slug}/schema", headers=headers, json={"name": "x"})
    assert unknown.status_code == 404
    assert client.get(f"/api/v1/datasets/{slug}/schema").json()["conformity"]["status"] \
        == NOT_CONFORM
    assert client.delete(f"/api/v1/datasets/{slug}/schema", headers=headers).status_code == 200
    assert client.get(f"/api/v1/datasets/{slug}/schema").json()["declaration"] is None


def test_back_office_schema_page(services: Services, client: TestClient, tmp_path: Path) -> None:
    dataset = _dataset(services)
    load(services, dataset, write(tmp_path, "equipements.csv", BAD))
    with services.db.unit_of_work() as session:
        factories.account(session, "admin@example.fr", superadmin=True)
    login(client, "admin@example.fr")
    fiche = client.get(f"/admin/inventaire/{dataset.slug}")
    assert f'href="/admin/inventaire/{dataset.slug}/schema"' in fiche.text
    page = client.get(f"/admin/inventaire/{dataset.slug}/schema")
    assert page.status_code == 200
    assert "Aucun schéma déclaré" in page.text and "scdl-subventions" in page.text
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    declared = client.post(f"/admin/inventaire/{dataset.slug}/schema",
                           data={"csrf_token": token, "schema": ""},
                           files={"upload": ("schema.json", json.dumps(SMALL_SCHEMA).encode(),
                                             "application/json")},
                           follow_redirects=True)
    assert declared.status_code == 200, declared.text
    assert "Non conforme au schéma" in declared.text
    assert "dépasse" not in declared.text and "inférieur au minimum autorisé (0)" in declared.text
    assert "Valeur obligatoire manquante." in declared.text
    assert "Score de qualité" in declared.text and "Conformité au schéma" in declared.text
    removed = client.post(f"/admin/inventaire/{dataset.slug}/schema",
                          data={"csrf_token": token, "action": "remove"}, follow_redirects=True)
    assert "Schéma retiré." in removed.text and "Aucun schéma déclaré" in removed.text
    refused = client.post(f"/admin/inventaire/{dataset.slug}/schema",
                          data={"csrf_token": token, "schema": "decp"})
    assert refused.status_code == 422 and "JSON Schema" in refused.text


def test_the_schemas_custom_siret_check_is_applied(tmp_path: Path) -> None:
    shipped = schemas.get_schema("catalogue-donnees")
    path = tmp_path / "catalogue.csv"
    path.write_text(shipped.examples[0].path.read_text(encoding="utf-8")
                    .replace("18006701900430", "18006701900431"), encoding="utf-8")
    report = tableschema.validate_file(path, shipped.descriptor())
    assert [(e.row, e.field, e.constraint, e.message) for e in report.errors] == [
        (2, "siret_orga", "french-siret-value", "« 18006701900431 » n'est pas un numéro SIRET "
         "valide (14 chiffres dont la clé de contrôle est juste).")]
    other = schemas.get_schema("stationnement-cyclable")
    checked = tableschema.validate_file(other.examples[0].path, other.descriptor())
    assert checked.valid
    assert checked.notes == ["Contrôle complémentaire « french_gps_coordinates » du schéma non "
                             "vérifié ici."]


def test_large_versions_are_validated_on_request(services: Services, client: TestClient,
                                                 tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(validation, "AUTO_VALIDATE_ROWS", 1)
    dataset = _dataset(services)
    load(services, dataset, write(tmp_path, "equipements.csv", BAD))
    with services.db.unit_of_work() as session:
        factories.account(session, "admin@example.fr", superadmin=True)
        entry = session.get(Dataset, dataset.id)
        validation.declare_schema(session, SYSTEM, entry, descriptor=SMALL_SCHEMA)
    login(client, "admin@example.fr")
    page = client.get(f"/admin/inventaire/{dataset.slug}/schema")
    assert "n'a pas encore été validée" in page.text and "Conformité non vérifiée" in page.text
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    done = client.post(f"/admin/inventaire/{dataset.slug}/schema",
                       data={"csrf_token": token, "action": "validate"})
    assert done.status_code == 200 and "n'est pas conforme : 3 erreur(s)" in done.text
    with services.db.unit_of_work() as session:
        entry = session.get(Dataset, dataset.id)
        assert validation.conformity(session, entry).status == NOT_CONFORM
        assert validation.kept_report(session, get_version(session, entry, 1)).error_count == 3


def test_api_validates_an_uploaded_file_against_a_shipped_schema(client: TestClient) -> None:
    invalid = SUBVENTIONS / "exemples/exemple_invalide_erreurs_cellules.csv"
    body = client.post("/api/v1/schemas/scdl-subventions/validate",
                       files={"file": (invalid.name, invalid.read_bytes(), "text/csv")}).json()
    assert body["schema"] == "scdl-subventions" and body["valid"] is False
    assert body["error_kinds"]["type-error"] == 5
    valid = schemas.get_schema("irve/statique").examples[0].path
    ok = client.post("/api/v1/schemas/irve/statique/validate",
                     files={"file": (valid.name, valid.read_bytes(), "text/csv")}).json()
    assert ok["valid"] is True and ok["error_count"] == 0
    decp = schemas.get_schema("decp").examples[0].path
    json_report = client.post("/api/v1/schemas/decp/validate",
                              files={"file": (decp.name, decp.read_bytes(), "application/json")})
    assert json_report.json()["valid"] is True
    missing = client.post("/api/v1/schemas/scdl-budget/validate", data={"x": "1"})
    assert missing.status_code == 422 and "champ « file »" in missing.json()["error"]
