"""Over HTTP, the whole-version CSV export is streamed once, then sent from the kept file
with the same bytes and the same validators; anything narrower is still streamed."""

from __future__ import annotations

from fastapi.testclient import TestClient

from patrimoine.core.db import Database
from patrimoine.core.settings import Settings
from tests import factories as f
from tests.factories import EQUIPEMENTS_SQL

BASE = "/api/v1/datasets"


def test_whole_csv_export_sent_again_from_the_kept_file(
    client: TestClient, db: Database, settings: Settings
) -> None:
    with db.unit_of_work() as s:
        dataset = f.dataset(s, f.organisation(s), "Équipements gardés",
                            **f.PUBLIC)
        f.parquet_version(settings, s, dataset, EQUIPEMENTS_SQL)
        slug = dataset.slug
    for sep in (",", ";"):
        url = f"{BASE}/{slug}/export.csv?sep={sep}"
        first = client.get(url)
        assert first.status_code == 200 and "content-length" not in first.headers
        kept = list((settings.data_dir / "cache" / "duckdb").glob("*-v*.export-*-csv.duckdb"))
        assert len(kept) == (1 if sep == "," else 2)
        again = client.get(url)
        assert again.status_code == 200 and again.content == first.content
        assert again.headers["content-length"] == str(len(first.content))
        for header in ("etag", "last-modified", "content-type", "content-disposition",
                       "cache-control"):
            assert again.headers[header] == first.headers[header], header
        assert client.get(url, headers={"If-None-Match": again.headers["etag"]}
                          ).status_code == 304
    lines = again.content.decode().splitlines()
    assert lines[0].startswith('"nom";"commune"') and "\"'=HYPERLINK(" in again.text
    filtered = client.get(f"{BASE}/{slug}/export.csv", params={"q": "lyon"})
    assert "content-length" not in filtered.headers
    assert len(filtered.text.splitlines()) == 4


def test_an_xlsx_export_is_the_same_bytes_each_time(
    client: TestClient, db: Database, settings: Settings
) -> None:
    import io
    import time

    import openpyxl

    with db.unit_of_work() as s:
        dataset = f.dataset(s, f.organisation(s), "Équipements tableur",
                            **f.PUBLIC)
        version = f.parquet_version(settings, s, dataset, EQUIPEMENTS_SQL)
        slug, published = dataset.slug, version.created_at
    url = f"{BASE}/{slug}/export.xlsx"
    first = client.get(url)
    time.sleep(1.1)  # xlsxwriter would otherwise stamp a later second
    again = client.get(url)
    assert first.status_code == again.status_code == 200
    assert first.content == again.content and first.headers["etag"] == again.headers["etag"]
    created = openpyxl.load_workbook(io.BytesIO(first.content)).properties.created
    assert created is not None and created.replace(tzinfo=None, microsecond=0) == \
        published.replace(tzinfo=None, microsecond=0)
