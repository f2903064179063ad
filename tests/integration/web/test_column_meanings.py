"""The upload preview and the staff's publication page show each column's recognised meaning."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from patrimoine.core.db import Database
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
