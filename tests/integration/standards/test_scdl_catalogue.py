"""The inventory to and from the data-catalogue schema (catalogue-donnees), validated with
frictionless against the schema as published."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import frictionless
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from patrimoine.access import service as accounts
from patrimoine.bootstrap import Services
from patrimoine.core.errors import Invalid
from patrimoine.interop import scdl_catalogue
from patrimoine.inventory.models import Dataset, UpdateFrequency
from patrimoine.standards import schemas, tableschema
from tests import factories
from tests.conftest import Cli

SYSTEM = factories.SYSTEM
SHARED = Path(__file__).resolve().parents[4] / "shared" / "standards" / "schemas"
PUBLISHED = (SHARED if SHARED.is_dir() else schemas.SCHEMAS_DIR) / "catalogue-donnees"
EXAMPLE = PUBLISHED / "exemple-valide.csv"


def _frictionless_valid(path: Path) -> frictionless.Report:
    """Validate with frictionless itself, against the published schema file, unmodified."""
    resource = frictionless.Resource(path=path.name, basepath=str(path.parent),
                                     schema=frictionless.Schema.from_descriptor(json.loads(
                                         (PUBLISHED / "schema.json").read_text("utf-8"))))
    return resource.validate()


def _inventory(services: Services) -> None:
    with services.db.unit_of_work() as session:
        org = factories.organisation(session, "Ville de Troyes")
        sports = factories.department(session, org, "Direction des sports")
        factories.dataset(
            session, org, "Équipements sportifs", department=sports,
            description="Liste des équipements sportifs municipaux : gymnases, piscines, "
                        "stades, avec leurs adresses, capacités et horaires d'ouverture.",
            keywords=["sport", "équipements"], contact_email="sports@troyes.fr",
            spatial_coverage="Troyes", update_frequency=UpdateFrequency.ANNUAL,
            licence="Licence Ouverte 2.0", **factories.PUBLIC,
            temporal_start=date(2020, 1, 1))
        factories.dataset(
            session, org, "Budget primitif", theme="Finances", contact_email="finances@troyes.fr",
            spatial_coverage="Troyes", description="", licence="ODbL")
        factories.dataset(session, org, "Fichier des agents")  # no contact, no coverage


def test_the_schemas_example_file_imports(services: Services) -> None:
    with services.db.unit_of_work() as session:
        done = scdl_catalogue.import_catalogue(session, SYSTEM, EXAMPLE.read_bytes(), EXAMPLE.name)
        assert done.kind == "catalogue-donnees" and done.result is not None
        assert done.result.counts == {"create": 1, "update": 0, "unchanged": 0}
    with services.db.unit_of_work() as session:
        dataset = session.scalars(select(Dataset)).one()
        assert dataset.title == "Arbres vivants inventoriés en forêt."
        assert dataset.organisation.name == ("Institut national de l'information géographique "
                                             "et forestière")
        assert dataset.department is not None
        assert dataset.department.name == "Service de l'inventaire forestier."
        assert dataset.keywords == ["arbre", "forêt", "écologie"]
        assert dataset.contact_email == "jean.martin@ign.fr"
        assert dataset.update_frequency == UpdateFrequency.ANNUAL
        assert dataset.spatial_coverage == "France métropolitaine"
        assert dataset.licence == "Licence ouverte"
        assert dataset.description.startswith("Données brutes de l'inventaire forestier")
        kept = dataset.extra["catalogue"]
        assert kept["siret_orga"] == "18006701900430" and kept["format"] == "CSV, XLSX"
        assert kept["url"].startswith("https://www.data.gouv.fr/")
    with services.db.unit_of_work() as session:  # the same file again changes nothing
        again = scdl_catalogue.import_catalogue(session, SYSTEM, EXAMPLE.read_bytes(),
                                                EXAMPLE.name)
        assert again.result is not None and again.result.counts["unchanged"] == 1


def test_export_validates_against_the_published_schema(services: Services,
                                                       tmp_path: Path) -> None:
    _inventory(services)
    with services.db.unit_of_work() as session:
        export = scdl_catalogue.export_catalogue(session, SYSTEM,
                                                 public_url="https://data.troyes.fr")
    path = tmp_path / "catalogue.csv"
    path.write_bytes(export.csv_bytes())
    report = _frictionless_valid(path)
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert [r["titre"] for r in rows] == ["Budget primitif", "Équipements sportifs"]
    budget, sports = rows
    assert budget["service"] == "Ville de Troyes"  # no direction: the organisation itself
    assert budget["description"] == "Budget primitif"  # no description: the title
    assert budget["mots_cles"] == "Finances"  # no keywords: the theme
    assert budget["licence"] == "ODbL" and budget["url"] == ""
    assert sports["service"] == "Direction des sports"
    assert sports["mots_cles"] == "sport,équipements"
    assert sports["freq_maj"] == "Annuelle" and sports["licence"] == "Licence Ouverte 2.0"
    assert sports["url"].startswith("https://data.troyes.fr/datasets/")
    assert [(s.title, s.missing) for s in export.skipped] == [
        ("Fichier des agents", ["mots_cles", "contact_personne", "couv_geo"])]
    assert budget["format"] == "inconnu" and budget["date_maj"] == ""

    incomplete = tmp_path / "incomplet.csv"
    with services.db.unit_of_work() as session:
        everything = scdl_catalogue.export_catalogue(session, SYSTEM, include_incomplete=True)
    incomplete.write_bytes(everything.csv_bytes())
    assert everything.incomplete_written == 1 and len(everything.rows) == 3
    assert not _frictionless_valid(incomplete).valid
    # our own validator agrees with frictionless on both files
    descriptor = scdl_catalogue.schema().descriptor()
    assert tableschema.validate_file(path, descriptor).valid
    assert {e.constraint for e in tableschema.validate_file(incomplete, descriptor).errors} \
        == {"required"}


def test_round_trip_through_the_catalogue(services: Services, tmp_path: Path,
                                          settings: Any) -> None:
    _inventory(services)
    with services.db.unit_of_work() as session:
        first = scdl_catalogue.export_catalogue(session, SYSTEM).csv_bytes()
        # importing our own export into the same inventory finds every entry again; the
        # only change is the theme standing in for missing keywords, now kept as a keyword
        again = scdl_catalogue.import_catalogue(session, SYSTEM, first, "catalogue.csv")
        assert again.result is not None
        assert again.result.counts == {"create": 0, "update": 1, "unchanged": 1}
        assert [(r.title, r.changes) for r in again.plan.rows if r.action == "update"] == [
            ("Budget primitif", {"keywords": ([], ["Finances"])})]
        unchanged = scdl_catalogue.import_catalogue(session, SYSTEM, first, "catalogue.csv")
        assert unchanged.result is not None and unchanged.result.counts["unchanged"] == 2
    with services.db.unit_of_work() as session:
        second = scdl_catalogue.export_catalogue(session, SYSTEM).csv_bytes()
    assert second == first


def test_scdl_catalogue_files_import_too(services: Services, tmp_path: Path) -> None:
    fields = [f["name"] for f in schemas.get_schema("scdl-catalogue").descriptor()["fields"]]
    row = {
        "COLL_NOM": "Rennes Métropole", "COLL_SIRET": "24350013900189",
        "ID": "prenoms-2017", "TITRE": "Prénoms des nouveaux-nés à Rennes en 2017",
        "DESCRIPTION": "Liste annuelle des prénoms des nouveaux-nés.", "THEME": "Société",
        "PRODUCTEUR_NOM": "Ville de Rennes", "PRODUCTEUR_SIRET": "21350238800019",
        "COUV_SPAT_MAILLE": "Communale", "COUV_SPAT_NOM": "Rennes",
        "COUV_TEMP_DEBUT": "2017-01-01", "COUV_TEMP_FIN": "2017-12-31",
        "DATE_PUBL": "2018-01-15", "FREQ_MAJ": "Bimestrielle", "DATE_MAJ": "2018-01-15",
        "MOTS_CLES": "scdl;prenoms;etat-civil", "LICENCE": "Licence Ouverte-LO",
        "NOMBRE_RESSOURCES": "1", "FORMAT_RESSOURCES": "csv",
        "URL": "https://data.rennesmetropole.fr/explore/dataset/prenoms-2017",
    }
    path = tmp_path / "catalogue-scdl.csv"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerow(row)
    path.write_text(out.getvalue(), encoding="utf-8")
    assert tableschema.validate_file(
        path, schemas.get_schema("scdl-catalogue").descriptor()).valid  # a conformant file
    with services.db.unit_of_work() as session:
        done = scdl_catalogue.import_catalogue(session, SYSTEM, path.read_bytes(), path.name)
        assert done.kind == "scdl-catalogue"
    with services.db.unit_of_work() as session:
        dataset = session.scalars(select(Dataset)).one()
        assert dataset.organisation.name == "Rennes Métropole"
        assert dataset.producer == "Ville de Rennes" and dataset.theme == "Société"
        assert (dataset.temporal_start, dataset.temporal_end) == (date(2017, 1, 1),
                                                                  date(2017, 12, 31))
        assert dataset.keywords == ["scdl", "prenoms", "etat-civil"]
        assert dataset.update_frequency == UpdateFrequency.QUARTERLY
        assert dataset.licence == "Licence Ouverte 2.0"
        assert dataset.extra["catalogue"]["format"] == "csv"


def test_a_file_of_another_shape_is_refused_in_french(services: Services) -> None:
    with services.db.unit_of_work() as session, pytest.raises(Invalid, match="catalogue-donnees"):
        scdl_catalogue.import_catalogue(session, SYSTEM, b"a,b\n1,2\n", "autre.csv")
    bad = EXAMPLE.read_text(encoding="utf-8").replace("jean.martin@ign.fr", "pas-un-courriel")
    with services.db.unit_of_work() as session:
        planned = scdl_catalogue.import_catalogue(session, SYSTEM, bad.encode(), "bad.csv",
                                                  dry_run=True)
        assert not planned.ok
        assert planned.plan.errors[0].column == "Courriel du contact"
        with pytest.raises(Invalid, match="rien n'a été importé"):
            scdl_catalogue.apply_catalogue(session, SYSTEM, planned)


def test_cli_export_and_import(services: Services, tmp_path: Path, cli: Cli) -> None:
    planned = cli("inventory", "import-scdl", str(EXAMPLE), "--dry-run")
    assert planned.returncode == 0, planned.stderr
    assert "Simulation (--dry-run) : 1 à créer" in planned.stdout
    done = cli("inventory", "import-scdl", str(EXAMPLE))
    assert done.returncode == 0, done.stderr
    assert "Import terminé (catalogue-donnees) : 1 créé(s)" in done.stdout
    target = tmp_path / "export.csv"
    exported = cli("inventory", "export-scdl", str(target), "--json")
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout)["rows"] == 1
    assert _frictionless_valid(target).valid
    missing = cli("inventory", "import-scdl", str(tmp_path / "absent.csv"))
    assert missing.returncode == Invalid.exit_code and "Fichier introuvable" in missing.stderr


def test_api_export_and_import(services: Services, client: TestClient) -> None:
    _inventory(services)
    anonymous = client.get("/api/v1/inventory/export-scdl")
    assert anonymous.status_code == 200
    assert anonymous.headers["content-type"].startswith("text/csv")
    titles = [r["titre"] for r in csv.DictReader(io.StringIO(anonymous.text))]
    assert titles == ["Équipements sportifs"]  # the only open entry
    with services.db.unit_of_work() as session:
        acc = factories.account(session, "cdo@example.fr", superadmin=True)
        _, secret = accounts.create_api_token(session, acc, "tests")
    headers = {"Authorization": f"Bearer {secret}"}
    report = client.get("/api/v1/inventory/export-scdl/report", headers=headers).json()
    assert report["rows"] == 2 and report["skipped"][0]["title"] == "Fichier des agents"
    files = {"file": (EXAMPLE.name, EXAMPLE.read_bytes(), "text/csv")}
    planned = client.post("/api/v1/inventory/import-scdl?dry_run=true", headers=headers,
                          files=files)
    assert planned.status_code == 200, planned.text
    assert planned.json()["dry_run"] is True and planned.json()["counts"]["create"] == 1
    done = client.post("/api/v1/inventory/import-scdl", headers=headers, files=files)
    assert done.json()["created"] == ["arbres-vivants-inventories-en-foret"]
    assert client.post("/api/v1/inventory/import-scdl", files=files).status_code == 401


def test_every_link_and_format_listed_answers(database_url: str, tmp_path: Path) -> None:
    """Each public row's page answers under the instance's public URL, and each format its
    `format` column lists downloads with its media type; GeoJSON only where there are
    positions, NDJSON everywhere data is published."""
    from patrimoine.interop.public import FORMAT_LABELS
    from patrimoine.reading import language
    from patrimoine.web.app import create_app

    public_url = "https://donnees.valdeloire.example"
    territory = factories.demo_territory(database_url, tmp_path, public_url=public_url)
    try:
        client = TestClient(create_app(services=territory.services))
        # every row, also those the schema would refuse for a missing contact or coverage
        served = client.get("/api/v1/inventory/export-scdl?incomplets=true")
        assert served.status_code == 200, served.text
        rows = list(csv.DictReader(io.StringIO(served.text)))
        by_label = {label: fmt for fmt, label in FORMAT_LABELS.items()}
        with_data = {r["titre"]: r for r in rows if r["format"] != "inconnu"}
        assert set(with_data) == {territory.trees.title, territory.budget.title}
        for row in rows:
            assert row["url"].startswith(f"{public_url}/datasets/"), row
            page = client.get(row["url"].removeprefix(public_url))
            assert page.status_code == 200 and page.headers["content-type"].startswith(
                "text/html"), row["url"]
        offered = {}
        for title, row in with_data.items():
            slug = row["url"].rsplit("/", 1)[1]
            offered[title] = row["format"].split(",")
            for label in offered[title]:
                fmt = by_label[label]
                answer = client.get(f"/api/v1/datasets/{slug}/export.{fmt}")
                assert answer.status_code == 200, (slug, fmt, answer.text[:200])
                assert answer.headers["content-type"] == language.MEDIA_TYPES[fmt], (slug, fmt)
        assert "GeoJSON" in offered[territory.trees.title]  # the trees have positions
        assert "GeoJSON" not in offered[territory.budget.title]
        assert all("NDJSON" in labels for labels in offered.values())
    finally:
        territory.services.db.dispose()
