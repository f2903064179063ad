"""Which versions of an open dataset the public may read: only those that passed the gate."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from patrimoine.bootstrap import Services
from patrimoine.datastore.models import DatasetVersion
from patrimoine.inventory import service as inventory
from patrimoine.inventory.models import Dataset
from patrimoine.protection.findings import anonymise
from tests.factories import PUBLIC, SYSTEM, load, persons_csv, persons_world

CLEAN = "commune,equipement,places\nOrléans,Piscine du Lac,120\nOlivet,Gymnase,80\n"


def _open(services: Services, dataset: Dataset) -> None:
    with services.db.unit_of_work() as s:
        entry = s.get(Dataset, dataset.id)
        data = inventory.dataset_input(entry).model_copy(update=PUBLIC)
        inventory.update_dataset(s, SYSTEM, entry, data)


def test_public_sees_only_versions_without_personal_data(
        services: Services, client: TestClient, tmp_path: Path) -> None:
    clean = tmp_path / "propre.csv"
    clean.write_text(CLEAN, encoding="utf-8")
    world = persons_world(services, tmp_path, CLEAN)  # version 1: no personal data
    persons = tmp_path / "personnes.csv"
    persons.write_text(persons_csv(), encoding="utf-8")
    load(services, world.dataset, persons)  # version 2: names and emails
    _open(services, world.dataset)
    slug = world.dataset.slug

    listed = client.get(f"/api/v1/datasets/{slug}/versions").json()
    assert [v["number"] for v in listed] == [1]
    latest = client.get(f"/api/v1/datasets/{slug}/records").json()
    assert latest["version"] == 1 and latest["rows"][0]["commune"] == "Orléans"
    assert client.get(f"/api/v1/datasets/{slug}/versions/2/records").status_code == 404
    assert client.get(f"/api/v1/datasets/{slug}/versions/2/export.csv").status_code == 404


def test_the_raw_original_of_an_anonymised_version_stays_closed(
        services: Services, client: TestClient, tmp_path: Path) -> None:
    world = persons_world(services, tmp_path)
    _open(services, world.dataset)
    slug = world.dataset.slug
    assert client.get(f"/api/v1/datasets/{slug}/records").status_code == 404  # personal data

    with services.db.unit_of_work() as s:
        entry = s.get(Dataset, world.dataset.id)
        original = s.get(DatasetVersion, world.version.id)
        plan = [anonymise.Operation(op="drop", column=c)
                for c in ("prenom", "nom", "email", "date_naissance", "latitude", "longitude")]
        anonymise.anonymise(s, services.settings, world.dpo, entry, original, plan)

    listed = client.get(f"/api/v1/datasets/{slug}/versions").json()
    assert [v["number"] for v in listed] == [2]
    page = client.get(f"/api/v1/datasets/{slug}/records").json()
    assert page["version"] == 2 and "email" not in page["columns"]
    assert client.get(f"/api/v1/datasets/{slug}/versions/1/records").status_code == 404
