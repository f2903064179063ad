"""Conformity is about the distributed file: the official valid SCDL example, loaded and
published unchanged, downloads (CSV and XLSX, through HTTP) as files frictionless finds
conform to the official schema, and the badge is computed on those bytes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from frictionless import Resource, Schema, validate

from patrimoine.bootstrap import Services
from patrimoine.inventory.models import Dataset
from patrimoine.standards import schemas, validation
from tests import factories
from tests.factories import SYSTEM, load

SUBVENTIONS = schemas.SCHEMAS_DIR / "scdl-subventions"
EXAMPLE = SUBVENTIONS / "exemples" / "exemple_valide.csv"


def _frictionless_errors(folder: Path, name: str, data: bytes) -> list[str]:
    """frictionless' own verdict on `data` against the official schema, as its messages."""
    path = folder / name
    path.write_bytes(data)
    schema = Schema.from_descriptor(json.loads((SUBVENTIONS / "schema.json").read_text()))
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
