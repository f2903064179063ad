"""Every record accounted for: never fewer records than Python's `csv` reads without saying
so, valid but unusual CSVs loaded, accounting amounts read as numbers (with the unreadable
cells listed), header-less files and dBase headers."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from patrimoine.bootstrap import Services
from patrimoine.core.errors import Invalid
from patrimoine.datastore.ingest import sniff
from patrimoine.inventory.models import Dataset
from tests.factories import columns, load, new_dataset, rows, write


@pytest.fixture
def dataset(services: Services) -> Dataset:
    return new_dataset(services)


def python_records(text: str, delimiter: str) -> list[list[str]]:
    return [r for r in csv.reader(io.StringIO(text), delimiter=delimiter) if "".join(r).strip()]


MULTILINE_HEADER = (
    'Bénéficiaire;"Montant\nde la subvention (1)";"Objet\n(2)"\n'
    "Association A;1200;Fête\nAssociation B;800;Sport\nAssociation C;50;Jeux\n"
)


def test_header_cells_with_line_breaks_lose_no_record(services: Services, dataset: Dataset,
                                                      tmp_path: Path) -> None:
    assert len(python_records(MULTILINE_HEADER, ";")) == 4  # the header and 3 records
    version = load(services, dataset, write(tmp_path, "subventions.csv", MULTILINE_HEADER))
    assert version.row_count == 3
    assert [r["beneficiaire"] for r in rows(services, version)] == [
        "Association A", "Association B", "Association C"]
    assert version.columns[1]["source_name"] == "Montant\nde la subvention (1)"
    settings = version.ingest_settings
    assert settings["records_read"] == 3 and settings["records_loaded"] == 3
    assert settings["rejected_records"] == [] and settings["rejected_cells"] == []
    assert settings["encoding"] == "utf-8" and settings["delimiter"] == ";"


# All fields quoted, descriptions over many physical lines, an empty first line, a line
# holding a single space, a trailing empty header cell, HTML entities, a space after a
# closing quote: Python's csv reads it.
QUOTED = (
    '\n \n"id","titre","description",""\n'
    '"1","Parc","Un parc\nau bord\n\nde l\'eau",""\n'
    '"2","Salle &amp; scène","Salle de &quot;spectacle&quot;","" \n'
    '"3","Halle","Marché\ncouvert",""\n'
    '"4","Kiosque"\n'
)


def test_valid_csv_with_quoted_multiline_cells_loads(services: Services, dataset: Dataset,
                                                     tmp_path: Path) -> None:
    assert len(python_records(QUOTED, ",")) == 5
    version = load(services, dataset, write(tmp_path, "equipements.csv", QUOTED))
    assert version.row_count == 4
    data = rows(services, version)
    assert [r["titre"] for r in data] == ["Parc", "Salle &amp; scène", "Halle", "Kiosque"]
    assert data[0]["description"] == "Un parc\nau bord\n\nde l'eau"
    assert data[3]["description"] is None  # the short row completed with nulls
    assert version.ingest_settings["records_read"] == 4
