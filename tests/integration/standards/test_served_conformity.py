"""Conformity is about the distributed file: the official valid SCDL example, loaded and
published unchanged, downloads (CSV and XLSX, through HTTP) as files frictionless finds
conform to the official schema, and the badge is computed on those bytes."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from frictionless import Resource, Schema, validate

from patrimoine.access import service as accounts
from patrimoine.bootstrap import Services
from patrimoine.inventory.models import Dataset
from patrimoine.standards import schemas, validation
from patrimoine.standards.queries import CONFORM
from tests import factories
from tests.factories import SYSTEM, load, login, write

SUBVENTIONS = schemas.SCHEMAS_DIR / "scdl-subventions"
EXAMPLE = SUBVENTIONS / "exemples" / "exemple_valide.csv"
IRVE = schemas.SCHEMAS_DIR / "irve" / "statique"


def _frictionless_errors(folder: Path, name: str, data: bytes,
                         official: Path = SUBVENTIONS / "schema.json") -> list[str]:
    """frictionless' own verdict on `data` against the official schema, as its messages."""
    path = folder / name
    path.write_bytes(data)
    schema = Schema.from_descriptor(json.loads(official.read_text()))
    report = validate(Resource(path=name, basepath=str(folder), schema=schema))
    return [e.message for task in report.tasks for e in task.errors]


@pytest.fixture
def published(services: Services, tmp_path: Path) -> Dataset:
    with services.db.unit_of_work() as session:
        entry = factories.dataset(session, factories.organisation(session),
                                  title="Subventions 2017", **factories.PUBLIC)
        validation.declare_schema(session, SYSTEM, entry, name="scdl-subventions")
    source = tmp_path / "exemple_valide.csv"
    shutil.copy(EXAMPLE, source)
    load(services, entry, source)
    return entry


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_downloads_of_the_official_example_conform(published: Dataset, client: TestClient,
                                                   tmp_path: Path, fmt: str) -> None:
    response = client.get(f"/api/v1/datasets/{published.slug}/export.{fmt}")
    assert response.status_code == 200, response.text
    assert _frictionless_errors(tmp_path, f"download.{fmt}", response.content) == []


def test_the_badge_and_its_report_are_about_the_downloads(services: Services,
                                                          published: Dataset,
                                                          client: TestClient) -> None:
    with services.db.unit_of_work() as session:
        entry = session.get(Dataset, published.id)
        assert validation.conformity(session, entry, services.settings).status == CONFORM
    report = client.get(f"/api/v1/datasets/{published.slug}/versions/1/validation").json()
    assert report["valid"] is True
    assert report["files"] == {"csv": 0, "xlsx": 0}
    with services.db.unit_of_work() as session:
        factories.account(session, "admin@example.fr", superadmin=True)
    login(client, "admin@example.fr")
    page = client.get(f"/admin/inventaire/{published.slug}/schema")
    assert "est conforme au schéma" in page.text
    assert "fichiers téléchargés vérifiés (CSV, XLSX)" in page.text


def test_source_names_by_default_technical_names_on_request(services: Services,
                                                            client: TestClient,
                                                            tmp_path: Path) -> None:
    with services.db.unit_of_work() as session:
        entry = factories.dataset(session, factories.organisation(session),
                                  title="Équipements", **factories.PUBLIC)
    load(services, entry, write(tmp_path, "equipements.csv",
                                "Nom de l'équipement;Ouvert;Mise en service\n"
                                "Piscine;oui;01/06/2015\n"))
    base = f"/api/v1/datasets/{entry.slug}/export"
    source = client.get(base + ".csv")
    assert list(csv.reader(io.StringIO(source.text))) == [
        ["Nom de l'équipement", "Ouvert", "Mise en service"], ["Piscine", "true", "2015-06-01"]]
    technical = client.get(base + ".csv", params={"names": "technical"})
    assert next(csv.reader(io.StringIO(technical.text))) == [
        "nom_de_l_equipement", "ouvert", "mise_en_service"]
    assert technical.headers["etag"] != source.headers["etag"]
    assert list(client.get(base + ".json").json()[0]) == [
        "Nom de l'équipement", "Ouvert", "Mise en service"]
    bad = client.get(base + ".csv", params={"names": "autres"})
    assert bad.status_code == 422 and "technical" in bad.json()["error"]


def test_the_official_irve_example_downloads_conform(services: Services, client: TestClient,
                                                     tmp_path: Path) -> None:
    """Its coordonneesXY give the version positions (two columns ingest derives): the file
    served under the schema has the loaded file's columns only."""
    with services.db.unit_of_work() as session:
        entry = factories.dataset(session, factories.organisation(session),
                                  title="Bornes de recharge", **factories.PUBLIC)
        validation.declare_schema(session, SYSTEM, entry, name="irve/statique")
    source = tmp_path / "irve.csv"
    shutil.copy(IRVE / "exemple-valide-statique.csv", source)
    version = load(services, entry, source)
    assert version.positions is not None
    # Its contacts hold the public back until the personal-data review: its staff read it.
    with services.db.unit_of_work() as session:
        staff = factories.account(session, "cdo@example.fr", superadmin=True)
        _, secret = accounts.create_api_token(session, staff, "tests")
    client.headers["Authorization"] = f"Bearer {secret}"
    for fmt in ("csv", "xlsx"):
        response = client.get(f"/api/v1/datasets/{entry.slug}/export.{fmt}")
        assert response.status_code == 200, response.text
        assert _frictionless_errors(tmp_path, f"irve.{fmt}", response.content,
                                    IRVE / "schema-statique.json") == [], fmt
    # Asked for by name, a derived column is still there.
    asked = client.get(f"/api/v1/datasets/{entry.slug}/export.csv",
                       params={"columns": "id_pdc_itinerance,latitude"})
    assert next(csv.reader(io.StringIO(asked.text))) == ["id_pdc_itinerance", "latitude"]
