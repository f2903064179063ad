"""The demo's datasets presented as following a national schema (SCDL, IRVE) do: each one
declares it, and the files its portal serves (CSV and XLSX, downloaded through HTTP) pass
frictionless' validation against the official schema, unmodified."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from frictionless import Resource, Schema, validate

from patrimoine.bootstrap import Services
from patrimoine.demo.published import SPECS_PUBLISHED, Spec
from patrimoine.inventory.models import Dataset
from patrimoine.standards import schemas, validation
from patrimoine.standards.queries import CONFORM

CLAIMS = ("SCDL", "IRVE")


def test_every_dataset_presented_as_following_a_schema_declares_it() -> None:
    claiming = {s.slug for s in SPECS_PUBLISHED
                if any(c in s.keywords or c in s.description for c in CLAIMS)}
    assert claiming == {"subventions-associations", "deliberations-conseil-municipal",
                        "bornes-recharge-vehicules-electriques"}
    assert all(s.schema for s in SPECS_PUBLISHED if s.slug in claiming)


@pytest.mark.demo
@pytest.mark.parametrize("spec", [s for s in SPECS_PUBLISHED if s.schema],
                         ids=lambda s: s.slug)
def test_the_served_files_conform_to_the_official_schema(services: Services,
                                                         client: TestClient, tmp_path: Path,
                                                         spec: Spec) -> None:
    assert spec.schema is not None
    official = schemas.get_schema(spec.schema).descriptor()
    for fmt in ("csv", "xlsx"):
        page = client.get(f"/datasets/{spec.slug}/telecharger", params={"format": fmt})
        assert page.status_code == 200, page.text
        (tmp_path / f"served.{fmt}").write_bytes(page.content)
        report = validate(Resource(path=f"served.{fmt}", basepath=str(tmp_path),
                                   schema=Schema.from_descriptor(copy.deepcopy(official))))
        errors = [e.message for task in report.tasks for e in task.errors]
        assert errors == [], (fmt, len(errors), errors[:5])
    with services.db.session() as session:
        dataset = session.query(Dataset).filter_by(slug=spec.slug).one()
        badge = validation.conformity(session, dataset, services.settings)
        assert badge.status == CONFORM, badge
