"""The CKAN-compatible API, driven by the `ckanapi` client (unmodified) against a real
`patrimoine serve` over the demo territory: every action and parameter, CKAN's error types,
and udata's CKAN harvester schema on every package."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import ckanapi
import pytest
import requests
from sqlalchemy import select

from patrimoine.access import service as accounts
from patrimoine.access.models import AuditEvent, Role
from patrimoine.bootstrap import Services
from patrimoine.core.settings import Settings
from patrimoine.core.text import fold
from patrimoine.interop import public
from patrimoine.inventory.models import AccessLevel, LifecycleStage, Organisation
from tests import factories as f
from tests.factories import DemoTerritory
from tests.support import server, udata_schema
from tests.support.postgres import free_port


@pytest.fixture(scope="module")
def live(standards_territory: DemoTerritory, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[tuple[DemoTerritory, str]]:
    """`patrimoine serve` over the shared territory, its public URL set to its own address."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = standards_territory.services.settings
    env = {"PATRIMOINE_DATA_DIR": str(settings.data_dir),
           "PATRIMOINE_DATABASE_URL": settings.resolved_database_url,
           "PATRIMOINE_SECRET_KEY": "test-secret-key", "PATRIMOINE_PUBLIC_URL": url}
    running = server.start(env, tmp_path_factory.mktemp("ckan") / "serve.log", port)
    try:
        yield standards_territory, running.url
    finally:
        server.stop(running)


@pytest.fixture(scope="module")
def api(live: tuple[DemoTerritory, str]) -> Iterator[ckanapi.RemoteCKAN]:
    with ckanapi.RemoteCKAN(live[1]) as remote:
        yield remote


@pytest.fixture(scope="module")
def api_get(live: tuple[DemoTerritory, str]) -> Iterator[ckanapi.RemoteCKAN]:
    with ckanapi.RemoteCKAN(live[1], get_only=True) as remote:
        yield remote


@pytest.fixture(scope="module")
def with_format(live: tuple[DemoTerritory, str]) -> dict[str, list[str]]:
    """Slugs of the public datasets downloadable in each format (label), sorted."""
    out: dict[str, list[str]] = {}
    # With the settings, versions never scanned for personal data are scanned now, as the
    # server does on its first read: the answer does not depend on which test ran first.
    services = live[0].services
    with services.db.unit_of_work() as s:
        for e in public.everything(s, services.settings):
            for fmt in e.formats:
                out.setdefault(public.FORMAT_LABELS[fmt], []).append(e.dataset.slug)
    return {k: sorted(v) for k, v in out.items()}


@pytest.fixture(scope="module")
def public_slugs(live: tuple[DemoTerritory, str]) -> list[str]:
    with live[0].services.db.session() as s:
        return sorted(e.dataset.slug for e in public.everything(s, live[0].services.settings))


def _resource(api: ckanapi.RemoteCKAN, territory: DemoTerritory, fmt: str = "CSV"
              ) -> dict[str, Any]:
    package = api.action.package_show(id=territory.trees.slug)
    return next(r for r in package["resources"] if r["format"] == fmt)


# ---------------------------------------------------------------- status, lists


def test_status_show_and_util_status(api: ckanapi.RemoteCKAN, live: tuple[DemoTerritory, str]
                                     ) -> None:
    status = api.action.status_show()
    assert status["ckan_version"].startswith("2.11")
    assert status["site_url"] == live[1]
    assert "datastore" in status["extensions"]
    with urllib.request.urlopen(f"{live[1]}/api/util/status") as r:
        assert json.loads(r.read())["ckan_version"] == status["ckan_version"]
    raw = requests.get(f"{live[1]}/api/3/action/status_show", timeout=10)
    body = raw.json()
    assert body["success"] is True and set(body) == {"help", "success", "result"}
    assert raw.headers["access-control-allow-origin"] == "*"
    preflight = requests.options(f"{live[1]}/api/3/action/package_search", timeout=10)
    assert preflight.status_code == 204
    assert "POST" in preflight.headers["access-control-allow-methods"]
    # The help link of every answer leads to a description of the action.
    described = requests.get(body["help"], timeout=10).json()
    assert described["success"] is True and "version" in described["result"]
    assert "resource_id" in api.action.help_show(name="datastore_search")
    with pytest.raises(ckanapi.NotFound):
        api.action.help_show(name="package_create")


def test_package_list_is_the_public_catalog(api: ckanapi.RemoteCKAN, api_get: Any,
                                            live: tuple[DemoTerritory, str],
                                            public_slugs: list[str]) -> None:
    territory = live[0]
    names = api.action.package_list()
    # Only datasets with data are exported (the demo inventory's other entries are not).
    assert names == public_slugs and len(names) >= 2
    for hidden in (territory.closed, territory.internal, territory.unpublished):
        assert hidden.slug not in names
    assert api_get.action.package_list(limit=1, offset=1) == public_slugs[1:2]


# ------------------------------------------------------------------ package_show


def test_package_show_satisfies_udatas_harvester_schema(api: ckanapi.RemoteCKAN,
                                                        public_slugs: list[str]) -> None:
    for name in public_slugs:
        package = api.action.package_show(id=name)
        assert udata_schema.problems(package) == [], name
        assert package["name"] == name and package["type"] == "dataset"


def test_package_show_content(api: ckanapi.RemoteCKAN, live: tuple[DemoTerritory, str]) -> None:
    territory, url = live
    trees = territory.trees
    package = api.action.package_show(id=trees.slug)
    assert api.action.package_show(id=package["id"]) == package
    assert api.action.package_show(id=trees.uid)["name"] == trees.slug
    assert package["license_id"] == "lov2" and package["isopen"] is True
    assert {t["name"] for t in package["tags"]} == {"arbres", "patrimoine arboré"}
    extras = {e["key"]: e["value"] for e in package["extras"]}
    assert extras["temporal_start"] == "2020-01-01" and extras["temporal_end"] == "2025-12-31"
    assert extras["frequency"] == "annual" and extras["spatial-text"] == "Ligérac"
    assert extras["uri"] == f"{url}/datasets/uid/{trees.uid}#dataset"
    formats = [r["format"] for r in package["resources"]]
    assert formats == ["CSV", "JSON", "NDJSON", "GeoJSON", "Parquet", "XLSX"]
    assert [r["position"] for r in package["resources"]] == list(range(6))
    csv = package["resources"][0]
    assert csv["url"] == f"{url}/datasets/uid/{trees.uid}/export.csv"
    assert csv["mimetype"] == "text/csv" and csv["datastore_active"] is True
    downloaded = requests.get(csv["url"], timeout=10)
    assert downloaded.status_code == 200 and "Platane" in downloaded.text
    assert package["organization"]["name"] == trees.organisation.slug
    budget = api.action.package_show(id=territory.budget.slug)
    assert budget["license_id"] == "odc-odbl"
    assert "GeoJSON" not in [r["format"] for r in budget["resources"]]
    with pytest.raises(ckanapi.NotFound):
        api.action.package_show(id=territory.closed.slug)
    with pytest.raises(ckanapi.NotFound):
        api.action.package_show(id=territory.closed.uid)
    with pytest.raises(ckanapi.ValidationError):
        api.action.package_show()


def test_the_ckanapi_command_dumps_and_searches(live: tuple[DemoTerritory, str],
                                                public_slugs: list[str],
                                                tmp_path: Path) -> None:
    """The `ckanapi` command line (dump in parallel workers, search) against the server."""
    url = live[1]
    bindir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": f"{bindir}:{os.environ.get('PATH', '')}"}
    command = str(Path(bindir) / "ckanapi")
    out = tmp_path / "datasets.jsonl"
    subprocess.run([command, "dump", "datasets", "--all", "-r", url, "-O", str(out), "-p", "2",
                    "-q"], env=env, check=True, capture_output=True, timeout=120)
    dumped = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(p["name"] for p in dumped) == public_slugs
    assert all(udata_schema.problems(p) == [] for p in dumped)
    found = subprocess.run([command, "search", "datasets", "fq=res_format:CSV", "-r", url],
                           env=env, check=True, capture_output=True, text=True, timeout=60)
    names = [json.loads(line)["name"] for line in found.stdout.splitlines()]
    assert live[0].trees.slug in names


# ---------------------------------------------------------------- package_search


def test_package_search_paging_and_defaults(api: ckanapi.RemoteCKAN, api_get: Any,
                                            public_slugs: list[str]) -> None:
    first = api.action.package_search()
    assert first["count"] == len(public_slugs) and len(first["results"]) == min(
        10, len(public_slugs))
    assert first["sort"] == "score desc, metadata_modified desc"
    seen: list[str] = []
    start = 0
    while True:
        page = api_get.action.package_search(rows=1, start=start, sort="name asc")
        if not page["results"]:
            break
        seen += [p["name"] for p in page["results"]]
        start += 1
    assert seen == public_slugs
    assert len(api.action.package_search(rows=5000)["results"]) == len(public_slugs)
    assert api.action.package_search(rows=0)["results"] == []
    with pytest.raises(ckanapi.ValidationError):
        api.action.package_search(rows="beaucoup")


def test_package_search_text_and_filters(api: ckanapi.RemoteCKAN, api_get: Any,
                                         live: tuple[DemoTerritory, str],
                                         with_format: dict[str, list[str]]) -> None:
    territory = live[0]
    trees = territory.trees
    word = trees.title.split()[0]
    found = api.action.package_search(q=word, rows=1000)
    assert trees.slug in [p["name"] for p in found["results"]]
    assert all(word.lower() in json.dumps(p, ensure_ascii=False).lower()
               for p in found["results"])
    org = trees.organisation.slug
    by_org = api.action.package_search(fq=f"organization:{org}", rows=1000)
    assert by_org["count"] > 0
    assert {p["organization"]["name"] for p in by_org["results"]} == {org}
    by_tag = api.action.package_search(fq='tags:"patrimoine arboré"')
    assert [p["name"] for p in by_tag["results"]] == [trees.slug]
    lov2 = api.action.package_search(fq="license_id:lov2", rows=1000)
    assert lov2["count"] > 0 and {p["license_id"] for p in lov2["results"]} == {"lov2"}
    odbl = api_get.action.package_search(fq="license_id:odc-odbl", rows=1000)
    assert {p["license_id"] for p in odbl["results"]} == {"odc-odbl"}
    geo = api.action.package_search(fq="res_format:GeoJSON", sort="name asc", rows=1000)
    assert [p["name"] for p in geo["results"]] == with_format["GeoJSON"]
    assert trees.slug in with_format["GeoJSON"]
    assert territory.budget.slug not in with_format["GeoJSON"]
    csv = api.action.package_search(fq="res_format:CSV", sort="name asc", rows=1000)
    assert [p["name"] for p in csv["results"]] == with_format["CSV"]
    assert {trees.slug, territory.budget.slug} <= set(with_format["CSV"])
    both = api.action.package_search(fq=f"organization:{org} res_format:CSV",
                                     fq_list=["license_id:lov2"], rows=1000)
    names = [p["name"] for p in both["results"]]
    assert trees.slug in names
    assert all(p["license_id"] == "lov2" and p["organization"]["name"] == org
               and "CSV" in [r["format"] for r in p["resources"]] for p in both["results"])
    excluded = api.action.package_search(fq=f"-organization:{org}", rows=1000)
    assert excluded["count"] + by_org["count"] == api.action.package_search()["count"]
    # udata's harvester filters with q="organization:x AND tags:y".
    harvested = api_get.action.package_search(q=f"organization:{org} AND tags:arbres",
                                              rows=1000)
    assert trees.slug in [p["name"] for p in harvested["results"]]
    assert api.action.package_search(q="zzzzintrouvable")["count"] == 0
    # What CKAN-to-CKAN harvesters send (ckanext-harvest): a date range, sorted by id.
    total = api.action.package_search(rows=0)["count"]
    recent = api.action.package_search(
        fq="+dataset_type:dataset metadata_modified:[2000-01-01T00:00:00Z TO *]",
        sort="id asc", rows=1000)
    assert recent["count"] == total
    ids = [p["id"] for p in recent["results"]]
    assert ids == sorted(ids)
    assert api.action.package_search(
        fq="metadata_modified:[* TO 2000-01-01T00:00:00Z]")["count"] == 0
    with pytest.raises(ckanapi.SearchQueryError):
        api.action.package_search(fq="couleur:bleu")


def test_package_search_sorts_and_facets(api: ckanapi.RemoteCKAN, api_get: Any,
                                         public_slugs: list[str],
                                         with_format: dict[str, list[str]]) -> None:
    names = [p["name"] for p in api.action.package_search(sort="name desc", rows=1000)["results"]]
    assert names == sorted(public_slugs, reverse=True)
    modified = [p["metadata_modified"] for p in api.action.package_search(
        sort="metadata_modified desc", rows=1000)["results"]]
    assert modified == sorted(modified, reverse=True)
    titles = [p["title"] for p in api.action.package_search(sort="title_string asc",
                                                            rows=1000)["results"]]
    assert len(titles) == len(public_slugs)
    result = api.action.package_search(
        **{"facet.field": ["organization", "tags", "license_id", "res_format"], "rows": 0})
    facets = result["facets"]
    assert sum(facets["organization"].values()) == result["count"]
    assert facets["res_format"] == {k: len(v) for k, v in with_format.items()}
    assert set(facets["license_id"]) <= {"lov2", "odc-odbl", "notspecified"}
    items = result["search_facets"]["organization"]["items"]
    assert {"name", "display_name", "count"} <= set(items[0])
    assert items[0]["display_name"] != items[0]["name"]
    limited = api_get.action.package_search(
        **{"facet.field": json.dumps(["tags"]), "facet.limit": 3, "rows": 0})
    assert len(limited["facets"]["tags"]) == 3
    assert len(limited["search_facets"]["tags"]["items"]) == 3
    with pytest.raises(ckanapi.SearchQueryError):
        api.action.package_search(sort="couleur asc")
    with pytest.raises(ckanapi.SearchQueryError):
        api.action.package_search(**{"facet.field": ["couleur"]})


# ------------------------------------------------------ organisations, tags, licences


def test_organizations(api: ckanapi.RemoteCKAN, api_get: Any,
                       live: tuple[DemoTerritory, str]) -> None:
    territory = live[0]
    names = api.action.organization_list()
    assert names == sorted(names) and territory.trees.organisation.slug in names
    full = api.action.organization_list(all_fields=True, limit=100)
    assert [o["name"] for o in full] == names
    counted = {o["name"]: o["package_count"] for o in full}
    total = api.action.package_search(rows=0)["count"]
    assert sum(counted.values()) == total
    by_count = api_get.action.organization_list(all_fields="true", sort="package_count desc")
    assert [o["package_count"] for o in by_count] == sorted(
        [o["package_count"] for o in by_count], reverse=True)
    assert api.action.organization_list(limit=2, offset=1) == names[1:3]
    org = territory.trees.organisation.slug
    shown = api.action.organization_show(id=org, include_datasets=True)
    assert shown["package_count"] == counted[org] == len(shown["packages"])
    assert all(p["organization"]["name"] == org for p in shown["packages"])
    assert api.action.organization_show(id=shown["id"])["name"] == org
    assert "packages" not in api.action.organization_show(id=org)
    with pytest.raises(ckanapi.NotFound):
        api.action.organization_show(id="nulle-part")


def test_tags_and_licences(api: ckanapi.RemoteCKAN, api_get: Any) -> None:
    tags = api.action.tag_list()
    assert "arbres" in tags and len(tags) == len(set(tags))
    assert api_get.action.tag_list(query="arbr") == [t for t in tags if "arbr" in t]
    full = api.action.tag_list(query="arbres", all_fields=True)
    assert {"id", "name", "display_name", "vocabulary_id"} <= set(full[0])
    with pytest.raises(ckanapi.NotFound):
        api.action.tag_list(vocabulary_id="inconnu")
    licences = {lic["id"]: lic for lic in api.action.license_list()}
    assert {"lov2", "odc-odbl", "notspecified"} <= set(licences)
    assert licences["lov2"]["url"].startswith("https://www.etalab.gouv.fr/")
    assert licences["lov2"]["od_conformance"] == "approved"


def test_resource_show(api: ckanapi.RemoteCKAN, live: tuple[DemoTerritory, str]) -> None:
    territory = live[0]
    package = api.action.package_show(id=territory.trees.slug)
    for resource in package["resources"]:
        assert api.action.resource_show(id=resource["id"]) == resource
        assert resource["package_id"] == package["id"]
    with pytest.raises(ckanapi.NotFound):
        api.action.resource_show(id="00000000-0000-0000-0000-000000000000")
    # The closed dataset has data, but its resources do not exist for the API.
    hidden = public.resource_uuid(territory.closed, "csv")
    with pytest.raises(ckanapi.NotFound):
        api.action.resource_show(id=hidden)
    with pytest.raises(ckanapi.NotFound):
        api.action.datastore_search(resource_id=hidden)


# ---------------------------------------------------------------- datastore_search


def test_datastore_search_basics(api: ckanapi.RemoteCKAN, api_get: Any,
                                 live: tuple[DemoTerritory, str]) -> None:
    territory, url = live
    rid = _resource(api, territory)["id"]
    result = api.action.datastore_search(resource_id=rid)
    assert result["total"] == 7 and result["total_was_estimated"] is False
    assert result["resource_id"] == rid and result["limit"] == 100 and result["offset"] == 0
    assert result["records_format"] == "objects"
    assert [f["id"] for f in result["fields"]][:3] == ["_id", "essence", "hauteur"]
    types = {f["id"]: f["type"] for f in result["fields"]}
    assert types["_id"] == "int" and types["essence"] == "text"
    assert types["hauteur"] == "numeric" and types["plantation"] == "date"
    assert [r["_id"] for r in result["records"]] == list(range(1, 8))
    assert result["records"][1]["hauteur"] == 12.5
    assert result["records"][0]["plantation"] == "1990-03-01"
    assert result["_links"]["start"].startswith("/api/3/action/datastore_search?")
    assert result["next_page"] is None
    # Every format's resource reads the same table.
    geo = _resource(api, territory, "GeoJSON")["id"]
    assert api.action.datastore_search(resource_id=geo)["records"] == result["records"]


def test_datastore_search_parameters(api: ckanapi.RemoteCKAN, api_get: Any,
                                     live: tuple[DemoTerritory, str]) -> None:
    territory = live[0]
    rid = _resource(api, territory)["id"]
    search = api.action.datastore_search
    platanes = search(resource_id=rid, filters={"essence": "Platane"})
    assert platanes["total"] == 3 and platanes["filters"] == {"essence": "Platane"}
    several = search(resource_id=rid, filters={"essence": ["Platane", "Chêne"]})
    assert several["total"] == 4
    by_get = api_get.action.datastore_search(resource_id=rid,
                                             filters=json.dumps({"essence": "Tilleul"}))
    assert by_get["total"] == 2
    text = search(resource_id=rid, q="ligerac")
    assert text["total"] == 4 and text["q"] == "ligerac"
    per_field = search(resource_id=rid, q={"commune": "belvoir"})
    assert [r["essence"] for r in per_field["records"]] == ["Platane"]
    fields = search(resource_id=rid, fields=["essence", "hauteur"])
    assert [f["id"] for f in fields["fields"]] == ["essence", "hauteur"]
    assert set(fields["records"][0]) == {"essence", "hauteur"}
    with_id = api_get.action.datastore_search(resource_id=rid, fields="_id,essence")
    assert set(with_id["records"][0]) == {"_id", "essence"}
    ordered = search(resource_id=rid, sort="hauteur desc")
    heights = [r["hauteur"] for r in ordered["records"]]
    assert heights == sorted(heights, reverse=True)
    two_keys = search(resource_id=rid, sort="essence, hauteur desc")
    assert [(r["essence"], r["hauteur"]) for r in two_keys["records"]][:3] == [
        ("Chêne", 25), ("Érable", 9), ("Platane", 23)]
    page = search(resource_id=rid, limit=2, offset=2)
    assert [r["_id"] for r in page["records"]] == [3, 4] and page["limit"] == 2
    no_total = search(resource_id=rid, include_total=False, limit=2)
    assert "total" not in no_total and len(no_total["records"]) == 2
    lists = search(resource_id=rid, records_format="lists", limit=1)
    assert lists["records"][0][:2] == [1, "Platane"]
    as_csv = search(resource_id=rid, records_format="csv", fields=["essence", "hauteur"],
                    limit=2)
    assert as_csv["records"] == "Platane,21\nTilleul,12.5\n"
    as_tsv = search(resource_id=rid, records_format="tsv", fields=["essence"], limit=1)
    assert as_tsv["records"] == "Platane\n"
    only_total = search(resource_id=rid, limit=0)
    assert only_total["records"] == [] and only_total["total"] == 7


def test_datastore_search_links_and_keyset_pages(api: ckanapi.RemoteCKAN,
                                                 live: tuple[DemoTerritory, str]) -> None:
    territory, url = live
    rid = _resource(api, territory)["id"]
    everything = api.action.datastore_search(resource_id=rid, sort="hauteur desc")["records"]
    # CKAN 2.11: follow _links.next until a page comes back empty.
    seen: list[Any] = []
    link = api.action.datastore_search(resource_id=rid, limit=3, sort="hauteur desc")[
        "_links"]["start"]
    link += "&offset=0"
    while True:
        body = requests.get(url + link, timeout=10).json()
        assert body["success"] is True
        if not body["result"]["records"]:
            break
        seen += body["result"]["records"]
        link = body["result"]["_links"]["next"]
    assert seen == everything
    # CKAN 2.12: next_page holds the parameters of the next request (keyset).
    pages: list[Any] = []
    params: dict[str, Any] | None = {"resource_id": rid, "limit": 3, "sort": "hauteur desc"}
    while params is not None:
        result = api.action.datastore_search(**params)
        pages += result["records"]
        params = result["next_page"]
    assert pages == everything


def test_datastore_search_errors(api: ckanapi.RemoteCKAN, live: tuple[DemoTerritory, str]) -> None:
    territory, url = live
    rid = _resource(api, territory)["id"]
    with pytest.raises(ckanapi.ValidationError) as missing:
        api.action.datastore_search()
    assert "resource_id" in missing.value.error_dict
    with pytest.raises(ckanapi.ValidationError):
        api.action.datastore_search(resource_id=rid, filters={"couleur": "bleu"})
    with pytest.raises(ckanapi.ValidationError):
        api.action.datastore_search(resource_id=rid, sort="couleur")
    with pytest.raises(ckanapi.ValidationError):
        api.action.datastore_search(resource_id=rid, limit=-1)
    with pytest.raises(ckanapi.NotFound):
        api.action.datastore_search(resource_id="00000000-0000-0000-0000-000000000000")
    raw = requests.post(f"{url}/api/3/action/datastore_search", json={"resource_id": rid,
                                                                      "sort": "couleur"},
                        timeout=10)
    assert raw.status_code == 409
    body = raw.json()
    assert body["success"] is False and body["error"]["__type"] == "Validation Error"
    assert "couleur" in body["error"]["message"]
    unknown = requests.get(f"{url}/api/3/action/package_delete", timeout=10)
    assert unknown.status_code == 400 and unknown.json()["success"] is False
    broken = requests.post(f"{url}/api/3/action/package_show", data="{pas du json",
                           headers={"content-type": "application/json"}, timeout=10)
    assert broken.status_code == 400
    not_found = requests.get(f"{url}/api/3/action/package_show", params={"id": "absent"},
                             timeout=10)
    assert not_found.status_code == 404
    assert not_found.json()["error"]["__type"] == "Not Found Error"


def test_hostile_searches_and_bodies_are_refused_in_french(live: tuple[DemoTerritory, str]
                                                           ) -> None:
    """A 16 KB q took the search grammar 1.7 s, a 120 KB one in a JSON body 64 s, and every
    other request waited: long parameters are refused before any parsing, bodies above the
    bound before they are read."""
    url = live[1] + "/api/3/action/package_search"
    sent = [requests.get(url, params={"q": "a" * 16_384}, timeout=30),
            requests.post(url, json={"q": "a" * 120_000}, timeout=30),
            requests.post(url, data={"fq": "tags:" + "b" * 120_000}, timeout=30)]
    for answer in sent:
        assert answer.status_code == 409
        error = answer.json()["error"]
        assert error["__type"] == "Validation Error" and "trop long" in error["message"]
    oversized = requests.post(url, json={"q": "arbres", "pad": "x" * 2_000_000}, timeout=30)
    assert oversized.status_code == 413
    assert "trop volumineux" in oversized.json()["error"]
    assert requests.get(url, params={"q": "arbres"}, timeout=30).json()["success"] is True


# ------------------------------------------------ groups, dumps and the other read actions


@pytest.fixture(scope="module")
def themes(live: tuple[DemoTerritory, str]) -> dict[str, list[str]]:
    """Theme -> slugs of its public datasets, from the database."""
    out: dict[str, list[str]] = {}
    with live[0].services.db.session() as s:
        for e in public.everything(s, live[0].services.settings):
            if e.dataset.theme and e.dataset.theme.strip():
                out.setdefault(e.dataset.theme.strip(), []).append(e.dataset.slug)
    return {k: sorted(v) for k, v in out.items()}


def _dump(url: str, thing: str, out: Path) -> list[dict[str, Any]]:
    bindir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bindir}:{os.environ.get('PATH', '')}"}
    subprocess.run([str(bindir / "ckanapi"), "dump", thing, "--all", "-r", url, "-O", str(out),
                    "-p", "2", "-q"], env=env, check=True, capture_output=True, timeout=120)
    return [json.loads(line) for line in out.read_text().splitlines()]


def test_ckanapi_dumps_groups_and_organizations(live: tuple[DemoTerritory, str],
                                                api: ckanapi.RemoteCKAN, tmp_path: Path,
                                                themes: dict[str, list[str]],
                                                public_slugs: list[str]) -> None:
    """`ckanapi dump groups|organizations --all`: every theme and organisation, each with
    the number of public datasets the database holds for it."""
    territory, url = live
    groups = _dump(url, "groups", tmp_path / "groups.jsonl")
    assert len(groups) == len(themes) >= 1
    assert sorted(g["title"] for g in groups) == sorted(themes)
    for group in groups:
        assert group["type"] == "group" and group["is_organization"] is False
        assert group["package_count"] == len(themes[group["title"]]), group["title"]
        assert "packages" not in group  # ckanapi asks include_datasets=False
    assert sorted(g["name"] for g in groups) == sorted(api.action.group_list())
    with territory.services.db.session() as s:
        per_org = Counter(e.dataset.organisation.slug
                          for e in public.everything(s, territory.services.settings))
        all_orgs = sorted(s.scalars(select(Organisation.slug)))
    organizations = _dump(url, "organizations", tmp_path / "organizations.jsonl")
    assert sorted(o["name"] for o in organizations) == all_orgs
    assert {o["name"]: o["package_count"] for o in organizations} == {
        slug: per_org[slug] for slug in all_orgs}
    assert sum(o["package_count"] for o in organizations) == len(public_slugs)
    datasets = _dump(url, "datasets", tmp_path / "datasets.jsonl")
    assert len(datasets) == len(public_slugs)
    for package in datasets:
        theme = next((t for t, slugs in themes.items() if package["name"] in slugs), None)
        assert [g["title"] for g in package["groups"]] == ([theme] if theme else [])


def test_site_read_and_groups(api: ckanapi.RemoteCKAN, api_get: Any,
                              live: tuple[DemoTerritory, str],
                              themes: dict[str, list[str]]) -> None:
    assert api.action.site_read() is True
    names = api.action.group_list()
    full = api.action.group_list(all_fields=True, limit=1000)
    assert [g["name"] for g in full] == names and len(names) == len(themes)
    titles = [fold(g["title"]) for g in full]
    assert titles == sorted(titles)  # CKAN's default order: title asc
    assert {g["title"]: g["package_count"] for g in full} == {
        t: len(s) for t, s in themes.items()}
    by_count = api_get.action.group_list(all_fields="true", sort="package_count desc")
    counts = [g["package_count"] for g in by_count]
    assert counts == sorted(counts, reverse=True)
    assert api.action.group_list(sort="name asc", limit=2, offset=1) == sorted(names)[1:3]
    assert len(api.action.group_list(all_fields=True)) == min(25, len(names))
    trees = live[0].trees
    group = next(g for g in full if trees.slug in themes[g["title"]])
    shown = api.action.group_show(id=group["name"], include_datasets=True)
    assert shown["package_count"] == len(shown["packages"]) == len(themes[group["title"]])
    assert [p["name"] for p in shown["packages"]] == themes[group["title"]]
    assert all(p["groups"][0]["name"] == group["name"] for p in shown["packages"])
    assert api.action.group_show(id=group["id"])["name"] == group["name"]
    assert "packages" not in api.action.group_show(id=group["name"])
    in_group = api.action.package_search(fq=f"groups:{group['name']}", rows=1000)
    assert sorted(p["name"] for p in in_group["results"]) == themes[group["title"]]
    with pytest.raises(ckanapi.NotFound):
        api.action.group_show(id="nulle-part")
    with pytest.raises(ckanapi.ValidationError):
        api.action.group_list(sort="couleur")


def test_current_package_list_with_resources(api: ckanapi.RemoteCKAN, api_get: Any,
                                             public_slugs: list[str]) -> None:
    everything = api.action.current_package_list_with_resources()
    assert sorted(p["name"] for p in everything) == public_slugs
    modified = [p["metadata_modified"] for p in everything]
    assert modified == sorted(modified, reverse=True)
    assert everything[0] == api.action.package_show(id=everything[0]["name"])
    assert any(p["resources"] for p in everything)
    page = api_get.action.current_package_list_with_resources(limit=5, offset=3)
    assert [p["name"] for p in page] == [p["name"] for p in everything[3:8]]
    second = api.action.current_package_list_with_resources(limit=5, page=2)
    assert [p["name"] for p in second] == [p["name"] for p in everything[5:10]]
    with pytest.raises(ckanapi.ValidationError):
        api.action.current_package_list_with_resources(limit=-1)


def test_tag_show_and_package_autocomplete(api: ckanapi.RemoteCKAN, api_get: Any,
                                           live: tuple[DemoTerritory, str]) -> None:
    trees = live[0].trees
    tag = api.action.tag_show(id="patrimoine arboré", include_datasets=True)
    assert tag["name"] == "patrimoine arboré" and tag["vocabulary_id"] is None
    assert [p["name"] for p in tag["packages"]] == [trees.slug]
    assert api.action.tag_show(id=tag["id"])["name"] == tag["name"]
    assert "packages" not in api.action.tag_show(id="arbres")
    with pytest.raises(ckanapi.NotFound):
        api.action.tag_show(id="introuvable")
    word = trees.title.split()[0]
    found = api.action.package_autocomplete(q=word[:4].upper())
    assert trees.slug in [f["name"] for f in found] and len(found) <= 10
    hit = next(f for f in found if f["name"] == trees.slug)
    assert set(hit) == {"name", "title", "match_field", "match_displayed"}
    assert hit["title"] == trees.title
    assert len(api_get.action.package_autocomplete(q="e", limit=1)) == 1
    assert api.action.package_autocomplete(q="zzzzintrouvable") == []
    with pytest.raises(ckanapi.ValidationError):
        api.action.package_autocomplete()
    closed = live[0].closed
    assert closed.slug not in [f["name"] for f in api.action.package_autocomplete(
        q=closed.title.split()[0], limit=1000)]


def test_recently_changed_packages_activity_list(api: ckanapi.RemoteCKAN,
                                                 live: tuple[DemoTerritory, str],
                                                 public_slugs: list[str]) -> None:
    territory = live[0]
    activities = api.action.recently_changed_packages_activity_list(limit=5)
    assert len(activities) == 5
    stamps = [a["timestamp"] for a in activities]
    assert stamps == sorted(stamps, reverse=True)
    assert {a["activity_type"] for a in activities} <= {"new package", "changed package"}
    assert all(a["data"]["package"]["id"] == a["object_id"] for a in activities)
    assert len({a["id"] for a in activities}) == len(activities)
    everything: list[dict[str, Any]] = []
    offset = 0
    while page := api.action.recently_changed_packages_activity_list(limit=5, offset=offset):
        everything += page
        offset += 5
    created = [a for a in everything if a["activity_type"] == "new package"]
    assert sorted(a["data"]["package"]["name"] for a in created) == public_slugs
    trees_versions = [a for a in everything if a["data"]["package"]["name"] ==
                      territory.trees.slug and a["data"]["what"].startswith("version/")]
    assert [a["data"]["what"] for a in trees_versions] == ["version/1"]
    assert {a["data"]["package"]["name"] for a in everything} == set(public_slugs)
    only_new = api.action.recently_changed_packages_activity_list(
        activity_types=["new package"], limit=100)
    assert {a["activity_type"] for a in only_new} == {"new package"}
    default = api.action.recently_changed_packages_activity_list()
    assert default == everything[:31]


# ---------------------------------------------------------------- datastore_info and SQL


def test_datastore_info(api: ckanapi.RemoteCKAN, live: tuple[DemoTerritory, str]) -> None:
    territory = live[0]
    rid = _resource(api, territory)["id"]
    info = api.action.datastore_info(id=rid)
    assert info["meta"]["count"] == 7 and info["meta"]["id"] == rid
    searched = api.action.datastore_search(resource_id=rid, limit=0)
    assert [(f["id"], f["type"]) for f in info["fields"]] == [
        (f["id"], f["type"]) for f in searched["fields"]]
    by_id = {f["id"]: f for f in info["fields"]}
    assert by_id["hauteur"]["type"] == "numeric"
    assert by_id["hauteur"]["schema"]["native_type"] == "double"
    assert by_id["plantation"]["type"] == "date"
    assert by_id["essence"]["info"]["label"]
    with pytest.raises(ckanapi.NotFound):
        api.action.datastore_info(id=public.resource_uuid(territory.closed, "csv"))
    with pytest.raises(ckanapi.ValidationError):
        api.action.datastore_info()


def test_datastore_search_sql_answers_like_datastore_search(
        api: ckanapi.RemoteCKAN, api_get: Any, live: tuple[DemoTerritory, str]) -> None:
    territory = live[0]
    rid = _resource(api, territory)["id"]
    rows = api.action.datastore_search(resource_id=rid)["records"]
    everything = api.action.datastore_search_sql(sql=f'SELECT * FROM "{rid}" ORDER BY _id')
    assert everything["records"] == rows
    assert "records_truncated" not in everything
    assert everything["sql"] == f'SELECT * FROM "{rid}" ORDER BY _id'
    per_species = api_get.action.datastore_search_sql(
        sql=f'SELECT essence, count(*) AS n, max(hauteur) AS plus_haut FROM "{rid}" '
            "GROUP BY essence ORDER BY n DESC, essence")
    expected = Counter(r["essence"] for r in rows)
    assert [(r["essence"], r["n"]) for r in per_species["records"]] == sorted(
        expected.items(), key=lambda i: (-i[1], i[0]))
    assert [f["type"] for f in per_species["fields"]] == ["text", "int8", "float8"]
    platanes = api.action.datastore_search_sql(
        sql=f"SELECT _id, plantation FROM \"{rid}\" t WHERE t.essence = 'Platane' "
            f'AND hauteur > (SELECT avg(hauteur) FROM "{rid}") ORDER BY 1')
    assert all(isinstance(r["plantation"], str) for r in platanes["records"])
    assert {r["_id"] for r in platanes["records"]} <= {r["_id"] for r in rows
                                                     if r["essence"] == "Platane"}
    # Another format's resource is the same table.
    geo = _resource(api, territory, "GeoJSON")["id"]
    assert api.action.datastore_search_sql(sql=f'SELECT count(*) AS n FROM "{geo}"')[
        "records"] == [{"n": 7}]
    # At most 1000 rows (the page size limit), and a flag saying there were more.
    crossed = api.action.datastore_search_sql(
        sql=f'SELECT a._id FROM "{rid}" a, "{rid}" b, "{rid}" c, "{rid}" d')
    assert len(crossed["records"]) == 1000 and crossed["records_truncated"] is True


SQL_REFUSED = [
    ("DELETE FROM \"{rid}\"", ckanapi.ValidationError, "SELECT"),
    ("INSERT INTO \"{rid}\" VALUES (1)", ckanapi.ValidationError, "SELECT"),
    ("UPDATE \"{rid}\" SET essence = 'x'", ckanapi.ValidationError, "SELECT"),
    ("DROP TABLE \"{rid}\"", ckanapi.ValidationError, "SELECT"),
    ("COPY (SELECT * FROM \"{rid}\") TO '/tmp/fuite.csv'", ckanapi.ValidationError, "SELECT"),
    ("ATTACH '/tmp/x.duckdb' AS x", ckanapi.ValidationError, "SELECT"),
    ("SET enable_external_access = true", ckanapi.ValidationError, "SELECT"),
    ("SELECT * FROM \"{rid}\"; SELECT 1", ckanapi.ValidationError, "une seule"),
    ("SELECT * FROM \"{rid}\"; DELETE FROM \"{rid}\"", ckanapi.ValidationError, "SELECT"),
    ("SELECT * FROM read_csv('/etc/passwd')", ckanapi.NotAuthorized, "read_csv"),
    ("SELECT * FROM read_parquet('/etc/*.parquet')", ckanapi.NotAuthorized, "read_parquet"),
    ("SELECT * FROM \"{rid}\" WHERE essence IN (SELECT file FROM glob('/*'))",
     ckanapi.NotAuthorized, "glob"),
    ("SELECT read_text('/etc/passwd') FROM \"{rid}\"", ckanapi.NotAuthorized, "read_text"),
    ("SELECT current_setting('threads') FROM \"{rid}\"", ckanapi.NotAuthorized,
     "current_setting"),
    ("SELECT * FROM query_table('records')", ckanapi.NotAuthorized, "query_table"),
    ("SELECT * FROM \"{rid}\" WHERE _id IN (SELECT _row FROM search_postings)",
     ckanapi.ValidationError, "exactement une ressource"),
    ("SELECT * FROM \"{rid}\", \"{other}\"", ckanapi.ValidationError,
     "exactement une ressource"),
    ("WITH r AS (SELECT * FROM \"{rid}\") SELECT * FROM r", ckanapi.ValidationError, "WITH"),
    ("SELECT * FROM main.\"{rid}\"", ckanapi.NotAuthorized, "n'est pas accessible"),
    ("SELECT couleur FROM \"{rid}\"", ckanapi.ValidationError, "couleur"),
    ("SELEC * FROM \"{rid}\"", ckanapi.ValidationError, "illisible"),
]


@pytest.mark.parametrize(("sql", "error", "said"), SQL_REFUSED)
def test_datastore_search_sql_refuses(api: ckanapi.RemoteCKAN, live: tuple[DemoTerritory, str],
                                      sql: str, error: type[Exception], said: str) -> None:
    territory = live[0]
    rid = _resource(api, territory)["id"]
    other = api.action.package_show(id=territory.budget.slug)["resources"][0]["id"]
    with pytest.raises(error) as refused:
        api.action.datastore_search_sql(sql=sql.format(rid=rid, other=other))
    assert said in json.dumps(refused.value.args, ensure_ascii=False)


def test_datastore_search_sql_errors_in_ckans_shape(live: tuple[DemoTerritory, str],
                                                    api: ckanapi.RemoteCKAN) -> None:
    territory, url = live
    rid = _resource(api, territory)["id"]
    endpoint = f"{url}/api/3/action/datastore_search_sql"
    write = requests.post(endpoint, json={"sql": f'DELETE FROM "{rid}"'}, timeout=10)
    assert write.status_code == 409
    body = write.json()
    assert body["success"] is False and body["error"]["__type"] == "Validation Error"
    assert body["error"]["query"] == [body["error"]["message"]]
    files = requests.get(endpoint, params={"sql": "SELECT * FROM read_csv('/etc/passwd')"},
                         timeout=10)
    assert files.status_code == 403 and files.json()["error"]["__type"] == "Authorization Error"
    assert "root:" not in files.text
    hidden = public.resource_uuid(territory.closed, "csv")
    closed = requests.get(endpoint, params={"sql": f'SELECT * FROM "{hidden}"'}, timeout=10)
    assert closed.status_code == 404 and "Dupont" not in closed.text
    missing = requests.get(endpoint, timeout=10)
    assert missing.status_code == 409 and missing.json()["error"]["sql"]
    # The server still answers: nothing was written, the data is unchanged.
    assert api.action.datastore_search(resource_id=rid)["total"] == 7


def test_a_malformed_fq_is_a_search_query_error(live: tuple[DemoTerritory, str],
                                                api: ckanapi.RemoteCKAN) -> None:
    url = live[1] + "/api/3/action/package_search"
    for fq in ("tags:(arbres", 'tags:"arbres', "name:", "tags:arbres)", "metadata_modified:[* TO"):
        answer = requests.get(url, params={"fq": fq}, timeout=10)
        assert answer.status_code == 409, fq
        error = answer.json()["error"]
        assert error["__type"] == "Search Query Error" and "illisible" in error["message"], fq
        with pytest.raises(ckanapi.SearchQueryError):
            api.action.package_search(fq=fq)
    assert api.action.package_search(fq='tags:"patrimoine arboré"')["count"] == 1


# ----------------------------------------------------- a caller's API token, and the audit


def test_an_api_token_shows_what_its_account_may_read_and_reads_are_logged(
        services: Services, settings: Settings, tmp_path: Path) -> None:
    """ckanapi sends its key raw (`Authorization` and `X-CKAN-API-Key`): the agents of an
    organisation then see its internal datasets, marked private, and read their rows, each
    read in the audit log; the anonymous public and the agents of another organisation do
    not even learn that they exist."""
    with services.db.unit_of_work() as s:
        ville, autre = f.organisation(s), f.organisation(s, "Autre Ville")
        internal = f.dataset(s, ville, "Annuaire des équipements", theme="Sport",
                             access_level=AccessLevel.INTERNAL,
                             lifecycle_stage=LifecycleStage.PUBLISHED)
        f.parquet_version(settings, s, internal, f.EQUIPEMENTS_SQL)
        slug, rid = internal.slug, public.resource_uuid(internal, "csv")
        agent = f.account(s, "agent@ville.fr", roles=[(ville, Role.AGENT, None)])
        stranger = f.account(s, "agent@autre.fr", roles=[(autre, Role.AGENT, None)])
        agent_id = agent.id
        token = accounts.create_api_token(s, agent, "ckan")[1]
        stranger_token = accounts.create_api_token(s, stranger, "ckan")[1]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    running = server.start({"PATRIMOINE_DATA_DIR": str(settings.data_dir),
                            "PATRIMOINE_DATABASE_URL": settings.resolved_database_url,
                            "PATRIMOINE_SECRET_KEY": "test-secret-key",
                            "PATRIMOINE_PUBLIC_URL": url}, tmp_path / "serve.log", port)
    try:
        sql = f'SELECT commune, count(*) AS n FROM "{rid}" GROUP BY commune ORDER BY commune'
        with ckanapi.RemoteCKAN(url) as anonymous, \
                ckanapi.RemoteCKAN(url, apikey=stranger_token) as other:
            for remote in (anonymous, other):
                assert slug not in remote.action.package_list()
                assert remote.action.group_list() == []
                for action, params in (("package_show", {"id": slug}),
                                       ("datastore_search", {"resource_id": rid}),
                                       ("datastore_info", {"id": rid}),
                                       ("datastore_search_sql", {"sql": sql})):
                    with pytest.raises(ckanapi.NotFound):
                        remote.call_action(action, params)
        with ckanapi.RemoteCKAN(url, apikey=token) as remote:
            assert remote.action.package_list() == [slug]
            package = remote.action.package_show(id=slug)
            assert package["private"] is True and package["groups"][0]["title"] == "Sport"
            assert remote.action.group_show(id="sport")["package_count"] == 1
            rows = remote.action.datastore_search(resource_id=rid)["records"]
            assert len(rows) == remote.action.datastore_info(id=rid)["meta"]["count"] > 0
            counted = remote.action.datastore_search_sql(sql=sql)["records"]
            assert sum(r["n"] for r in counted) == len(rows)
        with ckanapi.RemoteCKAN(url, apikey="ptk_inconnu") as wrong:
            with pytest.raises(ckanapi.NotAuthorized):
                wrong.action.package_list()
        bearer = requests.get(f"{url}/api/3/action/datastore_info", params={"id": rid},
                              headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert bearer.status_code == 200
    finally:
        server.stop(running)
    with services.db.session() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.target == f"dataset:{slug}")
                           .order_by(AuditEvent.id)).all()
    assert [(e.actor_id, e.action, e.details["path"]) for e in events] == [
        (agent_id, "ckan.datastore_search", "/api/action/datastore_search"),
        (agent_id, "ckan.datastore_info", "/api/action/datastore_info"),
        (agent_id, "ckan.datastore_search_sql", "/api/action/datastore_search_sql"),
        (agent_id, "ckan.datastore_info", "/api/3/action/datastore_info"),
    ]
    assert parse_qs(events[2].details["query"])["sql"] == [sql]
