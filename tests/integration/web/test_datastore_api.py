"""The datastore's JSON API: versions, records, facets, aggregates, exports, permissions."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from patrimoine.access import service as accounts
from patrimoine.access.models import AuditEvent, Role
from patrimoine.core.db import Database
from patrimoine.core.settings import Settings
from patrimoine.inventory.models import AccessLevel
from tests import factories as f
from tests.factories import (
    EQUIPEMENTS_SQL,
    POSITIONS,
)

BASE = "/api/v1/datasets"


@dataclass
class World:
    open_slug: str
    closed_slug: str


@pytest.fixture
def world(db: Database, settings: Settings) -> World:
    with db.unit_of_work() as s:
        ville = f.organisation(s)
        opened = f.dataset(s, ville, "Équipements sportifs", **f.PUBLIC)
        closed = f.dataset(s, ville, "Badges riverains", access_level=AccessLevel.RESTRICTED)
        f.parquet_version(settings, s, opened,
                          EQUIPEMENTS_SQL.replace("'Lyon', 300.0", "'Lyon', 301.0"))
        f.parquet_version(settings, s, opened, EQUIPEMENTS_SQL)
        f.parquet_version(settings, s, closed, EQUIPEMENTS_SQL)
        return World(opened.slug, closed.slug)


@pytest.fixture
def tokens(db: Database, world: World) -> tuple[str, str]:
    """API tokens of a DPO of the closed dataset's organisation and of an outsider."""
    with db.unit_of_work() as s:
        ville = f.organisation(s)
        autre = f.organisation(s, "Autre Ville")
        reader = f.account(s, "dpo@ville.fr", roles=[(ville, Role.DPO, None)])
        outsider = f.account(s, "agent@autre.fr", roles=[(autre, Role.ADMINISTRATOR, None)])
        _, reader_token = accounts.create_api_token(s, reader, "tests")
        _, outsider_token = accounts.create_api_token(s, outsider, "tests")
        return reader_token, outsider_token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_versions_listed_newest_first(client: TestClient, world: World) -> None:
    body = client.get(f"{BASE}/{world.open_slug}/versions").json()
    assert [v["number"] for v in body] == [2, 1]
    assert body[0]["columns"][0] == {"name": "nom", "type": "string", "source_name": None}
    assert body[0]["positions"] == POSITIONS


def test_records_of_latest_and_of_a_given_version(client: TestClient, world: World) -> None:
    latest = client.get(f"{BASE}/{world.open_slug}/records", params={"where": "commune:eq:Lyon"})
    assert latest.status_code == 200
    body = latest.json()
    assert body["version"] == 2 and body["total"] == 3
    assert body["rows"][0]["montant"] == 300.0 and body["rows"][0]["signe"] == "2024-02-01"
    old = client.get(f"{BASE}/{world.open_slug}/versions/1/records",
                     params={"where": "commune:eq:Lyon"}).json()
    assert old["version"] == 1 and old["rows"][0]["montant"] == 301.0
    missing = client.get(f"{BASE}/{world.open_slug}/versions/9/records")
    assert missing.status_code == 404 and "version 9" in missing.json()["error"]


def test_filters_sort_columns_search_and_cursor_over_http(client: TestClient,
                                                          world: World) -> None:
    url = f"{BASE}/{world.open_slug}/records"
    body = client.get(url, params=[("where", "montant:gte:10"), ("or", "commune:eq:Paris"),
                                   ("or", "commune:eq:Lyon"), ("sort", "-montant"),
                                   ("columns", "nom,montant"), ("limit", "2")]).json()
    assert body["columns"] == ["_row", "nom", "montant"]
    assert [r["_row"] for r in body["rows"]] == [5, 2] and body["total"] == 4
    nxt = client.get(url, params=[("where", "montant:gte:10"), ("or", "commune:eq:Paris"),
                                  ("or", "commune:eq:Lyon"), ("sort", "-montant"),
                                  ("columns", "nom,montant"), ("limit", "2"),
                                  ("cursor", body["next_cursor"])]).json()
    assert [r["_row"] for r in nxt["rows"]] == [9, 6] and nxt["next_cursor"] is None
    tree = json.dumps({"or": [{"column": "nom", "op": "contains", "value": "piscine"},
                              {"column": "actif", "op": "eq", "value": False}]})
    assert client.get(url, params={"filter": tree}).json()["total"] == 4
    assert client.get(url, params={"q": "SAINT etienne"}).json()["total"] == 2
    assert client.get(url, params={"bbox": "4.8,45.7,4.9,45.8"}).json()["total"] == 3
    assert client.get(url, params={"near": "45.4397,4.3872,1000"}).json()["total"] == 2


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"where": "inconnue:eq:1"}, "« inconnue » n'existe pas"),
        ({"sort": "montant; DROP TABLE records"}, "n'existe pas"),
        ({"columns": 'nom" FROM x --'}, "n'existe pas"),
        ({"where": "quantite:gt:dix"}, "nombre entier"),
        ({"filter": "{"}, "JSON"),
        ({"cursor": "abc"}, "Curseur"),
        ({"bbox": "1,2"}, "bbox"),
        ({"limit": "5000"}, "entre 1 et 1000"),
    ],
)
def test_bad_parameters_answer_422_in_french(client: TestClient, world: World,
                                             params: dict[str, str], message: str) -> None:
    r = client.get(f"{BASE}/{world.open_slug}/records", params=params)
    assert r.status_code == 422
    body = r.json()
    assert body["ok"] is False and message in body["error"] + " ".join(body["errors"])


def test_facets_and_aggregates_over_http(client: TestClient, world: World) -> None:
    facets = client.get(f"{BASE}/{world.open_slug}/facets",
                        params=[("facet", "commune"), ("facet", "actif"), ("size", "2")]).json()
    assert facets["total"] == 9
    assert facets["facets"][0] == {"column": "commune", "truncated": True,
                                   "values": [{"value": "Lyon", "count": 3},
                                              {"value": "Paris", "count": 2}]}
    agg = client.get(f"{BASE}/{world.open_slug}/versions/2/aggregate",
                     params=[("group_by", "signe:month"), ("metric", "count"),
                             ("metric", "sum:montant"), ("where", "signe:notnull")]).json()
    assert agg["columns"] == ["signe_month", "count", "sum_montant"]
    assert agg["rows"][0] == {"signe_month": "2023-12-01", "count": 1, "sum_montant": None}
    bad = client.get(f"{BASE}/{world.open_slug}/aggregate", params={"metric": "sum:commune"})
    assert bad.status_code == 422 and "numérique" in bad.json()["error"]


@pytest.mark.parametrize("fmt", ["csv", "json", "ndjson", "geojson", "parquet", "xlsx"])
def test_exports_in_every_format(client: TestClient, world: World, fmt: str) -> None:
    r = client.get(f"{BASE}/{world.open_slug}/export.{fmt}", params={"where": "commune:eq:Lyon"})
    assert r.status_code == 200, r.text
    assert r.headers["content-disposition"] == f'attachment; filename="{world.open_slug}-v2.{fmt}"'
    if fmt == "csv":
        assert len(list(csv.reader(io.StringIO(r.text)))) == 4
    elif fmt == "json":
        assert len(r.json()) == 3
    elif fmt == "ndjson":
        assert len(r.text.splitlines()) == 3
    elif fmt == "geojson":
        assert len(r.json()["features"]) == 3
    elif fmt == "parquet":
        assert pq.read_table(io.BytesIO(r.content)).num_rows == 3
    else:
        assert r.content[:2] == b"PK"


def test_export_with_format_parameter_and_semicolon(client: TestClient, world: World) -> None:
    r = client.get(f"{BASE}/{world.open_slug}/versions/1/export",
                   params={"format": "csv", "sep": ";", "columns": "nom,commune"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.text.splitlines()[0] == '"nom";"commune"'
    unknown = client.get(f"{BASE}/{world.open_slug}/export.pdf")
    assert unknown.status_code == 422 and "pdf" in unknown.json()["error"]


def test_etag_and_last_modified_give_304(client: TestClient, world: World) -> None:
    url = f"{BASE}/{world.open_slug}/export.csv"
    first = client.get(url)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(url, headers={"If-None-Match": f'W/{etag}, "autre"'}).status_code == 304
    assert client.get(url, headers={"If-None-Match": '"autre"'}).status_code == 200
    assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    earlier = format_datetime(datetime.now(UTC) - timedelta(days=400), usegmt=True)
    assert client.get(url, headers={"If-Modified-Since": earlier}).status_code == 200
    assert client.get(url + "?sep=;").headers["etag"] != etag
    records = client.get(f"{BASE}/{world.open_slug}/records")
    assert client.get(f"{BASE}/{world.open_slug}/records",
                      headers={"If-None-Match": records.headers["etag"]}).status_code == 304


def test_closed_dataset_hidden_from_anonymous_and_outsiders(
    client: TestClient, world: World, tokens: tuple[str, str], db: Database
) -> None:
    reader_token, outsider_token = tokens
    paths = ["records", "versions", "facets?facet=commune", "aggregate", "export.csv",
             "versions/1/records"]
    for path in paths:
        assert client.get(f"{BASE}/{world.closed_slug}/{path}").status_code == 404, path
        r = client.get(f"{BASE}/{world.closed_slug}/{path}",
                       headers=bearer(outsider_token))
        assert r.status_code == 404, path
    ok = client.get(f"{BASE}/{world.closed_slug}/records", headers=bearer(reader_token))
    assert ok.status_code == 200 and ok.json()["total"] == 9
    assert ok.headers["cache-control"].startswith("private")
    exported = client.get(f"{BASE}/{world.closed_slug}/export.csv",
                          headers=bearer(reader_token))
    assert exported.status_code == 200
    with db.unit_of_work() as s:
        events = s.scalars(select(AuditEvent).where(
            AuditEvent.target == f"dataset:{world.closed_slug}")).all()
        assert [e.action for e in events] == ["datastore.read", "datastore.export"]
        assert events[0].actor_label.startswith("dpo")
        opened = s.scalars(select(AuditEvent).where(
            AuditEvent.target == f"dataset:{world.open_slug}")).all()
        assert opened == []


def test_limits_over_http_are_the_settings(client: TestClient, world: World,
                                           settings: Settings) -> None:
    settings.max_aggregate_rows = 2
    settings.max_page_size = 5
    r = client.get(f"{BASE}/{world.open_slug}/aggregate", params={"group_by": "commune"})
    assert r.status_code == 422 and "plus de 2 lignes" in r.json()["error"]
    r = client.get(f"{BASE}/{world.open_slug}/records", params={"limit": 6})
    assert r.status_code == 422 and "entre 1 et 5" in r.json()["error"]
    settings.max_page_size = 1_500
    assert client.get(f"{BASE}/{world.open_slug}/records", params={"limit": 1_200}) \
        .status_code == 200


def test_dataset_without_version(client: TestClient, world: World, db: Database) -> None:
    with db.unit_of_work() as s:
        f.dataset(s, f.organisation(s), "Vide", **f.PUBLIC)
    r = client.get(f"{BASE}/vide/records")
    assert r.status_code == 404 and "aucune donnée publiée" in r.json()["error"]


def test_openapi_documents_the_datastore_in_french(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    for path in ("/api/v1/datasets/{slug}/records",
                 "/api/v1/datasets/{slug}/versions/{number}/records",
                 "/api/v1/datasets/{slug}/versions", "/api/v1/datasets/{slug}/facets",
                 "/api/v1/datasets/{slug}/versions/{number}/aggregate",
                 "/api/v1/datasets/{slug}/export.{fmt}",
                 "/api/v1/datasets/{slug}/versions/{number}/export"):
        assert path in spec["paths"], path
    records = spec["paths"]["/api/v1/datasets/{slug}/records"]["get"]
    assert "Opérateurs" in records["description"]
    names = {p["name"] for p in records["parameters"]}
    assert {"where", "or", "filter", "q", "bbox", "near", "sort", "columns", "limit", "offset",
            "cursor"} <= names
