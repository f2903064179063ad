"""The upload preview and the staff's publication page show each column's recognised meaning."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from patrimoine.access import service as accounts
from patrimoine.access.models import Account
from patrimoine.core.db import Database
from patrimoine.standards.schemas import SCHEMAS_DIR
from tests.factories import CDO, LIGERAC_COUNTERS_CSV, ligerac, login


def test_preview_and_publication_page_show_meanings(client: TestClient, db: Database) -> None:
    world = ligerac(db)
    token = login(client, CDO)
    base = f"/admin/inventaire/{world.slug}"
    r = client.post(f"{base}/donnees", data={"csrf_token": token},
                    files={"fichier": ("comptages.csv", LIGERAC_COUNTERS_CSV.encode(), "text/csv")})
    assert r.status_code == 200, r.text
    assert "code commune INSEE" in r.text and ">latitude</span>" in r.text
    jeton = re.search(r'name="jeton" value="([^"]+)"', r.text)
    assert jeton is not None
    r = client.post(f"{base}/donnees/charger", data={"csrf_token": token,
                                                      "jeton": jeton.group(1)},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    page = client.get(f"{base}/publication").text
    assert "Colonnes de la version 1" in page
    row = re.search(r"<code>code_insee</code></th>(.*?)</tr>", page)
    assert row is not None and "code commune INSEE" in row.group(1)


def test_preview_offers_the_matching_schema(client: TestClient, db: Database) -> None:
    world = ligerac(db)
    token = login(client, CDO)
    example = SCHEMAS_DIR / "scdl-subventions/exemples/exemple_valide.csv"
    r = client.post(f"/admin/inventaire/{world.slug}/donnees", data={"csrf_token": token},
                    files={"fichier": ("subventions.csv", example.read_bytes(), "text/csv")})
    assert r.status_code == 200, r.text
    assert "ressemble à un schéma" in r.text and "<code>scdl-subventions</code>" in r.text
    r = client.post(f"/admin/inventaire/{world.slug}/donnees", data={"csrf_token": token},
                    files={"fichier": ("comptages.csv", LIGERAC_COUNTERS_CSV.encode(), "text/csv")})
    assert "ressemble à un schéma" not in r.text


def test_api_reports_meanings_and_schema_suggestions(client: TestClient, db: Database) -> None:
    world = ligerac(db)
    with db.unit_of_work() as s:
        account = s.scalars(select(Account).where(Account.email == CDO)).one()
        _row, secret = accounts.create_api_token(s, account, "tests")
    auth = {"Authorization": f"Bearer {secret}"}
    url = f"/api/v1/datasets/{world.slug}/versions"
    example = (SCHEMAS_DIR / "scdl-subventions/exemples/exemple_valide.csv").read_bytes()
    r = client.post(url, headers=auth, data={"dry_run": "1"},
                    files={"file": ("subventions.csv", example, "text/csv")})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["schema_suggestions"][0]["schema"] == "scdl-subventions"
    meanings = {c["name"]: (c["meaning"] or {}).get("meaning") for c in body["plan"]["columns"]}
    assert meanings["idattribuant"] == "siret" and meanings["dateconvention"] == "date"
    r = client.post(url, headers=auth, files={"file": ("subventions.csv", example, "text/csv")})
    assert r.status_code == 201, r.text
    assert r.json()["version"]["meanings"]["idattribuant"]["label"] == "SIRET"
