"""The command line, the web pages and the API report a load the same way: records read,
loaded and rejected with their lines, cells rejected, dialect, encoding, source CRS and the
meaning of each column (issue 13).

Each file goes through the three doors into three datasets; the report of each door must be
the same, and the pages and the command's text must show its sentences."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from patrimoine.access import service as accounts
from patrimoine.access.models import Account
from patrimoine.core.db import Database
from patrimoine.datastore import versions
from patrimoine.datastore.ingest.plan import load_report, report_lines
from patrimoine.inventory.models import Dataset, Organisation
from tests.conftest import Cli
from tests.factories import CDO, dataset, ligerac, login

ROOT = Path(__file__).resolve().parents[2]
FILES = [
    # Accounting amounts with decimal commas, `|` separated (DGFiP's DVF extract).
    ROOT / "corpus/files/dgfip-valeurs-foncieres-2024.txt",
    # INSEE populations with one corrupted amount: one rejected cell (derived).
    ROOT / "data/derived/insee-populations-valeur-abimee.csv",
    # Points in Lambert-93 without a `crs` member (derived from Rennes' producers).
    ROOT / "data/derived/rennes-producteurs-lambert93.geojson",
]


def _via_cli(cli: Cli, path: Path, slug: str) -> tuple[dict[str, Any], str]:
    done = cli("datastore", "load", str(path), "--dataset", slug, "--json", "--accept-rejects")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)["report"]
    text = cli("datastore", "load", str(path), "--dataset", f"{slug}-texte", "--accept-rejects")
    assert text.returncode == 0, text.stderr
    return report, text.stdout


def _via_api(client: TestClient, db: Database, path: Path, slug: str) -> dict[str, Any]:
    with db.unit_of_work() as s:
        account = s.scalars(select(Account).where(Account.email == CDO)).one()
        _row, secret = accounts.create_api_token(s, account, "tests")
    r = client.post(f"/api/v1/datasets/{slug}/versions",
                    headers={"Authorization": f"Bearer {secret}"},
                    data={"accept_rejects": "true"},
                    files={"file": (path.name, path.read_bytes(), "application/octet-stream")})
    assert r.status_code == 201, r.text
    report: dict[str, Any] = r.json()["version"]["report"]
    return report


def _via_pages(client: TestClient, db: Database, path: Path, slug: str
               ) -> tuple[dict[str, Any], str]:
    token = login(client, CDO)
    base = f"/admin/inventaire/{slug}"
    r = client.post(f"{base}/donnees", data={"csrf_token": token},
                    files={"fichier": (path.name, path.read_bytes(), "application/octet-stream")})
    assert r.status_code == 200, r.text
    jeton = re.search(r'name="jeton" value="([^"]+)"', r.text)
    assert jeton is not None
    r = client.post(f"{base}/donnees/charger",
                    data={"csrf_token": token, "jeton": jeton.group(1), "accepter_rejets": "1"},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    with db.session() as s:
        entry = s.scalars(select(Dataset).where(Dataset.slug == slug)).one()
        version = versions.latest_version(s, entry)
        assert version is not None
        report = load_report(version.ingest_settings)
    return report, html.unescape(client.get(f"{base}/publication").text)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_cli_pages_and_api_report_a_load_the_same_way(
        cli: Cli, client: TestClient, db: Database, path: Path) -> None:
    world = ligerac(db)
    with db.unit_of_work() as s:
        org = s.get_one(Organisation, world.org_id)
        api_slug = dataset(s, org, "Par l'API").slug
    page_slug = world.slug
    from_cli, cli_text = _via_cli(cli, path, "par-la-ligne-de-commande")
    from_api = _via_api(client, db, path, api_slug)
    from_pages, page = _via_pages(client, db, path, page_slug)
    assert from_cli == from_api == from_pages
    for line in report_lines(from_cli):
        assert line in page, line
        assert " ".join(line.split()) in " ".join(cli_text.split()), line


def test_the_report_holds_the_figures_of_each_file(cli: Cli, db: Database) -> None:
    ligerac(db)
    amounts, _ = _via_cli(cli, FILES[0], "montants")
    assert (amounts["records_read"], amounts["records_loaded"]) == (100, 100)
    assert amounts["encoding"] == "utf-8" and amounts["delimiter"] == "|"
    assert amounts["rejected_cells"] == [] and amounts["source_crs"] is None
    assert amounts["meanings"]["date_mutation"] == "date"
    assert amounts["meanings"]["code_departement"] == "code département"
    damaged, _ = _via_cli(cli, FILES[1], "populations")
    assert (damaged["records_read"], damaged["records_loaded"]) == (400, 400)
    assert damaged["rejected_cells"] == [
        {"record": 150, "line": 151, "column": "PMUN", "value": "N   1 234"}]
    assert damaged["meanings"]["com"] == "code commune INSEE"
    lambert, _ = _via_cli(cli, FILES[2], "producteurs")
    assert lambert["source_crs"] == "EPSG:2154" and lambert["records_loaded"] == 9
    assert lambert["meanings"]["latitude"] == "latitude"
