"""The public register on the portal: published entries only, a page per algorithm with its
documents and the mention for decision letters, CSV and JSON exports with the documented
fields and neutralised formula cells."""

from __future__ import annotations

import csv
import io
import json

from fastapi.testclient import TestClient

from patrimoine.access.principal import Principal
from patrimoine.core.db import Database
from patrimoine.transparency import exports, service
from tests import factories as f

SYSTEM = Principal.system("tests")


def _world(db: Database) -> tuple[int, int]:
    with db.unit_of_work() as s:
        org = f.organisation(s, "Métropole de Test")
        used = f.dataset(s, org, "Quotients familiaux", access_level="open",
                         lifecycle_stage="published")
        closed = f.dataset(s, org, "Dossiers des allocataires")
        published = service.create_algorithm(s, SYSTEM, f.full_algorithm(
            org.id, dataset_ids=[used.id, closed.id], supplier="=HYPERLINK(\"http://x\")",
            documents={"description": {"url": "https://example.fr/desc.pdf",
                                       "title": "Note de présentation"},
                       "diagram": {"url": "https://example.fr/logigramme.png"}}))
        draft = service.create_algorithm(s, SYSTEM, f.full_algorithm(
            org.id, name="Attribution des places en crèche", status="draft"))
        return published.id, draft.id


def test_the_portal_lists_and_shows_published_algorithms_only(db: Database,
                                                               client: TestClient) -> None:
    published, draft = _world(db)
    listing = client.get("/algorithmes")
    assert listing.status_code == 200
    assert "Tarification solidaire des transports" in listing.text
    assert "Attribution des places en crèche" not in listing.text
    assert client.get(f"/algorithmes/{draft}").status_code == 404

    page = client.get(f"/algorithmes/{published}")
    assert page.status_code == 200
    html = page.text
    assert 'href="https://example.fr/desc.pdf"' in html and "Note de présentation" in html
    assert "Logigramme" in html and "Quotients familiaux" in html
    # A dataset the public may not read is not named by its inventory title.
    assert "Dossiers des allocataires" not in html
    assert "<th scope=\"row\">Quotient familial</th>" in html
    # The mention: the decision was taken by an algorithm, how to ask for its rules, where.
    assert "R311-3-1-1" in html and "transparence@example.fr" in html
    assert f"http://testserver/algorithmes/{published}" in html


def test_exports_carry_the_documented_fields_and_neutralise_formulas(
        db: Database, client: TestClient) -> None:
    published, _ = _world(db)
    names = [name for name, _ in exports.FIELDS]
    rows = list(csv.reader(io.StringIO(client.get("/algorithmes.csv").text)))
    assert rows[0] == names and len(rows) == 2
    row = dict(zip(names, rows[1], strict=True))
    assert row["supplier"] == "'=HYPERLINK(\"http://x\")"
    assert row["parameters"].startswith("Quotient familial (Détermine la tranche) : ")
    assert row["datasets"] == "Quotients familiaux" and row["dpia"] == "non"
    assert row["url"] == f"http://testserver/algorithmes/{published}"

    data = json.loads(client.get("/algorithmes.json").text)
    assert [field["name"] for field in data["fields"]] == names
    [entry] = data["algorithms"]
    assert list(entry) == names
    assert entry["supplier"] == "=HYPERLINK(\"http://x\")"  # JSON is data, not a spreadsheet
    assert entry["document_diagram"] == "https://example.fr/logigramme.png"
    assert entry["automation"] == "fully_automated" and entry["decisions_per_year"] == 42000


def test_the_mention_says_how_the_decision_was_taken(db: Database) -> None:
    with db.unit_of_work() as s:
        org = f.organisation(s, "Métropole de Test")
        helper = service.create_algorithm(s, SYSTEM, f.full_algorithm(
            org.id, automation="decision_support"))
        text = exports.mention_explicite(helper, "https://data.example.fr/")
    assert text.startswith("Cette décision a été prise avec l'aide d'un traitement "
                           "algorithmique")
    assert "Métropole de Test : transparence@example.fr" in text
    assert text.endswith(f"https://data.example.fr/algorithmes/{helper.id}")


def test_every_exported_field_is_documented() -> None:
    from pathlib import Path
    doc = (Path(__file__).parents[3] / "docs" / "transparency.md").read_text(encoding="utf-8")
    assert [n for n, _ in exports.FIELDS if f"| `{n}` |" not in doc] == []
